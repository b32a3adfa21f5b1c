/**
 * The DIGEST-MD5 server (RFC 2831, qop=auth) and the JAAS user list, without a server: RFC
 * 2831's own example exchange, ZooKeeper's realm and digest-uri, and every way a login fails.
 * Interoperability with real clients is tested end to end (kazoo's pure-sasl in
 * test/integration/kazoo.test.ts, Apache's server in test/conformance/sasl.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DigestMd5Server, parseDirectives } from '../../src/server/auth/digest-md5.js';
import { JaasError, parseJaasUsers } from '../../src/server/auth/jaas.js';
import { answerChallenge } from '../support/sasl-digest-client.js';

const users = new Map([['bob', 'bob-secret'], ['émile', 'pâss'], ['zoë', 'пароль']]);

function login(user: string, password: string, server = new DigestMd5Server(users, 'nonce-0123456789abcdef')): { step: ReturnType<DigestMd5Server['evaluate']>; rspauth: string } {
  const challenge = server.evaluate(Buffer.alloc(0));
  assert.equal(challenge.kind, 'challenge');
  const answer = answerChallenge((challenge as { token: Buffer }).token, user, password);
  return { step: server.evaluate(answer.token), rspauth: answer.rspauth };
}

describe('DIGEST-MD5 server', () => {
  it("RFC 2831's example: response d388dad9... is accepted, rspauth is ea40f603...", () => {
    const s = new DigestMd5Server(new Map([['chris', 'secret']]), 'OA6MG9tEQGm2hh', 'elwood.innosoft.com', 'imap/elwood.innosoft.com');
    assert.equal(s.evaluate(Buffer.alloc(0)).kind, 'challenge');
    const response = 'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth';
    const step = s.evaluate(Buffer.from(response));
    assert.deepEqual(step, { kind: 'success', token: Buffer.from('rspauth=ea40f60335c427b5527b84dbabcdfffd'), authorizationId: 'chris' });
    assert.equal(s.complete, true);
  });
  it("ZooKeeper's challenge: realm zk-sasl-md5, the nonce, charset, md5-sess (qop auth is the default, left out)", () => {
    const c = new DigestMd5Server(users, 'abcdefgh12345678').evaluate(Buffer.alloc(0));
    assert.deepEqual(c, { kind: 'challenge', token: Buffer.from('realm="zk-sasl-md5",nonce="abcdefgh12345678",charset=utf-8,algorithm=md5-sess') });
  });
  it('accepts the right password (non-ASCII names hashed as RFC 2831 says) and proves it knows it too', () => {
    for (const [u, p] of users) {
      const { step, rspauth } = login(u, p);
      assert.equal(step.kind, 'success', u);
      assert.equal(step.kind === 'success' && step.token.toString(), `rspauth=${rspauth}`);
      assert.equal(step.kind === 'success' && step.authorizationId, u);
    }
  });
  it('refuses a wrong password, an unknown user, and the exchange once it is over', () => {
    assert.deepEqual(login('bob', 'nope').step, { kind: 'failure', reason: 'wrong password' });
    assert.deepEqual(login('mallory', 'bob-secret').step, { kind: 'failure', reason: 'no such user mallory' });
    const s = new DigestMd5Server(users, 'nonce-0123456789abcdef');
    assert.equal(login('bob', 'bob-secret', s).step.kind, 'success');
    assert.equal(s.evaluate(Buffer.alloc(0)).kind, 'failure');
  });
  it('refuses a response bound to another nonce, count, qop, digest-uri or realm, or malformed', () => {
    const tamper = (f: (text: string) => string) => {
      const s = new DigestMd5Server(users, 'nonce-0123456789abcdef');
      const c = s.evaluate(Buffer.alloc(0)) as { token: Buffer };
      const good = answerChallenge(c.token, 'bob', 'bob-secret').token.toString();
      return s.evaluate(Buffer.from(f(good))).kind;
    };
    assert.equal(tamper((t) => t), 'success');
    assert.equal(tamper((t) => t.replace('nonce="nonce-0123456789abcdef"', 'nonce="other-nonce-000000"')), 'failure');
    assert.equal(tamper((t) => t.replace('nc=00000001', 'nc=00000002')), 'failure');
    assert.equal(tamper((t) => t.replace('qop=auth', 'qop=auth-conf')), 'failure');
    assert.equal(tamper((t) => t.replace('zookeeper/zk-sasl-md5', 'zookeeper/elsewhere')), 'failure');
    assert.equal(tamper((t) => t.replace('realm="zk-sasl-md5"', 'realm="other"')), 'failure');
    assert.equal(tamper((t) => t.replace(/response=[0-9a-f]+/, 'response=00000000000000000000000000000000')), 'failure');
    assert.equal(tamper((t) => t.replace(/,response=[0-9a-f]+/, '')), 'failure');
    assert.equal(tamper((t) => `${t},username="bob"`), 'failure'); // a repeated directive
    assert.equal(tamper(() => 'username="bob'), 'failure'); // unterminated quote
    assert.equal(tamper(() => 'x'.repeat(5000)), 'failure');
  });
  it('parses directives: quoting, escapes, spaces, case-insensitive keys', () => {
    assert.deepEqual(Object.fromEntries(parseDirectives(' Realm = "a\\"b" , nonce=x ,,qop="auth"')!), { realm: 'a"b', nonce: 'x', qop: 'auth' });
    assert.equal(parseDirectives('a=b c=d'), undefined);
    assert.equal(parseDirectives('=b'), undefined);
  });
});

describe('JAAS user list', () => {
  it("reads the Server section's user_<name> options, as ZooKeeper's SaslServerCallbackHandler does", () => {
    const text = `/* ZooKeeper server */
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
     user_super="admin secret"   // with a space
     user_bob="b\\"ob";
};
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="b";
};
`;
    assert.deepEqual([...parseJaasUsers(text)], [['super', 'admin secret'], ['bob', 'b"ob']]);
  });
  it('refuses a malformed file with the line it fails on, and a file with no users', () => {
    const refuses = (text: string, re: RegExp) => assert.throws(() => parseJaasUsers(text), (e: unknown) => e instanceof JaasError && re.test(e.message));
    refuses('Server {\n  Mod required\n  user_bob="x"\n};', /expected ';'/);
    refuses('Server {\n  Mod mandatory user_bob="x";\n};', /line 2: 'mandatory' is not a control flag/);
    refuses('Server {\n  Mod required user_bob="x;\n};', /unterminated quoted value/);
    refuses('Client { Mod required user_bob="x"; };', /no 'Server' section/);
    refuses('Server { Mod required username="bob"; };', /no user_<name>/);
  });
});
