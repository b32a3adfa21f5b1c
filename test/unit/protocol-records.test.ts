import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import * as P from '../../src/protocol/index.js';
import {
  CreateMode, decodeConnectRequest, decodeConnectResponse, decodeReply, decodeRequest, encodeConnectRequest,
  encodeConnectResponse, encodeMultiResponse, encodeRequest, encodeWatcherEvent, ErrorCode, EventType, JuteReader,
  JuteWriter, KeeperState, OpCode, Perm, type Stat,
} from '../../src/protocol/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

const stat: Stat = {
  czxid: 0x100000001n, mzxid: 0x100000002n, ctime: 1_700_000_000_000n, mtime: 1_700_000_000_001n,
  version: 3, cversion: -1, aversion: 5, ephemeralOwner: 0x0123456789abcdefn,
  dataLength: 4, numChildren: 2, pzxid: -(1n << 63n),
};
const acl = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }, { perms: Perm.READ, id: { scheme: 'ip', id: '10.0.0.0/8' } }];

/** write → read → deepEqual, with the input consumed exactly. */
function roundTrip<T>(write: (w: P.JuteWriter, v: T) => void, read: (r: P.JuteReader) => T, value: T): void {
  const w = new JuteWriter();
  write(w, value);
  const r = new JuteReader(w.toBuffer());
  assert.deepEqual(read(r), value);
  r.end();
}

test('every record round-trips', () => {
  roundTrip(P.writeId, P.readId, { scheme: 'digest', id: 'user:hash=' });
  roundTrip(P.writeACL, P.readACL, acl[0]!);
  roundTrip(P.writeStat, P.readStat, stat);
  roundTrip(P.writeClientInfo, P.readClientInfo, { authScheme: 'ip', user: '127.0.0.1' });
  const passwd = Buffer.alloc(16, 9);
  const connReq = { protocolVersion: 0, lastZxidSeen: 5n, timeOut: 30000, sessionId: 0n, passwd };
  roundTrip(P.writeConnectRequest, P.readConnectRequest, connReq);
  roundTrip(P.writeConnectRequest, P.readConnectRequest, { ...connReq, readOnly: true });
  const connRes = { protocolVersion: 0, timeOut: 4000, sessionId: -5n, passwd };
  roundTrip(P.writeConnectResponse, P.readConnectResponse, connRes);
  roundTrip(P.writeConnectResponse, P.readConnectResponse, { ...connRes, readOnly: false });
  roundTrip(P.writeRequestHeader, P.readRequestHeader, { xid: -8, type: OpCode.setWatches });
  roundTrip(P.writeReplyHeader, P.readReplyHeader, { xid: 7, zxid: 0x7fffffffffffffffn, err: ErrorCode.NONODE });
  roundTrip(P.writeMultiHeader, P.readMultiHeader, { type: -1, done: true, err: -1 });
  roundTrip(P.writeWatcherEvent, P.readWatcherEvent, { type: EventType.NodeDeleted, state: KeeperState.SyncConnected, path: '/a' });
  roundTrip(P.writeAuthPacket, P.readAuthPacket, { type: 0, scheme: 'digest', auth: Buffer.from('u:p') });
  const create = { path: '/n', data: Buffer.from('v'), acl, flags: CreateMode.CONTAINER };
  roundTrip(P.writeCreateRequest, P.readCreateRequest, create);
  roundTrip(P.writeCreateRequest, P.readCreateRequest, { ...create, data: null, acl: [] });
  roundTrip(P.writeCreateTTLRequest, P.readCreateTTLRequest, { ...create, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000n });
  roundTrip(P.writeDeleteRequest, P.readDeleteRequest, { path: '/d', version: -1 });
  roundTrip(P.writeCheckVersionRequest, P.readCheckVersionRequest, { path: '/c', version: 9 });
  for (const [w, r] of [
    [P.writeExistsRequest, P.readExistsRequest], [P.writeGetDataRequest, P.readGetDataRequest],
    [P.writeGetChildrenRequest, P.readGetChildrenRequest], [P.writeGetChildren2Request, P.readGetChildren2Request],
  ] as const) {
    roundTrip(w, r, { path: '/w', watch: true });
    roundTrip(w, r, { path: '/w', watch: false });
  }
  roundTrip(P.writeSetDataRequest, P.readSetDataRequest, { path: '/s', data: Buffer.alloc(0), version: 2 });
  for (const [w, r] of [
    [P.writeGetACLRequest, P.readGetACLRequest], [P.writeSyncRequest, P.readSyncRequest],
    [P.writeGetAllChildrenNumberRequest, P.readGetAllChildrenNumberRequest],
  ] as const) {
    roundTrip(w, r, { path: '/p' });
    roundTrip(w, r, { path: null });
  }
  roundTrip(P.writeCreateResponse, P.readCreateResponse, { path: '/p' });
  roundTrip(P.writeSyncResponse, P.readSyncResponse, { path: '/p' });
  roundTrip(P.writeSyncResponse, P.readSyncResponse, { path: null });
  roundTrip(P.writeSetACLRequest, P.readSetACLRequest, { path: '/acl', acl, version: 0 });
  const watches = { relativeZxid: 0x200000000n, dataWatches: ['/d1', '/d2'], existWatches: [], childWatches: ['/c'] };
  roundTrip(P.writeSetWatches, P.readSetWatches, watches);
  roundTrip(P.writeSetWatches2, P.readSetWatches2, { ...watches, persistentWatches: ['/p'], persistentRecursiveWatches: ['/r', '/'] });
  roundTrip(P.writeAddWatchRequest, P.readAddWatchRequest, { path: '/aw', mode: P.AddWatchMode.PERSISTENT_RECURSIVE });
  roundTrip(P.writeCheckWatchesRequest, P.readCheckWatchesRequest, { path: '/cw', type: P.WatcherType.Children });
  roundTrip(P.writeRemoveWatchesRequest, P.readRemoveWatchesRequest, { path: '/rw', type: P.WatcherType.Any });
  roundTrip(P.writeGetEphemeralsRequest, P.readGetEphemeralsRequest, { prefixPath: '/e' });
  roundTrip(P.writeReconfigRequest, P.readReconfigRequest, { joiningServers: null, leavingServers: '3', newMembers: null, curConfigId: -1n });
  roundTrip(P.writeGetSASLRequest, P.readGetSASLRequest, { token: Buffer.from([1, 2]) });
  roundTrip(P.writeSetSASLResponse, P.readSetSASLResponse, { token: null });
  roundTrip(P.writeCreate2Response, P.readCreate2Response, { path: '/x0000000001', stat });
  for (const [w, r] of [
    [P.writeExistsResponse, P.readExistsResponse], [P.writeSetDataResponse, P.readSetDataResponse],
    [P.writeSetACLResponse, P.readSetACLResponse],
  ] as const) roundTrip(w, r, { stat });
  roundTrip(P.writeGetDataResponse, P.readGetDataResponse, { data: null, stat });
  roundTrip(P.writeGetDataResponse, P.readGetDataResponse, { data: Buffer.from('abc'), stat });
  roundTrip(P.writeGetACLResponse, P.readGetACLResponse, { acl, stat });
  roundTrip(P.writeGetChildrenResponse, P.readGetChildrenResponse, { children: ['a', 'b', 'ü'] });
  roundTrip(P.writeGetChildren2Response, P.readGetChildren2Response, { children: [], stat });
  roundTrip(P.writeGetEphemeralsResponse, P.readGetEphemeralsResponse, { ephemerals: ['/e/1'] });
  roundTrip(P.writeGetAllChildrenNumberResponse, P.readGetAllChildrenNumberResponse, { totalNumber: 12345 });
  roundTrip(P.writeWhoAmIResponse, P.readWhoAmIResponse, { clientInfo: [{ authScheme: 'ip', user: '::1' }] });
  roundTrip(P.writeErrorResponse, P.readErrorResponse, { err: ErrorCode.BADVERSION });
});

// ---- golden frames, built by hand from zookeeper.jute and the C client's handshake code ----

const connectPayload = `00000000 0000000100000005 00000fa0 0123456789abcdef 00000010 ${'000102030405060708090a0b0c0d0e0f'}`;
const connectReq = {
  protocolVersion: 0, lastZxidSeen: 0x100000005n, timeOut: 4000, sessionId: 0x0123456789abcdefn,
  passwd: hex('000102030405060708090a0b0c0d0e0f'),
};

test('golden: ConnectRequest with the readOnly byte (45 bytes, as the C client sends)', () => {
  const bytes = hex(`0000002d ${connectPayload} 01`);
  assert.deepEqual(encodeConnectRequest({ ...connectReq, readOnly: true }), bytes);
  assert.deepEqual(decodeConnectRequest(bytes.subarray(4)), { ...connectReq, readOnly: true });
});

test('golden: ConnectRequest from an old client without the readOnly byte', () => {
  const bytes = hex(`0000002c ${connectPayload}`);
  assert.deepEqual(encodeConnectRequest(connectReq), bytes);
  const decoded = decodeConnectRequest(bytes.subarray(4));
  assert.deepEqual(decoded, connectReq);
  assert.equal('readOnly' in decoded, false);
  assert.throws(() => decodeConnectRequest(hex(`${connectPayload} 00 00`)), P.ProtocolError);
});

test('golden: ConnectResponse is the fixed 41 bytes the C client reads', () => {
  const res = { protocolVersion: 0, timeOut: 4000, sessionId: 0x0123456789abcdefn, passwd: connectReq.passwd, readOnly: false };
  const bytes = encodeConnectResponse(res);
  assert.equal(bytes.length, 41);
  assert.deepEqual(bytes, hex('00000025 00000000 00000fa0 0123456789abcdef 00000010 000102030405060708090a0b0c0d0e0f 00'));
  assert.deepEqual(decodeConnectResponse(bytes.subarray(4)), res);
  const { readOnly: _omit, ...old } = res;
  assert.equal(encodeConnectResponse(old).length, 40);
});

test('golden: create request', () => {
  const bytes = hex(`00000033 00000001 00000001
    00000002 ${ascii('/x')} 00000002 ${ascii('ab')}
    00000001 0000001f 00000005 ${ascii('world')} 00000006 ${ascii('anyone')}
    00000003`);
  const req = {
    kind: 'create', xid: 1, type: OpCode.create,
    body: { path: '/x', data: Buffer.from('ab'), acl: [acl[0]!], flags: CreateMode.EPHEMERAL_SEQUENTIAL },
  } as const satisfies P.Request;
  assert.deepEqual(encodeRequest(req), bytes);
  assert.deepEqual(decodeRequest(bytes.subarray(4)), req);
});

test('golden: multi with two ops and the terminating header', () => {
  const bytes = hex(`0000003f 00000005 0000000e
    00000001 00 ffffffff  00000002 ${ascii('/a')} ffffffff 00000000 00000000
    00000002 00 ffffffff  00000002 ${ascii('/b')} ffffffff
    ffffffff 01 ffffffff`);
  const req: P.Request = {
    kind: 'multi', xid: 5, type: OpCode.multi,
    body: {
      ops: [
        { type: OpCode.create, body: { path: '/a', data: null, acl: [], flags: 0 } },
        { type: OpCode.delete, body: { path: '/b', version: -1 } },
      ],
    },
  };
  assert.deepEqual(encodeRequest(req), bytes);
  assert.deepEqual(decodeRequest(bytes.subarray(4)), req);
});

test('golden: multi response with a result and an error result', () => {
  const bytes = hex(`00000035 00000005 0000000000000010 00000000
    00000001 00 00000000 00000002 ${ascii('/a')}
    ffffffff 00 ffffff9b ffffff9b
    ffffffff 01 ffffffff`);
  const header = { xid: 5, zxid: 0x10n, err: 0 };
  const results: P.MultiResult[] = [{ type: OpCode.create, path: '/a' }, { type: OpCode.error, err: ErrorCode.NONODE }];
  assert.deepEqual(encodeMultiResponse(header, results), bytes);
  assert.deepEqual(decodeReply(bytes.subarray(4), OpCode.multi), { header, response: { kind: 'multi', body: { results } } });
});

test('golden: watcher event (xid -1, err 0; ZooKeeper 3.8 sends zxid -1)', () => {
  const bytes = hex(`0000001e ffffffff ffffffffffffffff 00000000 00000003 00000003 00000002 ${ascii('/x')}`);
  const event = { type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: '/x' };
  assert.deepEqual(encodeWatcherEvent(-1n, event), bytes);
  assert.deepEqual(decodeReply(bytes.subarray(4), OpCode.notification), {
    header: { xid: -1, zxid: -1n, err: 0 },
    response: { kind: 'notification', body: event },
  });
});

// ---- constants, cross-checked against the C client's headers where it defines them ----

const cClient = join(dirname(createRequire(import.meta.url).resolve('zookeeper/package.json')), 'deps/zookeeper-client-c');

test('OpCode agrees with the C client proto.h', () => {
  const proto = readFileSync(join(cClient, 'include/proto.h'), 'utf8');
  const cNames: Record<string, P.OpName> = {
    NOTIFY_OP: 'notification', CREATE_OP: 'create', DELETE_OP: 'delete', EXISTS_OP: 'exists', GETDATA_OP: 'getData',
    SETDATA_OP: 'setData', GETACL_OP: 'getACL', SETACL_OP: 'setACL', GETCHILDREN_OP: 'getChildren', SYNC_OP: 'sync',
    PING_OP: 'ping', GETCHILDREN2_OP: 'getChildren2', CHECK_OP: 'check', MULTI_OP: 'multi', CREATE2_OP: 'create2',
    RECONFIG_OP: 'reconfig', CHECK_WATCHES: 'checkWatches', REMOVE_WATCHES: 'removeWatches',
    CREATE_CONTAINER_OP: 'createContainer', DELETE_CONTAINER_OP: 'deleteContainer', CREATE_TTL_OP: 'createTTL',
    CLOSE_OP: 'closeSession', SETAUTH_OP: 'auth', SETWATCHES_OP: 'setWatches', SASL_OP: 'sasl',
  };
  const defs = [...proto.matchAll(/#define ZOO_(\w+) (-?\d+)/g)];
  assert.equal(defs.length, Object.keys(cNames).length);
  for (const [, name, value] of defs) assert.equal(OpCode[cNames[name!]!], Number(value), name);
});

test('ErrorCode agrees with the C client zookeeper.h for every code both define', () => {
  const header = readFileSync(join(cClient, 'include/zookeeper.h'), 'utf8');
  let matched = 0;
  for (const [, name, value] of header.matchAll(/^\s+Z([A-Z]+) = (-?\d+)/gm)) {
    const ours = (ErrorCode as Record<string, number>)[name === 'OK' ? 'OK' : name!];
    if (ours === undefined) continue; // client-side only codes: ZINVALIDSTATE, ZCLOSING, ...
    assert.equal(ours, Number(value), name);
    matched++;
  }
  assert.ok(matched >= 28, `only ${matched} codes matched`);
});

test('names for logs', () => {
  assert.equal(P.opName(OpCode.getChildren2), 'getChildren2');
  assert.equal(P.opName(-11), 'closeSession');
  assert.equal(P.opName(999), 'op(999)');
  assert.equal(P.errorName(-101), 'NONODE');
  assert.equal(P.errorName(0), 'OK');
  assert.equal(P.errorName(-999), 'error(-999)');
  assert.equal(P.CreateFlag.EPHEMERAL_SEQUENTIAL, 3);
  assert.equal(P.Xid.SET_WATCHES, -8);
  assert.equal(P.DEFAULT_MAX_FRAME, 0xfffff);
});
