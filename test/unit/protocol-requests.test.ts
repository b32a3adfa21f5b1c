import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CreateMode, decodeConnectRequest, decodeConnectResponse, decodeReply, decodeRequest, encodeConnectRequest,
  encodeConnectResponse, encodeMultiReadResponse, encodeReply, encodeRequest, ErrorCode, JuteWriter, OpCode, Perm,
  ProtocolError, requestKind, writeRequestHeader, type ReplyHeader, type Request, type ResponseBody, type Stat,
} from '../../src/protocol/index.js';
import { mulberry32 as prng } from '../support/prng.js';

const stat: Stat = {
  czxid: 1n, mzxid: 2n, ctime: 3n, mtime: 4n, version: 5, cversion: 6, aversion: 7,
  ephemeralOwner: 0x72a1bn, dataLength: 8, numChildren: 9, pzxid: 10n,
};
const acl = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const create = { path: '/c', data: Buffer.from('d'), acl, flags: CreateMode.PERSISTENT };
const watches = { relativeZxid: 7n, dataWatches: ['/a'], existWatches: ['/b', '/c'], childWatches: [] };

/** One sample of every request a 3.8 client can send, plus an unknown opcode. */
const requests: Request[] = [
  { kind: 'create', xid: 1, type: OpCode.create, body: create },
  { kind: 'create2', xid: 2, type: OpCode.create2, body: { ...create, data: null } },
  { kind: 'createContainer', xid: 3, type: OpCode.createContainer, body: { ...create, flags: CreateMode.CONTAINER } },
  { kind: 'createTTL', xid: 4, type: OpCode.createTTL, body: { ...create, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 5000n } },
  { kind: 'delete', xid: 5, type: OpCode.delete, body: { path: '/d', version: -1 } },
  { kind: 'deleteContainer', xid: 6, type: OpCode.deleteContainer, body: { path: '/container/ü' } },
  { kind: 'exists', xid: 7, type: OpCode.exists, body: { path: '/e', watch: true } },
  { kind: 'getData', xid: 8, type: OpCode.getData, body: { path: '/g', watch: false } },
  { kind: 'setData', xid: 9, type: OpCode.setData, body: { path: '/s', data: Buffer.from('new'), version: 3 } },
  { kind: 'getACL', xid: 10, type: OpCode.getACL, body: { path: '/ga' } },
  { kind: 'setACL', xid: 11, type: OpCode.setACL, body: { path: '/sa', acl, version: 0 } },
  { kind: 'getChildren', xid: 12, type: OpCode.getChildren, body: { path: '/', watch: true } },
  { kind: 'getChildren2', xid: 13, type: OpCode.getChildren2, body: { path: '/', watch: false } },
  { kind: 'sync', xid: 14, type: OpCode.sync, body: { path: '/sy' } },
  { kind: 'ping', xid: -2, type: OpCode.ping },
  { kind: 'check', xid: 15, type: OpCode.check, body: { path: '/ck', version: 4 } },
  {
    kind: 'multi', xid: 16, type: OpCode.multi,
    body: {
      ops: [
        { type: OpCode.create, body: create },
        { type: OpCode.create2, body: create },
        { type: OpCode.createContainer, body: { ...create, flags: CreateMode.CONTAINER } },
        { type: OpCode.createTTL, body: { ...create, ttl: 1n } },
        { type: OpCode.delete, body: { path: '/d', version: 2 } },
        { type: OpCode.setData, body: { path: '/s', data: null, version: -1 } },
        { type: OpCode.check, body: { path: '/ck', version: 1 } },
      ],
    },
  },
  { kind: 'multi', xid: 17, type: OpCode.multi, body: { ops: [] } },
  {
    kind: 'multiRead', xid: 18, type: OpCode.multiRead,
    body: { ops: [{ type: OpCode.getChildren, body: { path: '/', watch: false } }, { type: OpCode.getData, body: { path: '/g', watch: false } }] },
  },
  { kind: 'reconfig', xid: 19, type: OpCode.reconfig, body: { joiningServers: 'server.4=h:2888:3888', leavingServers: null, newMembers: null, curConfigId: -1n } },
  { kind: 'checkWatches', xid: 20, type: OpCode.checkWatches, body: { path: '/cw', type: 1 } },
  { kind: 'removeWatches', xid: 21, type: OpCode.removeWatches, body: { path: '/rw', type: 3 } },
  { kind: 'auth', xid: -4, type: OpCode.auth, body: { type: 0, scheme: 'digest', auth: Buffer.from('user:pw') } },
  { kind: 'setWatches', xid: -8, type: OpCode.setWatches, body: watches },
  { kind: 'setWatches2', xid: -8, type: OpCode.setWatches2, body: { ...watches, persistentWatches: ['/p'], persistentRecursiveWatches: [] } },
  { kind: 'sasl', xid: 22, type: OpCode.sasl, body: { token: Buffer.from([0x60, 0x82]) } },
  { kind: 'getEphemerals', xid: 23, type: OpCode.getEphemerals, body: { prefixPath: '/' } },
  { kind: 'getAllChildrenNumber', xid: 24, type: OpCode.getAllChildrenNumber, body: { path: '/n' } },
  { kind: 'addWatch', xid: 25, type: OpCode.addWatch, body: { path: '/aw', mode: 1 } },
  { kind: 'whoAmI', xid: 26, type: OpCode.whoAmI },
  { kind: 'closeSession', xid: 27, type: OpCode.closeSession },
  { kind: 'unknown', xid: 28, type: 999, body: Buffer.from([1, 2, 3]) },
  { kind: 'unknown', xid: 29, type: OpCode.createSession, body: Buffer.alloc(0) },
];

/** One sample reply for every opcode with a reply body, plus header-only and error replies. */
const replies: { op: number; header: ReplyHeader; response?: ResponseBody }[] = [
  { op: OpCode.notification, header: { xid: -1, zxid: -1n, err: 0 }, response: { kind: 'notification', body: { type: 4, state: 3, path: '/w' } } },
  { op: OpCode.create, header: { xid: 1, zxid: 0x100000001n, err: 0 }, response: { kind: 'create', body: { path: '/c0000000001' } } },
  ...(['create2', 'createContainer', 'createTTL'] as const).map((kind) => ({
    op: OpCode[kind], header: { xid: 2, zxid: 9n, err: 0 }, response: { kind, body: { path: '/c', stat } } as ResponseBody,
  })),
  ...(['exists', 'setData', 'setACL', 'check'] as const).map((kind) => ({
    op: OpCode[kind], header: { xid: 3, zxid: 9n, err: 0 }, response: { kind, body: { stat } } as ResponseBody,
  })),
  ...(['getData', 'reconfig'] as const).map((kind) => ({
    op: OpCode[kind], header: { xid: 4, zxid: 9n, err: 0 }, response: { kind, body: { data: Buffer.from('v'), stat } } as ResponseBody,
  })),
  { op: OpCode.getData, header: { xid: 4, zxid: 9n, err: 0 }, response: { kind: 'getData', body: { data: null, stat } } },
  { op: OpCode.getACL, header: { xid: 5, zxid: 9n, err: 0 }, response: { kind: 'getACL', body: { acl, stat } } },
  { op: OpCode.getChildren, header: { xid: 6, zxid: 9n, err: 0 }, response: { kind: 'getChildren', body: { children: ['a', 'b'] } } },
  { op: OpCode.getChildren2, header: { xid: 7, zxid: 9n, err: 0 }, response: { kind: 'getChildren2', body: { children: [], stat } } },
  { op: OpCode.sync, header: { xid: 8, zxid: 9n, err: 0 }, response: { kind: 'sync', body: { path: '/sy' } } },
  { op: OpCode.getEphemerals, header: { xid: 9, zxid: 9n, err: 0 }, response: { kind: 'getEphemerals', body: { ephemerals: ['/e'] } } },
  { op: OpCode.getAllChildrenNumber, header: { xid: 10, zxid: 9n, err: 0 }, response: { kind: 'getAllChildrenNumber', body: { totalNumber: 3 } } },
  { op: OpCode.whoAmI, header: { xid: 11, zxid: 9n, err: 0 }, response: { kind: 'whoAmI', body: { clientInfo: [{ authScheme: 'ip', user: '127.0.0.1' }] } } },
  { op: OpCode.sasl, header: { xid: 12, zxid: 0n, err: 0 }, response: { kind: 'sasl', body: { token: Buffer.from([1]) } } },
  { op: OpCode.addWatch, header: { xid: 13, zxid: 9n, err: 0 }, response: { kind: 'addWatch', body: { err: 0 } } },
  {
    op: OpCode.multi, header: { xid: 14, zxid: 9n, err: 0 },
    response: {
      kind: 'multi',
      body: {
        results: [
          { type: OpCode.create, path: '/a' }, { type: OpCode.create2, path: '/b', stat }, { type: OpCode.delete },
          { type: OpCode.check }, { type: OpCode.setData, stat }, { type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY },
        ],
      },
    },
  },
  {
    op: OpCode.multiRead, header: { xid: 15, zxid: 9n, err: 0 },
    response: {
      kind: 'multiRead',
      body: { results: [{ type: OpCode.getChildren, children: ['x'] }, { type: OpCode.getData, data: null, stat }, { type: OpCode.error, err: ErrorCode.NONODE }] },
    },
  },
  ...(['delete', 'deleteContainer', 'ping', 'closeSession', 'setWatches', 'setWatches2', 'checkWatches', 'removeWatches', 'auth'] as const)
    .map((kind) => ({ op: OpCode[kind], header: { xid: kind === 'ping' ? -2 : 16, zxid: 9n, err: 0 } })),
  { op: OpCode.exists, header: { xid: 17, zxid: 9n, err: ErrorCode.NONODE } },
  { op: 999, header: { xid: 18, zxid: 9n, err: ErrorCode.UNIMPLEMENTED } },
];

test('the request samples cover every opcode decodeRequest knows', () => {
  const sampled = new Set(requests.map((r) => r.kind));
  for (const code of Object.values(OpCode)) {
    const kind = requestKind(code);
    if (kind !== undefined) assert.ok(sampled.has(kind), `no sample for ${kind}`);
  }
  assert.equal(requestKind(OpCode.notification), undefined);
  assert.equal(requestKind(OpCode.createSession), undefined);
});

test('every request variant round-trips through a length-prefixed frame', () => {
  for (const req of requests) {
    const bytes = encodeRequest(req);
    assert.equal(bytes.readInt32BE(0), bytes.length - 4, req.kind);
    assert.deepEqual(decodeRequest(bytes.subarray(4)), req, req.kind);
  }
});

test('every reply variant round-trips', () => {
  for (const { op, header, response } of replies) {
    const bytes = encodeReply(header, response);
    assert.equal(bytes.readInt32BE(0), bytes.length - 4);
    const expected = response === undefined ? { header } : { header, response };
    assert.deepEqual(decodeReply(bytes.subarray(4), op), expected, `op ${op}`);
  }
  const h = { xid: 1, zxid: 2n, err: 0 };
  assert.deepEqual(encodeMultiReadResponse(h, []), encodeReply(h, { kind: 'multiRead', body: { results: [] } }));
});

test('a reply with err != 0 is decoded without its body, as clients do', () => {
  // ZooKeeper's SASL error replies still carry a (null) token; it is ignored, not an error.
  const bytes = encodeReply({ xid: 3, zxid: 0n, err: ErrorCode.AUTHFAILED }, { kind: 'sasl', body: { token: null } });
  assert.deepEqual(decodeReply(bytes.subarray(4), OpCode.sasl), { header: { xid: 3, zxid: 0n, err: ErrorCode.AUTHFAILED } });
});

test('an unknown opcode is returned, not thrown, so the server can answer UNIMPLEMENTED', () => {
  const w = new JuteWriter();
  writeRequestHeader(w, { xid: 42, type: 55 });
  w.int(7);
  assert.deepEqual(decodeRequest(w.toBuffer()), { kind: 'unknown', xid: 42, type: 55, body: Buffer.from([0, 0, 0, 7]) });
});

test('trailing garbage after a known body is a ProtocolError carrying the header', () => {
  for (const req of requests) {
    if (req.kind === 'unknown' || req.kind === 'deleteContainer') continue; // their bodies are "the rest"
    const payload = Buffer.concat([encodeRequest(req).subarray(4), Buffer.from([0])]);
    assert.throws(() => decodeRequest(payload), (e: unknown) =>
      e instanceof ProtocolError && e.reason === 'trailing-bytes' && e.header?.xid === req.xid && e.header.type === req.type);
  }
  const reply = encodeReply({ xid: 1, zxid: 1n, err: 0 }, { kind: 'sync', body: { path: '/' } });
  assert.throws(() => decodeReply(Buffer.concat([reply.subarray(4), Buffer.from([9])]), OpCode.sync), ProtocolError);
});

test('every truncation of every frame is a ProtocolError, never a RangeError', () => {
  const payloads: [Buffer, (b: Buffer) => unknown][] = [
    ...requests.filter((r) => r.kind !== 'unknown' && r.kind !== 'deleteContainer')
      .map((r) => [encodeRequest(r).subarray(4), (b: Buffer) => decodeRequest(b)] as [Buffer, (b: Buffer) => unknown]),
    ...replies.filter((r) => r.response).map(({ op, header, response }) =>
      [encodeReply(header, response).subarray(4), (b: Buffer) => decodeReply(b, op)] as [Buffer, (b: Buffer) => unknown]),
  ];
  const conn = { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 1, sessionId: 0n, passwd: Buffer.alloc(16) };
  // Without the optional readOnly byte the last valid cut is a complete old-style request.
  payloads.push([encodeConnectRequest(conn).subarray(4), decodeConnectRequest]);
  payloads.push([encodeConnectResponse({ ...conn, timeOut: 2 }).subarray(4), decodeConnectResponse]);
  for (const [payload, decode] of payloads) {
    for (let cut = 0; cut < payload.length; cut++) {
      assert.throws(() => decode(payload.subarray(0, cut)), ProtocolError, `cut ${cut} of ${payload.toString('hex')}`);
    }
  }
});

test('lengths inside a body that claim more than remains are ProtocolErrors', () => {
  const create = encodeRequest(requests[0]!).subarray(4);
  const evil = (offset: number, value: number): Buffer => {
    const b = Buffer.from(create);
    b.writeInt32BE(value, offset);
    return b;
  };
  const reasonOf = (b: Buffer): string => {
    try {
      decodeRequest(b);
      return 'decoded';
    } catch (e) {
      assert.ok(e instanceof ProtocolError, String(e));
      return e.reason;
    }
  };
  // Layout: header(8) path(4+2) data(4+1) acl count(4) ...
  assert.equal(reasonOf(evil(8, 1000)), 'length-exceeds-remaining');
  assert.equal(reasonOf(evil(8, 0x7fffffff)), 'length-exceeds-max');
  assert.equal(reasonOf(evil(8, -2)), 'negative-length');
  // -1 is a null path, as Java reads it (test/unit/null-strings.test.ts): the path's two bytes
  // are then read as the data length, which is too large.
  assert.equal(reasonOf(evil(8, -1)), 'length-exceeds-max');
  assert.equal(reasonOf(evil(14, 5000)), 'length-exceeds-remaining');
  assert.equal(reasonOf(evil(19, 0x7fffffff)), 'length-exceeds-remaining');
  assert.equal(reasonOf(evil(19, 0x40000)), 'length-exceeds-remaining');
});

test('a multi sub-op of the wrong family is rejected', () => {
  const w = new JuteWriter();
  writeRequestHeader(w, { xid: 1, type: OpCode.multi });
  w.int(OpCode.getData).bool(false).int(-1).ustring('/g').bool(false); // a read op inside a write multi
  w.int(-1).bool(true).int(-1);
  assert.throws(() => decodeRequest(w.toBuffer()), (e: unknown) => e instanceof ProtocolError && e.reason === 'invalid-multi-op');
});


test('fuzz: random mutations of valid frames decode or throw ProtocolError, nothing else', () => {
  const rand = prng(0x5eed);
  const pick = (n: number): number => Math.floor(rand() * n);
  const interesting = [-1, -2, 0, 1, 0x7fffffff, -0x80000000, 0xfffff, 0x100000, 255];
  const corpus = [
    ...requests.map((r) => ({ bytes: encodeRequest(r).subarray(4), op: r.type })),
    ...replies.map(({ op, header, response }) => ({ bytes: encodeReply(header, response).subarray(4), op })),
  ];
  let decoded = 0;
  for (let i = 0; i < 2000; i++) {
    const { bytes, op } = corpus[pick(corpus.length)]!;
    let b = Buffer.from(bytes);
    const mutations = 1 + pick(3);
    for (let m = 0; m < mutations; m++) {
      const how = pick(4);
      if (how === 0 && b.length > 0) b[pick(b.length)] = pick(256);
      else if (how === 1 && b.length >= 4) b.writeInt32BE(interesting[pick(interesting.length)]!, pick(b.length - 3));
      else if (how === 2) b = b.subarray(0, pick(b.length + 1));
      else b = Buffer.concat([b, Buffer.from([pick(256), pick(256)])]);
    }
    for (const decode of [
      () => decodeRequest(b, { maxLength: 4096 }),
      () => decodeReply(b, op),
      () => decodeReply(b, pick(30) - 12),
      () => decodeConnectRequest(b),
      () => decodeConnectResponse(b),
    ]) {
      try {
        decode();
        decoded++;
      } catch (e) {
        if (!(e instanceof ProtocolError)) assert.fail(`iteration ${i}: ${String(e)} for ${b.toString('hex')}`);
      }
    }
    // Whatever decodes re-encodes to something that decodes to the same value.
    try {
      const req = decodeRequest(b);
      assert.deepEqual(decodeRequest(encodeRequest(req).subarray(4)), req);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
  }
  assert.ok(decoded > 100, `only ${decoded} mutants decoded: the fuzz is not reaching the bodies`);
});
