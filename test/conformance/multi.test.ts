/**
 * Differential conformance, transactions: multi (success, failure in the middle with per-op
 * results, check ops, watches fired by a multi) and multiRead.
 */
import { conformanceSuite } from './framework.js';
import { CreateMode, Op, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from '../support/raw-client.js';

const { scenario } = conformanceSuite('multi');

scenario('a successful multi: every sub-op kind and its result', async (t) => {
  const c = await t.raw();
  const r = t.root;
  await c.create(`${r}/existing`, 'old');
  await c.create(`${r}/doomed`, 'x');
  t.rec('multi', await c.multi([
    Op.create(`${r}/a`, 'A'),
    Op.create2(`${r}/b`, 'B'),
    Op.create(`${r}/seq-`, 'S', CreateMode.PERSISTENT_SEQUENTIAL),
    Op.create2(`${r}/eseq-`, 'E', CreateMode.EPHEMERAL_SEQUENTIAL),
    Op.createContainer(`${r}/cont`, 'C'),
    Op.setData(`${r}/existing`, 'new', 0),
    Op.check(`${r}/existing`, 1),
    Op.delete(`${r}/doomed`, 0),
    Op.create(`${r}/a/child`, 'inside a node created earlier in the same multi'),
    Op.setData(`${r}/a`, 'A2', 0),
  ]));
  t.rec('children', await c.getChildren2(r));
  t.rec('a', await c.getData(`${r}/a`));
  t.rec('existing', await c.getData(`${r}/existing`));
  t.rec('doomed', await c.exists(`${r}/doomed`));
  t.rec('empty multi', await c.multi([]));
  t.rec('multi with one check', await c.multi([Op.check(`${r}/a`, 1)]));
});

scenario('a multi failing in the middle: per-op results, nothing applied', async (t) => {
  const c = await t.raw();
  const r = t.root;
  await c.create(`${r}/n`, 'v');
  const failures: Array<[string, ReturnType<typeof Op.create>]> = [
    ['BADVERSION setData', Op.setData(`${r}/n`, 'x', 9)],
    ['NONODE delete', Op.delete(`${r}/missing`)],
    ['NODEEXISTS create', Op.create(`${r}/n`)],
    ['BADVERSION check', Op.check(`${r}/n`, 3)],
    ['NONODE check', Op.check(`${r}/missing`, 0)],
    ['NOTEMPTY delete', Op.delete(r)],
    ['BADARGUMENTS path', Op.create(`${r}/bad/`)],
    ['NONODE parent', Op.create(`${r}/missing/child`)],
    ['UNIMPLEMENTED TTL', Op.createTTL(`${r}/ttl`, 'x', 1000n)],
    ['BADARGUMENTS flags', Op.create(`${r}/flags`, null, 9)],
  ];
  for (const [label, bad] of failures) {
    t.rec(`multi with ${label} second of three`, await c.multi([Op.create(`${r}/first`, '1'), bad, Op.setData(`${r}/n`, 'third')]));
  }
  t.rec('failing op first', await c.multi([Op.check(`${r}/n`, 5), Op.create(`${r}/x`), Op.delete(`${r}/n`)]));
  t.rec('failing op last', await c.multi([Op.create(`${r}/x`), Op.delete(`${r}/n`), Op.check(`${r}/n`, 0)]));
  t.rec('two failing ops', await c.multi([Op.create(`${r}/x`), Op.check(`${r}/n`, 5), Op.check(`${r}/n`, 6), Op.create(`${r}/y`)]));
  t.rec('nothing applied: children', await c.getChildren2(r));
  t.rec('nothing applied: n', await c.getData(`${r}/n`));
  // The counter: a failed multi with a sequential create does not consume a sequence number.
  t.rec('failed multi with sequential', await c.multi([Op.create(`${r}/s-`, null, CreateMode.PERSISTENT_SEQUENTIAL), Op.check(`${r}/n`, 5)]));
  t.rec('sequential afterwards', await c.create(`${r}/s-`, null, CreateMode.PERSISTENT_SEQUENTIAL));
});

scenario('multi sub-op types are re-derived from the create flags (MultiOperationRecord)', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('create2 sub-op, persistent', await c.multi([Op.create2(`${r}/c2`, 'x')]));
  t.rec('create2 sub-op, CONTAINER flag', await c.multi([Op.create2(`${r}/c2cont`, 'x', CreateMode.CONTAINER)]));
  t.rec('createContainer sub-op, PERSISTENT flag', await c.multi([{ type: 19, body: { path: `${r}/contp`, data: null, acl: OPEN_ACL_UNSAFE, flags: 0 } }]));
  t.rec('createContainer sub-op, CONTAINER flag', await c.multi([Op.createContainer(`${r}/cont`)]));
  t.rec('createTTL sub-op, PERSISTENT flag (ttl dropped)', await c.multi([Op.createTTL(`${r}/ttlp`, 'x', 1000n, CreateMode.PERSISTENT)]));
  t.rec('createTTL sub-op, EPHEMERAL_SEQUENTIAL flag', await c.multi([Op.createTTL(`${r}/ttles-`, 'x', 1000n, CreateMode.EPHEMERAL_SEQUENTIAL)]));
  t.rec('createTTL sub-op, TTL flag (TTL off)', await c.multi([Op.createTTL(`${r}/ttl`, 'x', 1000n)]));
  t.rec('create2 sub-op with a TTL flag', await c.multi([Op.create(`${r}/before`), Op.create2(`${r}/ttl2`, 'x', CreateMode.PERSISTENT_WITH_TTL), Op.create(`${r}/after`)]));
  t.rec('create sub-op with a TTL flag after a failing op', await c.multi([Op.check(`${r}/c2`, 9), Op.create(`${r}/ttl3`, 'x', CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL)]));
  t.rec('create sub-op with a TTL flag before a failing op', await c.multi([Op.create(`${r}/ttl4`, 'x', CreateMode.PERSISTENT_WITH_TTL), Op.check(`${r}/c2`, 9)]));
  t.rec('the session still works', await c.exists(`${r}/before`));
  t.rec('children', await c.getChildren2(r));
  t.rec('a write after it', await c.create(`${r}/before`));
});

scenario('multi ordering and dependencies inside one transaction', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('create then delete same path', await c.multi([Op.create(`${r}/tmp`, 'x'), Op.delete(`${r}/tmp`)]));
  t.rec('exists tmp', await c.exists(`${r}/tmp`));
  t.rec('create, delete, create again', await c.multi([Op.create(`${r}/tmp`, '1'), Op.delete(`${r}/tmp`), Op.create2(`${r}/tmp`, '2')]));
  t.rec('get tmp', await c.getData(`${r}/tmp`));
  t.rec('delete then re-create with another mode', await c.multi([Op.delete(`${r}/tmp`, 0), Op.create2(`${r}/tmp`, '3', CreateMode.EPHEMERAL)]));
  t.rec('child under the new ephemeral in the same multi', await c.multi([Op.delete(`${r}/tmp`), Op.create(`${r}/tmp`, null, CreateMode.EPHEMERAL), Op.create(`${r}/tmp/kid`)]));
  t.rec('versions chain inside a multi', await c.multi([Op.setData(`${r}/tmp`, 'a', 0), Op.setData(`${r}/tmp`, 'b', 1), Op.check(`${r}/tmp`, 2)]));
  t.rec('stale version after in-multi bump', await c.multi([Op.setData(`${r}/tmp`, 'c', 2), Op.setData(`${r}/tmp`, 'd', 2)]));
  t.rec('two sequentials in one multi', await c.multi([Op.create(`${r}/q-`, null, CreateMode.PERSISTENT_SEQUENTIAL), Op.create2(`${r}/q-`, null, CreateMode.PERSISTENT_SEQUENTIAL)]));
  t.rec('delete parent and child in the right order', await c.multi([Op.create(`${r}/p`), Op.create(`${r}/p/c`), Op.delete(`${r}/p/c`), Op.delete(`${r}/p`)]));
  t.rec('delete parent before child', await c.multi([Op.create(`${r}/p`), Op.create(`${r}/p/c`), Op.delete(`${r}/p`)]));
  t.rec('children', await c.getChildren2(r));
  // Pipelined: a multi and plain writes on the same connection, without awaiting.
  const [m, w] = await Promise.all([
    c.multi([Op.create(`${r}/pipe`), Op.setData(`${r}/pipe`, 'x')]),
    c.setData(`${r}/pipe`, 'y', 1),
  ]);
  t.rec('pipelined multi', m);
  t.rec('pipelined setData depending on it', w);
});

scenario('a multi fires watches only when it commits, in sub-op order', async (t) => {
  const w = await t.raw();
  const c = await t.raw();
  const r = t.root;
  await c.create(`${r}/a`, 'a');
  await c.create(`${r}/b`, 'b');
  await w.getData(`${r}/a`, true);
  await w.getData(`${r}/b`, true);
  await w.getChildren(r, true);
  await w.exists(`${r}/new`, true);
  t.rec('failing multi', await c.multi([Op.setData(`${r}/a`, 'x'), Op.create(`${r}/new`), Op.check(`${r}/b`, 7)]));
  await w.sync(r);
  t.events('events after the failed multi (none)', w);
  t.rec('committing multi', await c.multi([Op.setData(`${r}/b`, 'x'), Op.create(`${r}/new`), Op.delete(`${r}/a`)]));
  await w.waitEvents(4);
  await w.sync(r);
  t.events('events after the committed multi', w);
});

scenario('multi and ACLs: NOAUTH inside a transaction', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('read-only node', await c.create(`${r}/ro`, 'x', CreateMode.PERSISTENT, READ_ACL_UNSAFE));
  t.rec('setData on it inside a multi', await c.multi([Op.create(`${r}/ok`), Op.setData(`${r}/ro`, 'y')]));
  t.rec('create under it inside a multi', await c.multi([Op.create(`${r}/ro/kid`)]));
  t.rec('check on it (READ is enough)', await c.multi([Op.check(`${r}/ro`, 0)]));
  t.rec('no-read node', await c.create(`${r}/nr`, 'x', CreateMode.PERSISTENT, [{ perms: 2, id: { scheme: 'world', id: 'anyone' } }]));
  t.rec('check on a node without READ', await c.multi([Op.check(`${r}/nr`, 0)]));
  t.rec('create with invalid ACL in a multi', await c.multi([Op.create(`${r}/badacl`, null, CreateMode.PERSISTENT, [{ perms: 31, id: { scheme: 'nope', id: 'x' } }])]));
  t.rec('create with empty ACL in a multi', await c.multi([Op.create(`${r}/noacl`, null, CreateMode.PERSISTENT, [])]));
  t.rec('open ACL sanity', await c.multi([Op.create(`${r}/open`, null, CreateMode.PERSISTENT, OPEN_ACL_UNSAFE)]));
});

scenario('multiRead: getData and getChildren mixed, per-op errors', async (t) => {
  const c = await t.raw();
  const r = t.root;
  await c.create(`${r}/a`, 'A');
  await c.create(`${r}/a/x`, 'X');
  await c.create(`${r}/a/y`, null);
  await c.create(`${r}/secret`, 's', CreateMode.PERSISTENT, [{ perms: 2, id: { scheme: 'world', id: 'anyone' } }]);
  t.rec('multiRead', await c.multiRead([
    Op.getData(`${r}/a`),
    Op.getChildren(`${r}/a`),
    Op.getData(`${r}/missing`),
    Op.getChildren(`${r}/missing`),
    Op.getData(`${r}/a/y`),
    Op.getData(`${r}/secret`),
    Op.getChildren(`${r}/secret`),
    Op.getChildren(r),
  ]));
  t.rec('empty multiRead', await c.multiRead([]));
  t.rec('multiRead of invalid paths', await c.multiRead([Op.getData(`${r}/bad/`), Op.getChildren('nope')]));
  // multiRead registers no watches even when the sub-op's watch flag is set.
  const w = await t.raw();
  t.rec('multiRead with watch flags', await w.multiRead([
    { type: 4, body: { path: `${r}/a`, watch: true } },
    { type: 8, body: { path: `${r}/a`, watch: true } },
  ]));
  await c.setData(`${r}/a`, 'changed');
  await c.create(`${r}/a/z`);
  await w.sync(r);
  await t.sleep(200);
  t.events('watch events after multiRead with watch flags', w);
});
