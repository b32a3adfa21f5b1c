/**
 * Differential conformance, access control: world/digest/auth/ip schemes, NOAUTH on every
 * operation, INVALIDACL, getACL masking, setACL versions, addAuth (C client and raw),
 * AUTHFAILED, whoAmI, and watch delivery across ACLs.
 */
import { createHash } from 'node:crypto';
import { conformanceSuite } from './framework.js';
import { CREATOR_ALL_ACL, CreateMode, OPEN_ACL_UNSAFE, Perm, READ_ACL_UNSAFE } from '../support/raw-client.js';
import type { ACL } from '../../src/protocol/index.js';

const { scenario } = conformanceSuite('acl');

const digestOf = (userPassword: string): string =>
  `${userPassword.split(':')[0]}:${createHash('sha1').update(userPassword).digest('base64')}`;
const digest = (perms: number, userPassword: string): ACL => ({ perms, id: { scheme: 'digest', id: digestOf(userPassword) } });
const world = (perms: number): ACL => ({ perms, id: { scheme: 'world', id: 'anyone' } });
const ip = (perms: number, addr: string): ACL => ({ perms, id: { scheme: 'ip', id: addr } });

// The C binding (npm zookeeper 7.x) crashes the process on a failed get_acl (its completion
// frees a NULL ACL vector), so getACL always goes through a raw client with the same auth.
scenario('digest ACLs with addAuth through the C client, getACL masking', async (t) => {
  const owner = await t.native();
  const stranger = await t.native();
  const rawOwner = await t.raw();
  const rawStranger = await t.raw();
  const r = t.root;
  t.recN('C addAuth digest', await owner.addAuth('digest', 'alice:secret'));
  t.rec('raw addAuth digest', await rawOwner.auth('digest', 'alice:secret'));
  t.recN('create', await owner.create(`${r}/n`, 'private', CreateMode.PERSISTENT));
  t.recN('setAcl: alice all, world create only', await owner.setAcl(`${r}/n`, -1, [
    { perm: Perm.ALL, scheme: 'digest', auth: digestOf('alice:secret') },
    { perm: Perm.CREATE, scheme: 'world', auth: 'anyone' },
  ]));
  t.recN('owner get', await owner.get(`${r}/n`));
  t.rec('owner getACL', await rawOwner.getACL(`${r}/n`));
  t.recN('stranger get', await stranger.get(`${r}/n`));
  t.recN('stranger set', await stranger.set(`${r}/n`, 'x', -1));
  t.recN('stranger getChildren', await stranger.getChildren(`${r}/n`));
  t.recN('stranger create child (world has CREATE)', await stranger.create(`${r}/n/kid`, '', CreateMode.PERSISTENT));
  t.recN('stranger delete child (no DELETE)', await stranger.delete(`${r}/n/kid`, -1));
  t.rec('stranger getACL (neither READ nor ADMIN)', await rawStranger.getACL(`${r}/n`));
  t.recN('stranger setAcl', await stranger.setAcl(`${r}/n`, -1, [{ perm: Perm.ALL, scheme: 'world', auth: 'anyone' }]));
  t.recN('owner gives world READ', await owner.setAcl(`${r}/n`, 1, [
    { perm: Perm.ALL, scheme: 'digest', auth: digestOf('alice:secret') },
    { perm: Perm.CREATE | Perm.READ, scheme: 'world', auth: 'anyone' },
  ]));
  t.rec('stranger getACL with READ but no ADMIN (digest ids masked)', await rawStranger.getACL(`${r}/n`));
  t.recN('stranger addAuth wrong password', await stranger.addAuth('digest', 'alice:wrong'));
  t.rec('raw stranger addAuth wrong password', await rawStranger.auth('digest', 'alice:wrong'));
  t.recN('stranger set after wrong password', await stranger.set(`${r}/n`, 'x', -1));
  t.recN('stranger addAuth right password', await stranger.addAuth('digest', 'alice:secret'));
  t.rec('raw stranger addAuth right password', await rawStranger.auth('digest', 'alice:secret'));
  t.recN('stranger set after right password', await stranger.set(`${r}/n`, 'x', -1));
  t.rec('stranger getACL unmasked', await rawStranger.getACL(`${r}/n`));
  t.recN('stranger delete child now', await stranger.delete(`${r}/n/kid`, -1));
  t.recN('setAcl with a stale aversion', await owner.setAcl(`${r}/n`, 0, [{ perm: Perm.READ, scheme: 'world', auth: 'anyone' }]));
  t.recN('setAcl with the right aversion', await owner.setAcl(`${r}/n`, 2, [{ perm: Perm.READ | Perm.ADMIN, scheme: 'world', auth: 'anyone' }]));
  t.rec('getACL after', await rawOwner.getACL(`${r}/n`));
  t.recN('C get_acl on a readable node', await owner.getAcl(`${r}/n`));
});

scenario('world permissions one bit at a time: which op needs which permission', async (t) => {
  const setup = await t.raw();
  const c = await t.raw();
  const r = t.root;
  const perms: Array<[string, number]> = [['none-but-admin', Perm.ADMIN], ['read', Perm.READ], ['write', Perm.WRITE], ['create', Perm.CREATE], ['delete', Perm.DELETE]];
  for (const [name, p] of perms) {
    const n = `${r}/${name}`;
    await setup.create(n, name);
    await setup.create(`${n}/victim`, 'v');
    t.rec(`setACL ${name}`, await setup.setACL(n, [world(p)]));
    t.rec(`${name}: getData`, await c.getData(n));
    // exists on a node without READ: see the scenario at the end of this file.
    if (p & Perm.READ) t.rec(`${name}: exists`, await c.exists(n));
    t.rec(`${name}: getChildren`, await c.getChildren(n));
    t.rec(`${name}: getChildren2`, await c.getChildren2(n));
    t.rec(`${name}: getAllChildrenNumber`, await c.getAllChildrenNumber(n));
    t.rec(`${name}: getACL`, await c.getACL(n));
    t.rec(`${name}: setData`, await c.setData(n, 'x'));
    t.rec(`${name}: create child`, await c.create(`${n}/new`));
    t.rec(`${name}: create sequential child`, await c.create(`${n}/seq-`, null, CreateMode.PERSISTENT_SEQUENTIAL));
    t.rec(`${name}: delete child`, await c.delete(`${n}/victim`));
    t.rec(`${name}: delete missing child`, await c.delete(`${n}/missing`));
    t.rec(`${name}: setACL`, await c.setACL(n, [world(p)]));
    t.rec(`${name}: sync`, await c.sync(n));
    t.rec(`${name}: getEphemerals`, await c.getEphemerals(n));
    t.rec(`${name}: getData watch flag`, await c.getData(n, true));
    t.rec(`${name}: addWatch`, await c.addWatch(n, 0));
  }
  // Deleting a node needs DELETE on its parent, not on itself.
  await setup.create(`${r}/p`);
  t.rec('leaf with no permissions at all', await setup.create(`${r}/p/leaf`, 'x', CreateMode.PERSISTENT, [world(0)]));
  t.rec('getData on it', await c.getData(`${r}/p/leaf`));
  t.rec('delete it (parent allows)', await c.delete(`${r}/p/leaf`));
});

scenario('the auth scheme, INVALIDACL and malformed ACLs', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('CREATOR_ALL_ACL without any auth', await c.create(`${r}/a`, null, CreateMode.PERSISTENT, CREATOR_ALL_ACL));
  t.rec('empty ACL', await c.create(`${r}/b`, null, CreateMode.PERSISTENT, []));
  t.rec('unknown scheme', await c.create(`${r}/c`, null, CreateMode.PERSISTENT, [{ perms: 31, id: { scheme: 'sasl', id: 'x' } }]));
  t.rec('world with another id', await c.create(`${r}/d`, null, CreateMode.PERSISTENT, [{ perms: 31, id: { scheme: 'world', id: 'someone' } }]));
  t.rec('digest without a colon', await c.create(`${r}/e`, null, CreateMode.PERSISTENT, [{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }]));
  t.rec('digest with two colons', await c.create(`${r}/f`, null, CreateMode.PERSISTENT, [{ perms: 31, id: { scheme: 'digest', id: 'a:b:c' } }]));
  t.rec('ip not an address', await c.create(`${r}/g`, null, CreateMode.PERSISTENT, [ip(31, '999.1.1.1')]));
  t.rec('ip with a bad mask', await c.create(`${r}/h`, null, CreateMode.PERSISTENT, [ip(31, '10.0.0.0/33')]));
  t.rec('ip v6', await c.create(`${r}/i`, null, CreateMode.PERSISTENT, [ip(31, '::1')]));
  t.rec('super scheme', await c.create(`${r}/j`, null, CreateMode.PERSISTENT, [{ perms: 31, id: { scheme: 'super', id: '' } }]));
  t.rec('perms 0', await c.create2(`${r}/k`, null, CreateMode.PERSISTENT, [world(0)]));
  t.rec('perms beyond ALL', await c.create2(`${r}/l`, null, CreateMode.PERSISTENT, [world(0xff)]));
  t.rec('getACL of perms beyond ALL', await c.getACL(`${r}/l`));
  t.rec('duplicates are removed', await c.create(`${r}/m`, null, CreateMode.PERSISTENT, [world(31), world(31), world(1)]));
  t.rec('getACL of it', await c.getACL(`${r}/m`));
  t.rec('setACL with an invalid ACL', await c.setACL(`${r}/m`, [{ perms: 31, id: { scheme: 'bogus', id: 'x' } }]));
  t.rec('setACL with empty ACL', await c.setACL(`${r}/m`, []));
  t.rec('addAuth digest', await c.auth('digest', 'bob:pw'));
  t.rec('addAuth digest again (another identity)', await c.auth('digest', 'carol:pw'));
  t.rec('CREATOR_ALL_ACL with two identities', await c.create(`${r}/n`, null, CreateMode.PERSISTENT, CREATOR_ALL_ACL));
  t.rec('getACL of it', await c.getACL(`${r}/n`));
  t.rec('auth mixed with world', await c.create(`${r}/o`, null, CreateMode.PERSISTENT, [...CREATOR_ALL_ACL, world(Perm.READ)]));
  t.rec('getACL of it', await c.getACL(`${r}/o`));
  t.rec('setACL to auth', await c.setACL(`${r}/m`, [{ perms: Perm.READ, id: { scheme: 'auth', id: 'ignored' } }]));
  t.rec('getACL after setACL to auth', await c.getACL(`${r}/m`));
});

scenario('ip ACLs and the ip auth scheme', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('ip 127.0.0.1', await c.create(`${r}/lo`, 'x', CreateMode.PERSISTENT, [ip(31, '127.0.0.1')]));
  t.rec('ip 127.0.0.0/8', await c.create(`${r}/lo8`, 'x', CreateMode.PERSISTENT, [ip(31, '127.0.0.0/8')]));
  t.rec('ip 10.0.0.0/8', await c.create(`${r}/ten`, 'x', CreateMode.PERSISTENT, [ip(31, '10.0.0.0/8')]));
  t.rec('ip 0.0.0.0/0', await c.create(`${r}/any`, 'x', CreateMode.PERSISTENT, [ip(31, '0.0.0.0/0')]));
  for (const n of ['lo', 'lo8', 'ten', 'any']) t.rec(`getData ${n}`, await c.getData(`${r}/${n}`));
  t.rec('getACL ten (no ADMIN)', await c.getACL(`${r}/ten`));
  t.rec('addAuth ip', await c.auth('ip', ''));
  t.rec('whoAmI after ip auth', await c.whoAmI());
  t.rec('getData ten after ip auth', await c.getData(`${r}/ten`));
});

scenario('addAuth through the raw client: whoAmI, unknown schemes end the connection', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('whoAmI fresh', await c.whoAmI());
  t.rec('addAuth digest', await c.auth('digest', 'dave:pw'));
  t.rec('whoAmI', await c.whoAmI());
  t.rec('addAuth the same again', await c.auth('digest', 'dave:pw'));
  t.rec('addAuth empty digest', await c.auth('digest', ''));
  t.rec('addAuth digest with unicode', await c.auth('digest', 'émile:pâss'));
  t.rec('whoAmI after all of them', await c.whoAmI());
  t.rec('create CREATOR_ALL', await c.create(`${r}/mine`, 'x', CreateMode.PERSISTENT, CREATOR_ALL_ACL));
  t.rec('getACL', await c.getACL(`${r}/mine`));
  const d = await t.raw();
  t.rec('addAuth unknown scheme', await d.auth('kerberos', 'x'));
  await d.waitClosed(3000).catch(() => undefined);
  t.note('connection closed after AUTHFAILED', d.closed);
  const e = await t.raw();
  t.rec('addAuth sasl scheme', await e.auth('sasl', 'x'));
  await e.waitClosed(3000).catch(() => undefined);
  t.note('connection closed after sasl AUTHFAILED', e.closed);
  const s = await t.raw();
  t.rec('addAuth super without a configured superDigest', await s.auth('digest', 'super:whatever'));
  t.rec('whoAmI', await s.whoAmI());
  t.rec('read the digest-protected node as "super"', await s.getData(`${r}/mine`));
});

scenario('watch notifications and ACLs: no event about a node the watcher may not READ', async (t) => {
  const owner = await t.raw();
  const w = await t.raw();
  const r = t.root;
  await owner.auth('digest', 'alice:secret');
  t.rec('exists watch on a future node', await w.exists(`${r}/secret`, true));
  t.rec('child watch on the root', await w.getChildren(r, true));
  t.rec('create it readable only by alice', await owner.create(`${r}/secret`, 'x', CreateMode.PERSISTENT, [digest(Perm.ALL, 'alice:secret')]));
  await w.sync(r);
  await t.sleep(200);
  t.events('watcher without READ on the new node: only the parent\'s child event', w);
  t.rec('an open node', await owner.create(`${r}/open`, 'x'));
  t.rec('data watch on it while readable', await w.getData(`${r}/open`, true));
  t.rec('child watch on it while readable', await w.getChildren(`${r}/open`, true));
  t.rec('owner makes it alice-only', await owner.setACL(`${r}/open`, [digest(Perm.ALL, 'alice:secret')]));
  t.rec('owner setData', await owner.setData(`${r}/open`, 'y'));
  t.rec('owner creates a child', await owner.create(`${r}/open/kid`));
  await w.sync(r);
  await t.sleep(200);
  t.events('changes to a node that became unreadable', w);
  t.rec('child watch on the root again', await w.getChildren(r, true));
  t.rec('owner deletes the child and the node', await owner.multi([{ type: 2, body: { path: `${r}/open/kid`, version: -1 } }, { type: 2, body: { path: `${r}/open`, version: -1 } }]));
  await w.sync(r);
  await t.sleep(200);
  t.events('after the delete: only the readable parent\'s event', w);
});

scenario('ACLs on ephemeral and sequential nodes, and the root of the scenario', async (t) => {
  const c = await t.raw();
  const other = await t.raw();
  const r = t.root;
  t.rec('ephemeral read-only', await c.create2(`${r}/e`, 'x', CreateMode.EPHEMERAL, READ_ACL_UNSAFE));
  t.rec('owner setData on its own read-only ephemeral', await c.setData(`${r}/e`, 'y'));
  t.rec('other deletes it (parent is open)', await other.delete(`${r}/e`));
  t.rec('sequential with ACL', await c.create2(`${r}/s-`, 'x', CreateMode.PERSISTENT_SEQUENTIAL, [world(Perm.READ | Perm.ADMIN)]));
  t.rec('setACL on the root to read+create only', await c.setACL(r, [world(Perm.READ | Perm.CREATE | Perm.ADMIN)]));
  t.rec('create under it', await other.create(`${r}/x`));
  t.rec('delete under it', await other.delete(`${r}/x`));
  t.rec('getACL root', await other.getACL(r));
  t.rec('restore', await c.setACL(r, OPEN_ACL_UNSAFE));
  t.rec('delete now', await other.delete(`${r}/x`));
});

scenario('exists on a node the client may not READ', async (t) => {
  const owner = await t.raw();
  const c = await t.raw();
  const r = t.root;
  t.rec('node without READ for anyone', await owner.create(`${r}/n`, 'x', CreateMode.PERSISTENT, [world(Perm.WRITE | Perm.ADMIN)]));
  t.rec('exists', await c.exists(`${r}/n`));
  t.rec('exists with a watch', await c.exists(`${r}/n`, true));
  t.rec('setData', await c.setData(`${r}/n`, 'y'));
  await c.sync(r);
  await t.sleep(150);
  t.events('events (none either way: delivery needs READ)', c);
}, { todo: 'version difference: Apache 3.8.0 (the Debian package) answers exists without any ACL check; zk-elect checks READ like ZooKeeper 3.8.4+ (ZOOKEEPER-2590), answering NOAUTH' });
