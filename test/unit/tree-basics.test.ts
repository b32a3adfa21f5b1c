import { PAGE_MASK } from '../../src/server/tree/node-columns.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, EventType, OpCode } from '../../src/protocol/constants.js';
import { JavaHashSet, pathError, sequenceSuffix, ZkState } from '../../src/server/tree/index.js';
import { TreeDriver } from '../../src/server/tree/testing.js';

const anyone = { authIds: [] };

describe('tree: JavaHashSet matches JDK 17 HashSet iteration order', () => {
  it('orders like java.util.HashSet (values captured from a JDK 17 run)', () => {
    const s = new JavaHashSet(8);
    for (let i = 0; i < 20; i++) s.add(`n${(i * 7919) % 101}`);
    assert.deepEqual(s.toArray(), ['n0', 'n3', 'n91', 'n6', 'n50', 'n72', 'n82', 'n41', 'n63', 'n85', 'n9', 'n31', 'n22', 'n44', 'n66', 'n88', 'n25', 'n47', 'n69', 'n28']);
    const small = new JavaHashSet(8);
    for (const k of ['AaAaAa', 'AaAaBB', 'AaBBAa', 'AaBBBB', 'BBAaAa', 'BBAaBB', 'BBBBAa', 'BBBBBB', 'AaAaAa1', 'x', 'AaBBAaBB']) small.add(k);
    for (let i = 0; i < 20; i++) small.add(`k${i}`);
    assert.equal(small.toArray().join(','), 'AaBBAaBB,k11,k10,k13,AaAaAa1,k12,k15,k14,k17,k16,k19,k18,AaAaAa,AaAaBB,AaBBAa,AaBBBB,BBAaAa,BBAaBB,BBBBAa,BBBBBB,k0,k1,k2,k3,k4,k5,k6,k7,k8,k9,x');
  });
  it('clone re-sizes like HashMap.clone; delete keeps capacity', () => {
    const s = new JavaHashSet();
    for (let i = 0; i < 100; i++) s.add(`p${i}`);
    for (let i = 0; i < 97; i++) s.delete(`p${i}`);
    assert.equal(s.capacity, 256);
    assert.equal(s.clone().capacity, 8); // tableSizeFor(3/0.75+1 = 5)
    assert.deepEqual(new Set(s.clone()), new Set(['p97', 'p98', 'p99']));
  });
});

describe('tree: paths (PathUtils.validatePath)', () => {
  it('accepts and rejects like ZooKeeper', () => {
    for (const ok of ['/', '/a', '/a/b', '/a.b', '/..a', '/a..', '/.a', '/a/...', '/\u00e9', '/a b']) assert.equal(pathError(ok), null, ok);
    for (const bad of ['', 'a', '/a/', '//', '/a//b', '/.', '/..', '/a/./b', '/a/../b', '/a\u0000', '/\u0001', '/\u007f', '/\u0099', '/\ud83d\ude00', '/\uf8ff', '/\ufff0']) {
      assert.notEqual(pathError(bad), null, JSON.stringify(bad));
    }
  });
  it('formats sequence suffixes as %010d, negative after int overflow', () => {
    assert.equal(sequenceSuffix(0), '0000000000');
    assert.equal(sequenceSuffix(2147483647), '2147483647');
    assert.equal(sequenceSuffix(-2147483648), '-2147483648');
    assert.equal(sequenceSuffix(-1), '-000000001');
  });
});

describe('tree: built-in nodes of a fresh 3.8 server (checked against a real 3.8.0)', () => {
  const s = new ZkState();
  it('/ has cversion -1 (0*2 - 1 child), /zookeeper -2, /zookeeper/config aversion -1 + READ_ACL_UNSAFE', () => {
    const root = s.getData('/', anyone);
    assert.ok(root.ok);
    assert.deepEqual([root.stat.cversion, root.stat.numChildren, root.stat.pzxid, root.data?.length], [-1, 1, 0n, 0]);
    const zk = s.exists('/zookeeper', anyone);
    assert.ok(zk.ok);
    assert.deepEqual([zk.stat.cversion, zk.stat.numChildren], [-2, 2]);
    const cfg = s.getACL('/zookeeper/config', []);
    assert.ok(cfg.ok);
    assert.equal(cfg.stat.aversion, -1);
    assert.deepEqual(cfg.acl, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
    const quota = s.getACL('/zookeeper/quota', []);
    assert.ok(quota.ok);
    assert.deepEqual(quota.acl, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
    assert.deepEqual(s.getAllChildrenNumber('/', []), { ok: true, count: 3 });
    assert.deepEqual(s.getChildren('/zookeeper', anyone), { ok: true, children: ['config', 'quota'] });
  });
  it('"" is an alias of the root for reads, as in DataTree', () => {
    assert.equal(s.exists('', anyone).ok, true);
  });
});

describe('tree: stat evolution (DataTree.createNode/deleteNode/setData)', () => {
  it('tracks czxid/mzxid/pzxid/ctime/mtime/version/cversion/numChildren/dataLength', () => {
    const d = new TreeDriver();
    d.openSession(1n); // zxid 1
    const c = d.create('/a', { data: Buffer.from('hello'), op: OpCode.create2 }); // zxid 2
    assert.equal(c.err, 0);
    assert.equal(c.path, '/a');
    assert.deepEqual(c.stat, { czxid: 2n, mzxid: 2n, ctime: d.timeMs, mtime: d.timeMs, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 5, numChildren: 0, pzxid: 2n });
    const ctime = d.timeMs;
    const sd = d.setData('/a', Buffer.from('hi'), 0); // zxid 3
    assert.deepEqual([sd.stat?.mzxid, sd.stat?.version, sd.stat?.dataLength, sd.stat?.ctime, sd.stat?.mtime], [3n, 1, 2, ctime, d.timeMs]);
    d.create('/a/b'); // 4
    d.create('/a/c'); // 5
    d.delete('/a/b'); // 6
    const st = d.state.exists('/a', anyone);
    assert.ok(st.ok);
    // persisted cversion 2 (two creates) → client cversion 2*2 - 1 = 3 = creates + deletes
    assert.deepEqual([st.stat.cversion, st.stat.numChildren, st.stat.pzxid, st.stat.mzxid, st.stat.version], [3, 1, 6n, 3n, 1]);
    const root = d.state.exists('/', anyone);
    assert.ok(root.ok);
    assert.deepEqual([root.stat.cversion, root.stat.pzxid, root.stat.numChildren], [0, 2n, 2]);
    assert.equal(d.state.lastProcessedZxid, 6n);
  });
  it('create (opcode 1) answers only the path; null data stays null', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    const r = d.create('/n');
    assert.equal(r.stat, undefined);
    const g = d.state.getData('/n', anyone);
    assert.ok(g.ok);
    assert.equal(g.data, null);
    assert.equal(g.stat.dataLength, 0);
  });
  it('setData version wraps like a Java int', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    d.create('/v');
    const id = d.state.tree.idOf('/v');
    d.state.tree.page(id).version[id & PAGE_MASK] = 2147483647; // as if set 2^31 - 1 times
    assert.equal(d.setData('/v', null, 2147483647).stat?.version, -2147483648);
  });
});

describe('tree: sequence numbers', () => {
  it('use the parent persisted cversion: deletes do not advance it (checked on a real 3.8.0)', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    d.create('/a');
    const s1 = d.create('/a/s-', { flags: 2 }).path as string;
    d.delete(s1);
    assert.equal(s1, '/a/s-0000000000');
    assert.equal(d.create('/a/s-', { flags: 2 }).path, '/a/s-0000000001');
    d.create('/a/plain');
    assert.equal(d.create('/a/', { flags: 2 }).path, '/a/0000000003');
  });
  it('two creates prepared before either is applied get consecutive numbers (outstanding changes)', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    d.create('/q');
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    const t1 = d.prep({ op: 1, path: '/q/x-', data: null, acl, flags: 2 });
    const t2 = d.prep({ op: 1, path: '/q/x-', data: null, acl, flags: 2 });
    const t3 = d.prep({ op: 2, path: '/q/x-0000000000', version: -1 }); // sees pending create
    const t4 = d.prep({ op: 1, path: '/q/x-0000000001', data: null, acl, flags: 0 }); // NODEEXISTS via pending
    assert.equal(t4.body.type, OpCode.error);
    assert.equal((t4.body as { err: number }).err, ErrorCode.NODEEXISTS);
    assert.deepEqual([d.state.apply(t1).path, d.state.apply(t2).path, d.state.apply(t3).err, d.state.apply(t4).err], ['/q/x-0000000000', '/q/x-0000000001', 0, ErrorCode.NODEEXISTS]);
    assert.equal(d.state.outstanding.length, 0);
    assert.deepEqual(d.state.getChildren('/q', anyone), { ok: true, children: ['x-0000000001'] });
  });
  it('reads ignore pending changes', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    const t = d.prep({ op: 1, path: '/p', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 });
    assert.equal(d.state.exists('/p', anyone).ok, false);
    d.state.apply(t);
    assert.equal(d.state.exists('/p', anyone).ok, true);
  });
});

describe('tree: watch events from basic writes', () => {
  it('create fires NodeCreated on exist watch then NodeChildrenChanged on the parent', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    d.state.exists('/w', { authIds: [], watcherId: 1 });
    d.state.getChildren('/', { authIds: [], watcherId: 2 });
    const r = d.create('/w');
    assert.deepEqual(r.triggers.map((t) => [t.watcherIds, t.event.type, t.event.path]), [[[1], EventType.NodeCreated, '/w'], [[2], EventType.NodeChildrenChanged, '/']]);
    assert.deepEqual(d.create('/w2').triggers, []); // one-shot
  });
});
