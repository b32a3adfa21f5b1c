/**
 * Protocol fuzzing of zk-elect's own server (a real child process) with fast-check, seeded
 * and bounded. Each run opens a fresh connection and sends one of: random bytes before any
 * handshake, absurd length prefixes (huge, negative, just under the frame limit with the
 * body missing), a mutated ConnectRequest, or a valid handshake followed by request frames
 * built with our codec and then mutated (bytes flipped, truncated, length prefix changed,
 * garbage inserted), delivered in random chunks; valid requests are interleaved.
 *
 * After every run: the server answers ruok, a separate well-behaved session still works,
 * and whatever the server sent on the fuzzed connection is well-framed. At the end: the
 * protected subtree is byte-for-byte unchanged (a digest walked with getChildren/getData by
 * a clean client), the well-behaved client's own writes all landed, and the server's RSS
 * stayed under 300 MB.
 *
 * FUZZ_SEED and FUZZ_RUNS override the seed (default 20241122) and run count (default 200).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { fourLetterWord, type ZkEnsemble } from '../support/apache-zookeeper.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import {
  encodeConnectRequest, encodeRequest, FrameDecoder, OpCode, type MultiOp, type Request,
} from '../../src/protocol/index.js';
import { CreateMode, Op, OPEN_ACL_UNSAFE, RawClient } from '../support/raw-client.js';
import { SERVER_OPTIONS } from './framework.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20241122);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);
const RSS_LIMIT_MB = 300;
const STABLE = '/fuzz-stable';
const TARGET = '/fuzz-target';
const VALID = '/fuzz-valid';

let zk: ZkEnsemble;
let address: string;

before(async () => {
  zk = await startZkElectServer({ ...SERVER_OPTIONS });
  address = zk.members[0]!.address;
}, { timeout: 60_000 });

after(async () => {
  await zk?.stop();
});

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** sha256 over every node of a subtree: path, data, versions, zxids, children (sorted walk). */
async function digest(c: RawClient, root: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (path: string): Promise<void> => {
    const d = await c.getData(path);
    const k = await c.getChildren2(path);
    h.update(`${path}\0${d.errName}\0`);
    if (d.body) {
      const s = d.body.stat;
      h.update(d.body.data ?? Buffer.from('<null>'));
      h.update(`\0${s.czxid}/${s.mzxid}/${s.pzxid}/${s.version}/${s.cversion}/${s.aversion}/${s.ephemeralOwner}/${s.numChildren}\0`);
    }
    for (const child of [...(k.body?.children ?? [])].sort()) await walk(path === '/' ? `/${child}` : `${path}/${child}`);
  };
  await walk(root);
  return h.digest('hex');
}

/**
 * The system subtree as far as no client may change it: which children /zookeeper has, and the
 * whole of /zookeeper/config and /zookeeper/quota. /zookeeper's own data is not included: its
 * ACL is world:anyone ALL on Apache as on ours, so a fuzzed setData that happens to be well
 * formed may legally write it (requests pipelined behind the handshake are served).
 */
async function systemDigest(c: RawClient): Promise<string> {
  const kids = await c.getChildren2('/zookeeper');
  return `${[...(kids.body?.children ?? [])].sort().join(',')}|${await digest(c, '/zookeeper/config')}|${await digest(c, '/zookeeper/quota')}`;
}

// ---- inputs ---------------------------------------------------------------------------------

const int32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v | 0);
  return b;
};

const connectFrame = (timeOut: number) =>
  encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });

const pathArb = fc.constantFrom(`${TARGET}`, `${TARGET}/a`, `${TARGET}/a/b`, `${TARGET}/s-`, `${TARGET}/e`, '/', '/zookeeper', `${TARGET}/`);
const dataArb = fc.option(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), { nil: null });
const aclArb = fc.constantFrom(
  OPEN_ACL_UNSAFE,
  [],
  [{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }],
  [{ perms: 1, id: { scheme: 'ip', id: '127.0.0.1/8' } }],
  [{ perms: 31, id: { scheme: 'auth', id: '' } }],
);
const flagsArb = fc.integer({ min: -1, max: 7 });
const xidArb = fc.integer({ min: 1, max: 1_000_000 });

const multiOpArb: fc.Arbitrary<MultiOp> = fc.oneof(
  fc.record({ p: pathArb, d: dataArb, f: flagsArb }).map(({ p, d, f }) => Op.create(p, d, f)),
  fc.record({ p: pathArb, v: fc.integer({ min: -1, max: 3 }) }).map(({ p, v }) => Op.delete(p, v)),
  fc.record({ p: pathArb, d: dataArb }).map(({ p, d }) => Op.setData(p, d)),
  fc.record({ p: pathArb, v: fc.integer({ min: -1, max: 3 }) }).map(({ p, v }) => Op.check(p, v)),
);

/** A valid request built with our codec (before mutation). */
const requestArb: fc.Arbitrary<Request> = fc.oneof(
  fc.record({ xid: xidArb, path: pathArb, data: dataArb, acl: aclArb, flags: flagsArb }).map(({ xid, path, data, acl, flags }) =>
    ({ kind: 'create2', xid, type: OpCode.create2, body: { path, data, acl, flags } }) as Request),
  fc.record({ xid: xidArb, path: pathArb, data: dataArb, ttl: fc.bigInt({ min: -2n, max: 1n << 40n }), flags: flagsArb }).map(({ xid, path, data, ttl, flags }) =>
    ({ kind: 'createTTL', xid, type: OpCode.createTTL, body: { path, data, acl: OPEN_ACL_UNSAFE, flags, ttl } }) as Request),
  fc.record({ xid: xidArb, path: pathArb, version: fc.integer({ min: -1, max: 2 }) }).map(({ xid, path, version }) =>
    ({ kind: 'delete', xid, type: OpCode.delete, body: { path, version } }) as Request),
  fc.record({ xid: xidArb, path: pathArb, data: dataArb }).map(({ xid, path, data }) =>
    ({ kind: 'setData', xid, type: OpCode.setData, body: { path, data, version: -1 } }) as Request),
  fc.record({ xid: xidArb, path: pathArb, watch: fc.boolean(), kind: fc.constantFrom('exists', 'getData', 'getChildren', 'getChildren2') }).map(({ xid, path, watch, kind }) =>
    ({ kind, xid, type: OpCode[kind], body: { path, watch } }) as Request),
  fc.record({ xid: xidArb, path: pathArb, acl: aclArb }).map(({ xid, path, acl }) =>
    ({ kind: 'setACL', xid, type: OpCode.setACL, body: { path, acl, version: -1 } }) as Request),
  fc.record({ xid: xidArb, ops: fc.array(multiOpArb, { maxLength: 5 }) }).map(({ xid, ops }) =>
    ({ kind: 'multi', xid, type: OpCode.multi, body: { ops } }) as Request),
  fc.record({ xid: xidArb, paths: fc.array(pathArb, { maxLength: 4 }) }).map(({ xid, paths }) =>
    ({ kind: 'multiRead', xid, type: OpCode.multiRead, body: { ops: paths.map((p, i) => (i % 2 ? Op.getChildren(p) : Op.getData(p))) } }) as Request),
  fc.record({ zxid: fc.bigInt({ min: -1n, max: 100n }), paths: fc.array(pathArb, { maxLength: 4 }) }).map(({ zxid, paths }) =>
    ({ kind: 'setWatches2', xid: -8, type: OpCode.setWatches2, body: { relativeZxid: zxid, dataWatches: paths, existWatches: paths, childWatches: paths, persistentWatches: paths, persistentRecursiveWatches: paths } }) as Request),
  fc.record({ xid: xidArb, path: pathArb, mode: fc.integer({ min: -1, max: 3 }) }).map(({ xid, path, mode }) =>
    ({ kind: 'addWatch', xid, type: OpCode.addWatch, body: { path, mode } }) as Request),
  fc.record({ xid: xidArb, path: pathArb, type: fc.integer({ min: 0, max: 4 }), kind: fc.constantFrom('checkWatches', 'removeWatches') }).map(({ xid, path, type, kind }) =>
    ({ kind, xid, type: OpCode[kind], body: { path, type } }) as Request),
  fc.record({ scheme: fc.constantFrom('digest', 'ip', 'sasl', 'world', ''), auth: fc.uint8Array({ maxLength: 32 }) }).map(({ scheme, auth }) =>
    ({ kind: 'auth', xid: -4, type: OpCode.auth, body: { type: 0, scheme, auth: Buffer.from(auth) } }) as Request),
  fc.record({ xid: xidArb, path: pathArb, kind: fc.constantFrom('sync', 'getACL', 'getAllChildrenNumber') }).map(({ xid, path, kind }) =>
    ({ kind, xid, type: OpCode[kind], body: { path } }) as Request),
  fc.record({ xid: xidArb, prefixPath: pathArb }).map(({ xid, prefixPath }) =>
    ({ kind: 'getEphemerals', xid, type: OpCode.getEphemerals, body: { prefixPath } }) as Request),
  fc.record({ xid: xidArb, kind: fc.constantFrom('whoAmI', 'ping') }).map(({ xid, kind }) =>
    ({ kind, xid: kind === 'ping' ? -2 : xid, type: OpCode[kind] }) as Request),
  fc.record({ xid: xidArb, type: fc.oneof(fc.constantFrom(-11, -10, 0, 10, 16, 20, 23, 102, 108, 999), fc.integer()), body: fc.uint8Array({ maxLength: 48 }) }).map(({ xid, type, body }) =>
    ({ kind: 'unknown', xid, type, body: Buffer.from(body) }) as Request),
);

type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: Array<[number, number]> }
  | { kind: 'truncate'; keep: number }
  | { kind: 'length'; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'append'; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'none' } as Mutation) },
  { weight: 4, arbitrary: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((at) => ({ kind: 'flip', at }) as Mutation) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((keep) => ({ kind: 'truncate', keep }) as Mutation) },
  { weight: 2, arbitrary: fc.oneof(fc.constantFrom(-1, -2147483648, 0, 1, 0x7fffffff, 0xfffff, 0x100000, 0xffffe), fc.integer()).map((value) => ({ kind: 'length', value }) as Mutation) },
  { weight: 1, arbitrary: fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }).map(({ at, bytes }) => ({ kind: 'insert', at, bytes }) as Mutation) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bytes) => ({ kind: 'append', bytes }) as Mutation) },
);

/** Mutates a length-prefixed frame; body bytes are indexed after the 4-byte prefix. */
function mutate(frame: Buffer, m: Mutation): Buffer {
  const f = Buffer.from(frame);
  switch (m.kind) {
    case 'none':
      return f;
    case 'flip':
      for (const [i, v] of m.at) f[4 + (i % Math.max(1, f.length - 4))] = v;
      return f;
    case 'truncate':
      return f.subarray(0, Math.floor(f.length * m.keep));
    case 'length':
      f.writeInt32BE(m.value | 0, 0);
      return f;
    case 'insert': {
      const at = 4 + (m.at % Math.max(1, f.length - 4));
      const out = Buffer.concat([f.subarray(0, at), Buffer.from(m.bytes), f.subarray(at)]);
      out.writeInt32BE(out.length - 4, 0); // a consistent prefix: the garbage is inside the frame
      return out;
    }
    case 'append':
      return Buffer.concat([f, Buffer.from(m.bytes)]);
  }
}

type Case =
  | { kind: 'garbage'; bytes: Uint8Array }
  | { kind: 'length-only'; value: number; body: number }
  | { kind: 'bad-connect'; m: Mutation; timeOut: number }
  | { kind: 'session'; frames: Array<{ req: Request; m: Mutation }>; thenValid: Request | null; timeOut: number };

const caseArb: fc.Arbitrary<Case> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 96 }).map((bytes) => ({ kind: 'garbage', bytes }) as Case) },
  {
    weight: 1,
    arbitrary: fc.record({
      value: fc.oneof(fc.constantFrom(-1, -2147483648, 0x7fffffff, 0x7ffffff0, 0xfffff, 0x100000, 1 << 24), fc.integer()),
      body: fc.integer({ min: 0, max: 4096 }),
    }).map(({ value, body }) => ({ kind: 'length-only', value, body }) as Case),
  },
  { weight: 1, arbitrary: fc.record({ m: mutationArb, timeOut: fc.integer({ min: -5, max: 100_000 }) }).map(({ m, timeOut }) => ({ kind: 'bad-connect', m, timeOut }) as Case) },
  {
    weight: 5,
    arbitrary: fc.record({
      frames: fc.array(fc.record({ req: requestArb, m: mutationArb }), { minLength: 1, maxLength: 4 }),
      thenValid: fc.option(requestArb, { nil: null }),
      timeOut: fc.constantFrom(1000, 4000, 30_000),
    }).map((c) => ({ kind: 'session', ...c }) as Case),
  },
);

function bytesOf(c: Case): Buffer {
  switch (c.kind) {
    case 'garbage':
      return Buffer.from(c.bytes);
    case 'length-only':
      return Buffer.concat([int32(c.value), Buffer.alloc(c.body, 0x41)]);
    case 'bad-connect':
      return mutate(connectFrame(c.timeOut), c.m);
    case 'session':
      return Buffer.concat([
        connectFrame(c.timeOut),
        ...c.frames.map(({ req, m }) => mutate(encodeRequest(req), m)),
        ...(c.thenValid ? [encodeRequest(c.thenValid)] : []),
      ]);
  }
}

/**
 * Sends `bytes` in `chunks` pieces on a fresh connection, collects what comes back until the
 * server closes or `lingerMs` passes, then closes. Resolves once the socket is fully closed
 * (so connections never pile up against the per-IP limit).
 */
function exchange(bytes: Buffer, cuts: number[], lingerMs: number): Promise<{ received: Buffer; closedByServer: boolean }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const socket = net.connect({ host: host!, port: Number(port) });
    const hard = setTimeout(() => socket.destroy(), lingerMs + 3000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      closedByServer = true;
      socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(hard);
      resolve({ received: Buffer.concat(chunks), closedByServer });
    });
    socket.on('connect', () => {
      const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
      let from = 0;
      for (const p of [...points, bytes.length]) {
        if (p > from) socket.write(bytes.subarray(from, p));
        from = Math.max(from, p);
      }
      setTimeout(() => socket.destroy(), lingerMs);
    });
    socket.once('error', (e) => {
      if (!socket.connecting) return;
      clearTimeout(hard);
      reject(e);
    });
  });
}

test(`protocol fuzzing: ${RUNS} seeded runs of malformed and mutated frames`, { timeout: 120_000 }, async () => {
  const pid = zk.members[0]!.pid;
  assert.ok(pid, 'server pid');
  const setup = await RawClient.connect(address);
  for (const p of [STABLE, `${STABLE}/a`, `${STABLE}/a/b`, `${STABLE}/c`, TARGET, VALID]) await setup.create(p, `data of ${p}`);
  await setup.create(`${STABLE}/protected`, 'ro', CreateMode.PERSISTENT, [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }]);
  await setup.setData(`${STABLE}/a`, 'changed once');
  const before = { stable: await digest(setup, STABLE), system: await systemDigest(setup) };
  const good = await RawClient.connect(address, { timeoutMs: 10_000 });
  const rssStart = rssMb(pid);
  let run = 0;
  let rssMax = rssStart;
  let serverClosed = 0;

  await fc.assert(
    fc.asyncProperty(caseArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }), async (c, cuts) => {
      run++;
      const { received, closedByServer } = await exchange(bytesOf(c), cuts, c.kind === 'session' ? 40 : 25);
      if (closedByServer) serverClosed++;
      // Whatever the server sent is well framed: ZooKeeper frames, or (never, here) a 4lw answer.
      const frames = new FrameDecoder({ fourLetterWords: false }).push(received);
      const framed = frames.reduce((n, f) => n + (f.kind === 'frame' ? 4 + f.payload.length : 0), 0);
      assert.equal(framed, received.length, `server sent ${received.length - framed} stray bytes`);
      // The server still serves: ruok on a fresh connection, and an old session's requests.
      assert.equal(await fourLetterWord(address, 'ruok', 3000), 'imok');
      const w = await good.setData(VALID, `run ${run}`);
      assert.equal(w.errName, 'OK', `well-behaved setData after run ${run}`);
      const created = await good.create(`${VALID}/n-`, null, CreateMode.PERSISTENT_SEQUENTIAL);
      assert.equal(created.errName, 'OK');
      if (run % 25 === 0) rssMax = Math.max(rssMax, rssMb(pid));
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );

  rssMax = Math.max(rssMax, rssMb(pid));
  const check = await RawClient.connect(address);
  assert.deepEqual({ stable: await digest(check, STABLE), system: await systemDigest(check) }, before, 'protected subtrees changed');
  const valid = await check.getData(VALID);
  assert.equal(valid.body?.data?.toString(), `run ${run}`);
  assert.equal(valid.body?.stat.version, run);
  const kids = await check.getChildren(VALID);
  assert.equal(kids.body?.children.length, run, 'every well-behaved sequential create landed');
  assert.ok(rssMax < RSS_LIMIT_MB, `server RSS reached ${rssMax.toFixed(0)} MB (limit ${RSS_LIMIT_MB} MB)`);
  process.stderr.write(`# fuzz: seed ${SEED}, ${run} runs, server closed ${serverClosed} connections, RSS ${rssStart.toFixed(0)} -> max ${rssMax.toFixed(0)} MB\n`);
  await good.close();
  await check.close();
  await setup.close();
});
