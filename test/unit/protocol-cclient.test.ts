/**
 * Cross-check against real bytes: the official ZooKeeper C client (npm `zookeeper`, 3.8.0)
 * talks to a minimal loopback server built from this codec. Its requests must decode, and
 * what its callbacks report must be exactly what we encoded.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { test } from 'node:test';
import {
  Perm, decodeConnectRequest, decodeRequest, encodeConnectResponse, encodeReply, encodeWatcherEvent, ErrorCode,
  EventType, FrameDecoder, KeeperState, OpCode, type ConnectRequest, type Request, type ResponseBody, type Stat,
} from '../../src/protocol/index.js';

type Cb = (rc: number, error: string, ...rest: unknown[]) => void;
interface NativeZk {
  init(config: Record<string, unknown>): void;
  close(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  a_create(path: string, data: string, flags: number, cb: Cb): void;
  a_exists(path: string, watch: boolean, cb: Cb): void;
  a_get(path: string, watch: boolean, cb: Cb): void;
  a_get_children(path: string, watch: boolean, cb: Cb): void;
  a_get_children2(path: string, watch: boolean, cb: Cb): void;
  readonly client_id: string;
}
const ZK = createRequire(import.meta.url)('zookeeper') as new (config: Record<string, unknown>) => NativeZk;

const sessionId = 0x0123456789abcdefn;
const passwd = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const created = '/x0000000007';
// Values the C client hands to JS as doubles must stay below 2^53 to compare exactly.
const stat: Stat = {
  czxid: 0x100000007n, mzxid: 0x100000008n, ctime: 1_700_000_000_123n, mtime: 1_700_000_000_456n,
  version: 2, cversion: 3, aversion: 4, ephemeralOwner: sessionId, dataLength: 4, numChildren: 0, pzxid: 0x100000009n,
};

/** What the fake server answers: the body for `req`, or an error code. */
function answer(req: Request): ResponseBody | number | undefined {
  switch (req.kind) {
    case 'create': return { kind: 'create', body: { path: created } };
    case 'exists': return req.body.path === created ? { kind: 'exists', body: { stat } } : ErrorCode.NONODE;
    case 'getData': return { kind: 'getData', body: { data: Buffer.from('data'), stat } };
    case 'getChildren': return { kind: 'getChildren', body: { children: ['a', 'zk-ü'] } };
    case 'getChildren2': return { kind: 'getChildren2', body: { children: [], stat } };
    case 'ping': case 'closeSession': case 'setWatches': return undefined;
    default: return ErrorCode.UNIMPLEMENTED;
  }
}

function withTimeout<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

test('the official C client talks to a server built from this codec', { timeout: 30_000 }, async () => {
  const requests: Request[] = [];
  let connectRequest: ConnectRequest | undefined;
  const sockets = new Set<net.Socket>();
  let zxid = 0x100000010n;
  let watchedSocket: net.Socket | undefined;

  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const decoder = new FrameDecoder();
    let handshaken = false;
    sock.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        assert.equal(f.kind, 'frame');
        if (f.kind !== 'frame') return;
        if (!handshaken) {
          handshaken = true;
          connectRequest = decodeConnectRequest(f.payload);
          sock.write(encodeConnectResponse({ protocolVersion: 0, timeOut: 4000, sessionId, passwd, readOnly: false }));
          continue;
        }
        const req = decodeRequest(f.payload);
        requests.push(req);
        if (req.kind === 'exists' && req.body.watch) watchedSocket = sock;
        const res = answer(req);
        zxid += 1n;
        const err = typeof res === 'number' ? res : 0;
        sock.write(encodeReply({ xid: req.xid, zxid, err }, typeof res === 'number' ? undefined : res));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;

  const zk = new ZK({ connect: `127.0.0.1:${port}`, timeout: 4000, debug_level: 0 });
  let closed = false;
  const call = <T extends unknown[]>(fn: (cb: Cb) => void): Promise<[number, ...T]> =>
    withTimeout(new Promise((resolve) => fn((rc, _error, ...rest) => resolve([rc, ...(rest as T)]))), 'a callback');
  try {
    const connected = once(zk as unknown as NodeJS.EventEmitter, 'connect');
    zk.init({});
    await withTimeout(connected, 'connect');

    // The handshake as the C client sends it: 45 bytes, the readOnly byte included.
    assert.deepEqual(connectRequest, {
      protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false,
    });
    assert.equal(zk.client_id, sessionId.toString(16));

    const [rcCreate, path] = await call<[string]>((cb) => zk.a_create('/x', 'data', 3, cb));
    assert.equal(rcCreate, 0);
    assert.equal(path, created);
    const createReq = requests.at(-1);
    assert.ok(createReq?.kind === 'create', `C client sent ${createReq?.kind}`);
    assert.deepEqual(createReq.body, {
      path: '/x', data: Buffer.from('data'), flags: 3,
      acl: [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }],
    });

    const changed = new Promise<unknown>((resolve) => zk.on('changed', (_zk, p) => resolve(p)));
    const [rcExists, st] = await call<[Record<string, unknown>]>((cb) => zk.a_exists(created, true, cb));
    assert.equal(rcExists, 0);
    assert.deepEqual(requests.at(-1), { kind: 'exists', xid: requests.at(-1)!.xid, type: OpCode.exists, body: { path: created, watch: true } });
    assert.equal(st.czxid, Number(stat.czxid));
    assert.equal(st.mzxid, Number(stat.mzxid));
    assert.equal(st.pzxid, Number(stat.pzxid));
    assert.equal((st.ctime as Date).getTime(), Number(stat.ctime));
    assert.equal((st.mtime as Date).getTime(), Number(stat.mtime));
    assert.deepEqual([st.version, st.cversion, st.aversion, st.dataLength, st.numChildren], [2, 3, 4, 4, 0]);
    assert.equal(st.ephemeralOwner, sessionId.toString(16));
    assert.equal(st.createdInThisSession, true);

    // A notification for the watch just set reaches the client's watcher.
    assert.ok(watchedSocket);
    watchedSocket.write(encodeWatcherEvent(-1n, { type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: created }));
    assert.equal(await withTimeout(changed, 'the watch notification'), created);

    const [rcMissing, noStat] = await call<[unknown]>((cb) => zk.a_exists('/missing', false, cb));
    assert.equal(rcMissing, ErrorCode.NONODE);
    assert.equal(noStat, null);

    const [rcChildren, children] = await call<[string[]]>((cb) => zk.a_get_children('/', false, cb));
    assert.equal(rcChildren, 0);
    assert.deepEqual(children, ['a', 'zk-ü']);
    assert.equal(requests.at(-1)?.kind, 'getChildren');

    const [rcChildren2, none, st2] = await call<[string[], Record<string, unknown>]>((cb) => zk.a_get_children2('/', false, cb));
    assert.equal(rcChildren2, 0);
    assert.deepEqual(none, []);
    assert.equal(st2.pzxid, Number(stat.pzxid));

    const [rcGet, st3, data] = await call<[Record<string, unknown>, Buffer]>((cb) => zk.a_get(created, false, cb));
    assert.equal(rcGet, 0);
    assert.equal(st3.version, 2);
    assert.deepEqual(data, Buffer.from('data'));
    assert.deepEqual(requests.at(-1), { kind: 'getData', xid: requests.at(-1)!.xid, type: OpCode.getData, body: { path: created, watch: false } });

    // Client xids count up from the first request.
    const xids = requests.filter((r) => r.xid > 0).map((r) => r.xid);
    assert.deepEqual(xids, [...xids].sort((a, b) => a - b));

    zk.close();
    closed = true;
    await withTimeout((async () => {
      while (!requests.some((r) => r.kind === 'closeSession')) await new Promise((r) => setTimeout(r, 20));
    })(), 'closeSession');
    assert.ok(requests.every((r) => r.kind !== 'unknown'));
  } finally {
    if (!closed) zk.close();
    for (const s of sockets) s.destroy();
    server.close();
  }
});
