/**
 * Differential conformance, SASL DIGEST-MD5: Apache ZooKeeper 3.8 configured as its docs say
 * (a JAAS file with a "Server" section of user_<name>="<password>" options, and
 * authProvider.1=SASLAuthenticationProvider) against `zk-elect server --sasl-users` with the
 * same file. A raw client runs the exchange (test/support/sasl-digest-client.ts), so the
 * transcript shows every SASL reply: the challenge's directives (the nonce is random on both),
 * the rspauth, AUTHFAILED with its null token and the closed connection, and what the `sasl`
 * identity may then do under ACLs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDirectives } from '../../src/server/auth/digest-md5.js';
import { trackDir } from '../../src/launcher/reaper.js';
import { startZooKeeper } from '../support/apache-zookeeper.js';
import { TEST_HEAP } from '../support/local-zookeeper.js';
import { CREATOR_ALL_ACL, CreateMode, OpCode, Perm, RawClient, type RawReply } from '../support/raw-client.js';
import { answerChallenge } from '../support/sasl-digest-client.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { conformanceSuite, SERVER_OPTIONS, type Ctx } from './framework.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-sasl-'));
trackDir(dir);
const JAAS = path.join(dir, 'jaas.conf');
fs.writeFileSync(JAAS, `// the users DIGEST-MD5 logins may use
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_bob="bob-secret"
  user_carol="carol-secret";
};
`);

const { scenario } = conformanceSuite('sasl', {
  apache: () => startZooKeeper({
    ...SERVER_OPTIONS, nodes: 1, controllable: true, localOnly: true,
    zooCfg: { 'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider' },
    jvmFlags: [...TEST_HEAP, `-Djava.security.auth.login.config=${JAAS}`],
  }),
  ours: () => startZkElectServer({ ...SERVER_OPTIONS, nodes: 1, serverArgs: ['--sasl-users', JAAS] }),
});

let xid = 100;
const sasl = (c: RawClient, token: Buffer | null): Promise<RawReply<{ token: Buffer | null }>> =>
  c.send({ kind: 'sasl', xid: xid++, type: OpCode.sasl, body: { token } });

/** The challenge's directives with the (random) nonce replaced by its shape. */
function challengeShape(reply: RawReply<{ token: Buffer | null }>): unknown {
  const token = reply.body?.token;
  if (!token) return { err: reply.errName, token: token === null ? null : undefined };
  const d = parseDirectives(token.toString('utf8'));
  if (!d) return { err: reply.errName, unparsable: token.toString('utf8') };
  const nonce = d.get('nonce') ?? '';
  return { err: reply.errName, zxid: String(reply.zxid), directives: [...d.keys()], values: { ...Object.fromEntries(d), nonce: nonce.length >= 16 ? 'N' : nonce } };
}

/** A full login as `user`; records each step under `label`. */
async function login(t: Ctx, label: string, c: RawClient, user: string, password: string): Promise<void> {
  const challenge = await sasl(c, Buffer.alloc(0));
  t.note(`${label}: challenge`, challengeShape(challenge));
  if (!challenge.body?.token) return;
  const answer = answerChallenge(challenge.body.token, user, password);
  const r = await sasl(c, answer.token);
  const token = r.body?.token;
  t.note(`${label}: response`, { err: r.errName, zxid: String(r.zxid), rspauthValid: token ? token.toString() === `rspauth=${answer.rspauth}` : token });
}

scenario('a DIGEST-MD5 login: challenge, rspauth, the sasl identity in whoAmI and in ACLs', async (t) => {
  const r = t.root;
  const bob = await t.raw();
  await login(t, 'bob', bob, 'bob', 'bob-secret');
  t.rec('whoAmI', await bob.whoAmI());
  t.rec('create with CREATOR_ALL_ACL', await bob.create(`${r}/mine`, 'v', CreateMode.PERSISTENT, CREATOR_ALL_ACL));
  t.rec('getACL', await bob.getACL(`${r}/mine`));
  t.rec('create with an explicit sasl:carol ACL', await bob.create(`${r}/carols`, 'c', CreateMode.PERSISTENT, [{ perms: Perm.ALL, id: { scheme: 'sasl', id: 'carol' } }]));
  t.rec('bob reads carol\'s node', await bob.getData(`${r}/carols`));
  t.rec('a sasl ACL with a malformed Kerberos name', await bob.create(`${r}/bad`, null, CreateMode.PERSISTENT, [{ perms: Perm.ALL, id: { scheme: 'sasl', id: 'a@b@c' } }]));
  t.rec('a sasl ACL with a full Kerberos name', await bob.create(`${r}/krb`, null, CreateMode.PERSISTENT, [{ perms: Perm.ALL, id: { scheme: 'sasl', id: 'bob/host@REALM' } }]));
  const carol = await t.raw();
  await login(t, 'carol', carol, 'carol', 'carol-secret');
  t.rec('carol reads her node', await carol.getData(`${r}/carols`));
  t.rec('carol reads bob\'s node', await carol.getData(`${r}/mine`));
  const stranger = await t.raw();
  t.rec('a session without SASL reads bob\'s node', await stranger.getData(`${r}/mine`));
  t.rec('addAuth digest too', await bob.auth('digest', 'bob:pw'));
  t.rec('CREATOR_ALL_ACL with a sasl and a digest identity', await bob.create(`${r}/both`, null, CreateMode.PERSISTENT, CREATOR_ALL_ACL));
  t.rec('getACL of it', await bob.getACL(`${r}/both`));
  t.rec('whoAmI with both', await bob.whoAmI());
  const again = await sasl(bob, Buffer.alloc(0));
  t.note('a SASL token after the login completed', { err: again.errName });
  await bob.waitClosed(3000).catch(() => undefined);
  t.note('connection closed after it', bob.closed);
});

scenario('failed logins: wrong password, unknown user, an initial response, a null token; addAuth sasl', async (t) => {
  const wrong = await t.raw();
  const ch = await sasl(wrong, Buffer.alloc(0));
  const bad = answerChallenge(ch.body!.token!, 'bob', 'not-the-password');
  const r = await sasl(wrong, bad.token);
  t.note('wrong password', { err: r.errName, zxid: String(r.zxid), token: r.body?.token ?? null });
  await wrong.waitClosed(3000).catch(() => undefined);
  t.note('connection closed after the wrong password', wrong.closed);
  t.rec('a request after it', await wrong.exists('/'));

  const unknown = await t.raw();
  const ch2 = await sasl(unknown, Buffer.alloc(0));
  const r2 = await sasl(unknown, answerChallenge(ch2.body!.token!, 'mallory', 'x').token);
  t.note('unknown user', { err: r2.errName });
  await unknown.waitClosed(3000).catch(() => undefined);
  t.note('connection closed after the unknown user', unknown.closed);

  const initial = await t.raw();
  const r3 = await sasl(initial, Buffer.from('username="bob"'));
  t.note('a non-empty first token', challengeShape(r3));
  await initial.waitClosed(3000).catch(() => undefined);
  t.note('connection closed after it', initial.closed);

  const nul = await t.raw();
  const r4 = await sasl(nul, null);
  t.note('a null token', { err: r4.errName });

  const garbage = await t.raw();
  await sasl(garbage, Buffer.alloc(0));
  const r5 = await sasl(garbage, Buffer.from('this is not a digest-response'));
  t.note('a malformed response', { err: r5.errName });
  await garbage.waitClosed(3000).catch(() => undefined);
  t.note('connection closed after it', garbage.closed);

  const other = await t.raw();
  t.rec('addAuth with the sasl scheme', await other.auth('sasl', 'bob'));
  await other.waitClosed(3000).catch(() => undefined);
  t.note('connection closed after it', other.closed);

  const fine = await t.raw();
  t.rec('an unrelated session still works', await fine.exists('/'));
});
