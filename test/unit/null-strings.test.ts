/**
 * Null strings (length -1) in requests: the codec decodes them as null wherever Java's jute
 * would, and the pure state machine answers them where ZooKeeper 3.8's processors do. The
 * expected answers were read off a real 3.8 server (test/conformance/null-strings.test.ts
 * compares the two end to end); these pin the pieces without a server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeConnectRequest, decodeRequest, encodeConnectRequest, encodeRequest, ErrorCode, JuteWriter, OpCode, Perm,
  type Request,
} from '../../src/protocol/index.js';
import { refusedBeforePrep } from '../../src/server/requests.js';
import { authenticate, DigestAuth, fixupACL, type CreateRequest, type Id, type RequestACL } from '../../src/server/tree/index.js';
import { JavaNullPointer } from '../../src/server/tree/java-null.js';
import { TreeDriver } from '../../src/server/tree/testing.js';

const payload = (fill: (w: JuteWriter) => void): Buffer => {
  const w = new JuteWriter();
  fill(w);
  return Buffer.from(w.toBuffer());
};
const roundTrip = (req: Request): Request => decodeRequest(encodeRequest(req).subarray(4));
const kaz: Id = { scheme: 'digest', id: DigestAuth.generateDigest('kaz:pw') };
const acl = (perms: number, scheme: string | null, id: string | null): RequestACL => ({ perms, id: { scheme, id } });

describe('codec: request strings and buffers may be null', () => {
  it("decodes kazoo's CREATOR_ALL_ACL (auth with a null id) instead of refusing the frame", () => {
    const bytes = payload((w) => {
      w.int(7).int(OpCode.create).ustring('/n').buffer(Buffer.from('x')).int(1);
      w.int(Perm.ALL).ustring('auth').ustring(null).int(0);
    });
    const req = decodeRequest(bytes);
    assert.equal(req.kind, 'create');
    assert.deepEqual(req.kind === 'create' && req.body.acl, [acl(Perm.ALL, 'auth', null)]);
  });
  it('round-trips a null in every string field of every request that has one', () => {
    const samples: Request[] = [
      { kind: 'create', xid: 1, type: OpCode.create, body: { path: null, data: null, acl: [acl(1, null, null)], flags: 0 } },
      { kind: 'delete', xid: 2, type: OpCode.delete, body: { path: null, version: -1 } },
      { kind: 'exists', xid: 3, type: OpCode.exists, body: { path: null, watch: true } },
      { kind: 'setData', xid: 4, type: OpCode.setData, body: { path: null, data: null, version: -1 } },
      { kind: 'getACL', xid: 5, type: OpCode.getACL, body: { path: null } },
      { kind: 'setACL', xid: 6, type: OpCode.setACL, body: { path: null, acl: [acl(1, 'world', null)], version: -1 } },
      { kind: 'sync', xid: 7, type: OpCode.sync, body: { path: null } },
      { kind: 'addWatch', xid: 8, type: OpCode.addWatch, body: { path: null, mode: 0 } },
      { kind: 'removeWatches', xid: 9, type: OpCode.removeWatches, body: { path: null, type: 1 } },
      { kind: 'getEphemerals', xid: 10, type: OpCode.getEphemerals, body: { prefixPath: null } },
      { kind: 'auth', xid: -4, type: OpCode.auth, body: { type: 0, scheme: null, auth: null } },
      {
        kind: 'setWatches2', xid: -8, type: OpCode.setWatches2,
        body: { relativeZxid: 0n, dataWatches: [null], existWatches: [], childWatches: ['/c', null], persistentWatches: [null], persistentRecursiveWatches: [] },
      },
      { kind: 'multi', xid: 11, type: OpCode.multi, body: { ops: [{ type: OpCode.check, body: { path: null, version: 1 } }] } },
      { kind: 'multiRead', xid: 12, type: OpCode.multiRead, body: { ops: [{ type: OpCode.getData, body: { path: null, watch: false } }] } },
    ];
    for (const req of samples) assert.deepEqual(roundTrip(req), req, req.kind);
  });
  it('a ConnectRequest with a null password decodes (a new session is still made; a reattach is refused)', () => {
    const req = { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: null, readOnly: false };
    assert.deepEqual(decodeConnectRequest(encodeConnectRequest(req).subarray(4)), req);
  });
});

describe('fixupACL with null strings, as PrepRequestProcessor.fixupACL behaves', () => {
  const npe = (fn: () => unknown) => assert.throws(fn, JavaNullPointer);
  it("expands auth:<null> like auth:'' (the id of an auth entry is never read)", () => {
    assert.deepEqual(fixupACL([kaz], [acl(Perm.ALL, 'auth', null)]), [{ perms: Perm.ALL, id: kaz }]);
    assert.equal(fixupACL([], [acl(Perm.ALL, 'auth', null)]), null); // nobody authenticated: INVALIDACL
  });
  it('a null scheme is INVALIDACL; a null id where a provider reads it is a NullPointerException', () => {
    assert.equal(fixupACL([kaz], [acl(Perm.ALL, null, 'anyone')]), null);
    assert.equal(fixupACL([kaz], [acl(Perm.ALL, null, null)]), null);
    assert.equal(fixupACL([kaz], [acl(Perm.ALL, 'kerberos', null)]), null); // no provider: INVALIDACL before isValid
    assert.equal(fixupACL([kaz], [acl(Perm.ALL, 'sasl', null)]), null); // sasl not registered
    npe(() => fixupACL([kaz], [acl(Perm.ALL, 'sasl', null)], { sasl: true }));
    npe(() => fixupACL([kaz], [acl(Perm.ALL, 'world', null)]));
    npe(() => fixupACL([kaz], [acl(Perm.ALL, 'digest', null)]));
    npe(() => fixupACL([kaz], [acl(Perm.ALL, 'ip', null)]));
    assert.equal(fixupACL([kaz], [acl(Perm.ALL, 'bogus', 'x'), acl(Perm.READ, 'digest', null)]), null); // stops at the first invalid entry
  });
  it('dedup calls equals on the later entry: its null is only read once perms (and scheme) match', () => {
    npe(() => fixupACL([kaz], [acl(Perm.ALL, 'auth', null), acl(Perm.ALL, 'auth', null)]));
    npe(() => fixupACL([kaz], [acl(Perm.ALL, 'world', 'anyone'), acl(Perm.ALL, null, 'x')]));
    assert.equal(fixupACL([kaz], [acl(Perm.ALL, 'world', 'anyone'), acl(Perm.READ, null, 'x')]), null);
    assert.equal(fixupACL([kaz], [acl(Perm.ALL, null, 'x'), acl(Perm.ALL, 'world', 'anyone')]), null);
  });
});

describe('prep with null paths and ACL ids', () => {
  const fresh = () => {
    const d = new TreeDriver();
    d.openSession(1n);
    return d;
  };
  it("creates with kazoo's CREATOR_ALL_ACL, storing the creator's digest", () => {
    const d = fresh();
    const r = d.run({ op: OpCode.create, path: '/k', data: null, acl: [acl(Perm.ALL, 'auth', null)], flags: 0 }, 1n, [kaz]);
    assert.equal(r.err, ErrorCode.OK);
    const got = d.state.getACL('/k', [kaz]);
    assert.deepEqual(got.ok && got.acl, [{ perms: Perm.ALL, id: kaz }]);
  });
  it('answers each null where ZooKeeper does: MARSHALLINGERROR on a dereference, BADARGUMENTS from validatePath', () => {
    const d = fresh();
    d.create('/n');
    const cases: Array<[string, Parameters<TreeDriver['run']>[0], number]> = [
      ['create', { op: OpCode.create, path: null, data: null, acl: [acl(31, 'world', 'anyone')], flags: 0 }, ErrorCode.MARSHALLINGERROR],
      ['createTTL without extended types', { op: OpCode.createTTL, path: null, data: null, acl: [], flags: 5, ttl: 1000n }, ErrorCode.UNIMPLEMENTED],
      ['create with world:<null>', { op: OpCode.create, path: '/x', data: null, acl: [acl(31, 'world', null)], flags: 0 }, ErrorCode.MARSHALLINGERROR],
      ['create with world:<null> under a missing parent', { op: OpCode.create, path: '/no/x', data: null, acl: [acl(31, 'world', null)], flags: 0 }, ErrorCode.MARSHALLINGERROR],
      ['delete', { op: OpCode.delete, path: null, version: -1 }, ErrorCode.MARSHALLINGERROR],
      ['setData', { op: OpCode.setData, path: null, data: null, version: -1 }, ErrorCode.BADARGUMENTS],
      ['setACL', { op: OpCode.setACL, path: null, acl: [acl(31, 'world', 'anyone')], version: -1 }, ErrorCode.BADARGUMENTS],
      ['setACL to world:<null>', { op: OpCode.setACL, path: '/n', acl: [acl(31, 'world', null)], version: -1 }, ErrorCode.MARSHALLINGERROR],
    ];
    for (const [name, req, err] of cases) assert.equal(d.run(req).err, err, name);
    assert.equal(d.state.getData('/x', { authIds: [] }).ok, false);
  });
  it('a multi whose later create NPEs is MARSHALLINGERROR as a whole, and what its earlier sub-ops prepared is dropped', () => {
    const d = fresh();
    const create = (path: string, id: string | null): CreateRequest => ({ op: OpCode.create, path, data: null, acl: [acl(31, 'world', id)], flags: 0 });
    const txn = d.prep({ op: OpCode.multi, ops: [create('/m1', 'anyone'), create('/m2', null)] });
    assert.deepEqual(txn.body, { type: OpCode.error, err: ErrorCode.MARSHALLINGERROR });
    assert.equal(d.state.outstanding.length, 0);
    d.state.apply(txn);
    assert.equal(d.run(create('/m1', 'anyone')).err, ErrorCode.OK); // nothing pending blocks it
  });
  it('a multi with a null sub-op path is refused before prep (no txn)', () => {
    const multi = (path: string | null): Request => ({ kind: 'multi', xid: 1, type: OpCode.multi, body: { ops: [{ type: OpCode.setData, body: { path, data: null, version: -1 } }] } });
    assert.equal(refusedBeforePrep(multi(null)), ErrorCode.MARSHALLINGERROR);
    assert.equal(refusedBeforePrep(multi('/x')), undefined);
  });
});

describe('setWatches with a null entry', () => {
  it('stops at a null in the data/exist/child lists (what came before took effect) and skips nulls in persistent lists', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    const r = d.state.setWatches(0n, { dataWatches: ['/gone', null, '/never'] }, 7);
    assert.equal(r.nullPath, true);
    assert.deepEqual(r.triggers.map((t) => t.event.path), ['/gone']);
    const p = d.state.setWatches(0n, { persistentWatches: [null, '/p'] }, 7);
    assert.equal(p.nullPath, false);
    assert.deepEqual(d.create('/p').triggers.map((t) => t.event.path), ['/p']);
  });
});

describe('addAuth with null fields', () => {
  it('digest with a null auth and a null scheme are AUTHFAILED; ip ignores its auth', () => {
    assert.deepEqual(authenticate('digest', null, '10.0.0.1'), { ok: false, err: ErrorCode.AUTHFAILED });
    assert.deepEqual(authenticate(null, Buffer.from('x'), '10.0.0.1'), { ok: false, err: ErrorCode.AUTHFAILED });
    assert.deepEqual(authenticate('ip', null, '10.0.0.1'), { ok: true, ids: [{ scheme: 'ip', id: '10.0.0.1' }] });
  });
});
