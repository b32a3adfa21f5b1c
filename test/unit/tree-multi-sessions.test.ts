import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, EventType, OpCode } from '../../src/protocol/constants.js';
import type { ACL, MultiSubRequest } from '../../src/server/tree/index.js';
import { TreeDriver } from '../../src/server/tree/testing.js';

const acl: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const anyone = { authIds: [] };
const c = (path: string, flags = 0, op: 1 | 15 = 1): MultiSubRequest => ({ op, path, data: null, acl, flags });

function fresh(): TreeDriver {
  const d = new TreeDriver();
  d.openSession(1n);
  return d;
}

describe('tree: multi', () => {
  it('success: per-op results (create→path, create2→path+stat, delete, setData→stat, check), one zxid', () => {
    const d = fresh();
    d.create('/a');
    const r = d.run({ op: OpCode.multi, ops: [c('/a/x'), c('/a/s-', 2, 15), { op: OpCode.setData, path: '/a/x', data: Buffer.from('d'), version: 0 }, { op: OpCode.check, path: '/a', version: 0 }, { op: OpCode.delete, path: '/a/x', version: 1 }] });
    assert.equal(r.err, 0);
    assert.equal(r.type, OpCode.multi);
    assert.deepEqual(r.multi?.map((m) => m.type), [OpCode.create, OpCode.create2, OpCode.setData, OpCode.check, OpCode.delete]);
    assert.deepEqual(r.multi?.[0], { type: OpCode.create, path: '/a/x' });
    const c2 = r.multi?.[1] as { path: string; stat: { czxid: bigint } };
    assert.deepEqual([c2.path, c2.stat.czxid], ['/a/s-0000000001', r.zxid]); // sees the earlier create in the same multi
    assert.equal((r.multi?.[2] as { stat: { version: number; mzxid: bigint } }).stat.version, 1);
    assert.deepEqual(d.state.getChildren('/a', anyone), { ok: true, children: ['s-0000000001'] });
  });
  it('failure: ops before get OK(0), the failing op its error, later ops RUNTIMEINCONSISTENCY; header err 0 (checked on a real 3.8.0)', () => {
    const d = fresh();
    d.create('/a');
    const before = d.state.digest();
    const r = d.run({ op: OpCode.multi, ops: [c('/m1'), { op: OpCode.delete, path: '/nonexist', version: -1 }, { op: OpCode.setData, path: '/a', data: null, version: -1 }] });
    assert.equal(r.err, 0);
    assert.deepEqual(r.multi, [{ type: OpCode.error, err: 0 }, { type: OpCode.error, err: ErrorCode.NONODE }, { type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY }]);
    assert.equal(d.state.digest(), before);
    assert.deepEqual(r.triggers, []);
    assert.equal(d.state.outstanding.length, 0);
  });
  it('a failed multi rolls back its pending records so later sequence numbers are right (ZOOKEEPER-1624)', () => {
    const d = fresh();
    d.create('/q');
    const t1 = d.prep({ op: OpCode.multi, ops: [c('/q/s-', 2), c('/q/s-', 2), { op: OpCode.check, path: '/q', version: 99 }] });
    const t2 = d.prep({ op: 1, path: '/q/s-', data: null, acl, flags: 2 });
    assert.equal((t2.body as { path: string }).path, '/q/s-0000000000');
    d.state.apply(t1);
    assert.equal(d.state.apply(t2).path, '/q/s-0000000000');
  });
  it('multi ops see earlier pending txns; a check of a version bumped by a queued setData', () => {
    const d = fresh();
    d.create('/v');
    const t1 = d.prep({ op: OpCode.setData, path: '/v', data: null, version: 0 });
    const t2 = d.prep({ op: OpCode.multi, ops: [{ op: OpCode.check, path: '/v', version: 1 }, c('/v/k')] });
    d.state.apply(t1);
    const r = d.state.apply(t2);
    assert.deepEqual(r.multi?.map((m) => m.type), [OpCode.check, OpCode.create]);
  });
  it('empty multi is fine', () => {
    const d = fresh();
    assert.deepEqual(d.run({ op: OpCode.multi, ops: [] }).multi, []);
  });
});

describe('tree: sessions and ephemerals', () => {
  it('ephemeralOwner, getEphemerals with prefix, NOCHILDRENFOREPHEMERALS, SESSIONEXPIRED', () => {
    const d = fresh();
    d.openSession(0x100n);
    const r = d.create('/e1', { flags: 1, session: 0x100n, op: 15 });
    assert.equal(r.stat?.ephemeralOwner, 0x100n);
    d.create('/d');
    d.create('/d/e2', { flags: 3, session: 0x100n });
    assert.deepEqual(new Set(d.state.getEphemerals(0x100n, null)), new Set(['/e1', '/d/e20000000000']));
    assert.deepEqual(d.state.getEphemerals(0x100n, '/d'), ['/d/e20000000000']);
    assert.deepEqual(d.state.getEphemerals(0x100n, ' / '), d.state.getEphemerals(0x100n, ''));
    assert.deepEqual(d.state.ephemeralsOf(0x100n), d.state.getEphemerals(0x100n, null));
    assert.equal(d.create('/x', { session: 0x999n }).err, ErrorCode.SESSIONEXPIRED);
    assert.equal(d.setData('/d', null, -1, 0x999n).err, ErrorCode.SESSIONEXPIRED);
  });
  it('closeSession deletes the session ephemerals in HashSet order and fires their watches (checked on a real 3.8.0)', () => {
    const d = fresh();
    d.openSession(2n);
    d.create('/e');
    for (let i = 0; i < 12; i++) d.create(`/e/x${i}`, { flags: 1, session: 2n });
    d.create('/e/y', { flags: 3, session: 2n });
    d.create('/eph', { flags: 1, session: 2n });
    assert.equal(d.state.getEphemerals(2n, null).join(', '), '/e/y0000000012, /e/x10, /e/x11, /e/x3, /e/x4, /e/x5, /e/x6, /e/x0, /e/x1, /e/x2, /eph, /e/x7, /e/x8, /e/x9');
    for (let i = 0; i < 12; i++) d.state.exists(`/e/x${i}`, { authIds: [], watcherId: 1 });
    d.state.getChildren('/e', { authIds: [], watcherId: 1 });
    d.state.exists('/eph', { authIds: [], watcherId: 1 });
    const t = d.prep({ op: OpCode.closeSession }, 2n);
    assert.equal(t.body.type, OpCode.closeSession);
    assert.equal(d.state.sessionIsClosing(2n), true);
    assert.equal(d.prep({ op: OpCode.setData, path: '/e', data: null, version: -1 }, 2n).body.type, OpCode.error); // closing → SESSIONEXPIRED
    const r = d.state.apply(t);
    assert.equal(
      r.triggers.map((x) => `${x.event.type} ${x.event.path}`).join(', '),
      '4 /e, 2 /e/x10, 2 /e/x11, 2 /e/x3, 2 /e/x4, 2 /e/x5, 2 /e/x6, 2 /e/x0, 2 /e/x1, 2 /e/x2, 2 /eph, 2 /e/x7, 2 /e/x8, 2 /e/x9',
    );
    assert.equal(d.state.sessionExists(2n), false);
    assert.deepEqual(d.state.getChildren('/e', anyone), { ok: true, children: [] });
    const st = d.state.exists('/e', anyone);
    assert.ok(st.ok);
    assert.equal(st.stat.pzxid, r.zxid);
  });
  it('closeSession prep accounts for pending creates and deletes of the session', () => {
    const d = fresh();
    d.openSession(3n);
    d.create('/k1', { flags: 1, session: 3n });
    const tCreate = d.prep({ op: 1, path: '/k2', data: null, acl, flags: 1 }, 3n);
    const tDelete = d.prep({ op: 2, path: '/k1', version: -1 }, 3n);
    const tClose = d.prep({ op: OpCode.closeSession }, 3n);
    assert.deepEqual((tClose.body as { paths2Delete: string[] }).paths2Delete, ['/k2']);
    d.state.apply(tCreate);
    d.state.apply(tDelete);
    d.state.apply(tClose);
    assert.equal(d.state.exists('/k2', anyone).ok, false);
  });
  it('closeSession prep leaves the parent childCount unchanged in its pending record (3.8 digest path quirk)', () => {
    const d = fresh();
    d.openSession(4n);
    d.create('/p');
    d.create('/p/e', { flags: 1, session: 4n });
    d.prep({ op: OpCode.closeSession }, 4n);
    const del = d.prep({ op: 2, path: '/p', version: -1 });
    assert.deepEqual(del.body, { type: OpCode.error, err: ErrorCode.NOTEMPTY });
  });
});

describe('tree: containers and TTL reaping (ContainerManager.getCandidates)', () => {
  it('containers: ephemeralOwner hidden, reaped only after having had children', () => {
    const d = fresh();
    const r = d.create('/c', { flags: 4, op: 19 });
    assert.equal(r.stat?.ephemeralOwner, 0n);
    assert.equal(d.state.tree.getNode('/c')?.stat.ephemeralOwner, -(1n << 63n));
    assert.deepEqual(d.state.expiredContainersAndTtls(d.timeMs + 10_000_000n), []);
    d.create('/c/child');
    assert.deepEqual(d.state.expiredContainersAndTtls(d.timeMs), []);
    d.delete('/c/child');
    assert.deepEqual(d.state.expiredContainersAndTtls(d.timeMs), ['/c']);
    const del = d.run({ op: OpCode.deleteContainer, path: '/c' }, 0n);
    assert.deepEqual([del.err, del.type], [0, OpCode.deleteContainer]);
    assert.equal(d.state.exists('/c', anyone).ok, false);
  });
  it('never-used containers with containerMaxNeverUsedIntervalMs', () => {
    const d = new TreeDriver({ containerMaxNeverUsedIntervalMs: 1000n });
    d.openSession(1n);
    d.create('/c', { flags: 4, op: 19 });
    const t = d.timeMs;
    assert.deepEqual(d.state.expiredContainersAndTtls(t + 1000n), []);
    assert.deepEqual(d.state.expiredContainersAndTtls(t + 1001n), ['/c']);
  });
  it('TTL nodes expire ttl ms after their mtime when childless', () => {
    const d = new TreeDriver({ extendedTypesEnabled: true });
    d.openSession(1n);
    d.create('/t', { flags: 5, op: 21, ttl: 500n });
    const t = d.timeMs;
    assert.deepEqual(d.state.expiredContainersAndTtls(t + 500n), []);
    assert.deepEqual(d.state.expiredContainersAndTtls(t + 501n), ['/t']);
    d.setData('/t', null);
    assert.deepEqual(d.state.expiredContainersAndTtls(t + 501n), []);
  });
  it('deleteContainer errors: special path, NONODE, NOTEMPTY, BADVERSION for ephemerals; persistent nodes are deletable', () => {
    const d = fresh();
    const dc = (path: string) => d.run({ op: OpCode.deleteContainer, path }, 0n).err;
    assert.equal(dc('/zookeeper'), ErrorCode.BADARGUMENTS);
    assert.equal(dc('/none'), ErrorCode.NONODE);
    d.create('/c', { flags: 4, op: 19 });
    d.create('/c/x');
    assert.equal(dc('/c'), ErrorCode.NOTEMPTY);
    d.create('/e', { flags: 1 });
    assert.equal(dc('/e'), ErrorCode.BADVERSION);
    d.create('/plain');
    assert.equal(dc('/plain'), 0);
  });
  it('deleteContainer fires NodeDeleted and NodeChildrenChanged', () => {
    const d = fresh();
    d.create('/c', { flags: 4, op: 19 });
    d.state.getData('/c', { authIds: [], watcherId: 9 });
    const r = d.run({ op: OpCode.deleteContainer, path: '/c' }, 0n);
    assert.deepEqual(r.triggers.map((t) => t.event.type), [EventType.NodeDeleted]);
  });
});
