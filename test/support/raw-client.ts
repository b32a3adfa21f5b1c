/**
 * A small promise-based ZooKeeper client over node:net that speaks the wire protocol through
 * our own codec (src/protocol) and nothing else. It exists for tests that must see exactly
 * what a server sends: every request kind the codec knows, the raw ReplyHeader of each
 * answer, and the order in which replies and watch notifications arrive on the connection.
 *
 * - A request never throws because of a ZooKeeper error code: it resolves to
 *   `{ err, errName, zxid, body }`. A connection that drops with requests in flight resolves
 *   them with CONNECTIONLOSS. Only a missing answer (a bounded wait running out) rejects.
 * - `arrivals` lists replies and notifications in the order they came off the socket, so a
 *   test can check that an event reached the connection before the reply to a later request.
 * - `reconnect()` opens a new connection for the same session (id + password), as a real
 *   client does after a disconnect; `setWatches2` can then re-register watches.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AddWatchMode, CreateMode, ErrorCode, OpCode, Perm, WatcherType, Xid,
  decodeConnectResponse, decodeReply, encodeConnectRequest, encodeRequest, errorName, FrameDecoder, opName,
  type ACL, type ConnectResponse, type MultiOp, type MultiReadOp, type MultiReadResult, type MultiResult,
  type Request, type ResponseBodies, type Stat, type WatcherEvent,
} from '../../src/protocol/index.js';

export { AddWatchMode, CreateMode, ErrorCode, OpCode, Perm, WatcherType };

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } }];
export const CREATOR_ALL_ACL: ACL[] = [{ perms: Perm.ALL, id: { scheme: 'auth', id: '' } }];

/** One answer. `body` is present only when err is 0 and the op has a reply body. */
export interface RawReply<B = undefined> {
  xid: number;
  /** ReplyHeader.zxid. */
  zxid: bigint;
  err: number;
  /** The error code's name ("OK", "NONODE", ...). */
  errName: string;
  body: B | undefined;
}

export type Arrival =
  | { kind: 'reply'; seq: number; xid: number; op: string; err: number; zxid: bigint; atMs: number }
  | { kind: 'event'; seq: number; type: number; state: number; path: string; atMs: number };

export interface RawConnectOptions {
  /** Requested session timeout (ms); the server negotiates it. Default 4000. */
  timeoutMs?: number;
  /** Reattach to an existing session (id and password from an earlier connect). */
  sessionId?: bigint;
  passwd?: Buffer | null;
  lastZxidSeen?: bigint;
  /** The trailing readOnly byte of ConnectRequest; default false (sent, as modern clients do). */
  readOnly?: boolean | undefined;
  /** Bound on TCP connect + handshake. Default 5000 ms. */
  handshakeTimeoutMs?: number;
  /** Bound on every request's answer. Default 10000 ms. */
  requestTimeoutMs?: number;
  /** Send pings every timeout/3 so the session survives idle stretches. Default true. */
  autoPing?: boolean;
}

interface Pending {
  xid: number;
  op: number;
  resolve: (r: RawReply<unknown>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!m) throw new Error(`not a host:port address: ${JSON.stringify(address)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

export class RawClient {
  /** Replies and notifications in arrival order (ping replies excluded). */
  readonly arrivals: Arrival[] = [];
  /** Notifications in arrival order. */
  readonly events: WatcherEvent[] = [];
  /** Highest ReplyHeader.zxid seen (what a client sends as lastZxidSeen / relativeZxid). */
  lastZxid = 0n;
  sessionId = 0n;
  passwd: Buffer = Buffer.alloc(16);
  /** The timeout the server granted (ms); 0 when it refused the session. */
  negotiatedTimeoutMs = 0;
  /** The server refused to (re)attach the session: it is expired or unknown. */
  expired = false;
  connectResponse: ConnectResponse | undefined;
  readonly closedPromise: Promise<void>;

  private nextXid = 1;
  private seq = 0;
  private readonly pending: Pending[] = [];
  private readonly decoder = new FrameDecoder({ fourLetterWords: false, maxFrame: 64 * 1024 * 1024 });
  private readonly waiters = new Set<() => void>();
  private pinger: NodeJS.Timeout | undefined;
  private isClosed = false;
  private handshake: { resolve: (r: ConnectResponse) => void; reject: (e: Error) => void } | undefined;

  private constructor(
    readonly address: string,
    private readonly socket: net.Socket,
    private readonly options: RawConnectOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows
    this.closedPromise = new Promise((resolve) => socket.once('close', () => {
      this.onClose();
      resolve();
    }));
  }

  /** Opens a connection and completes the handshake (bounded). */
  static async connect(address: string, options: RawConnectOptions = {}): Promise<RawClient> {
    const { host, port } = parseAddress(address);
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5000;
    const socket = net.connect({ host, port });
    const client = new RawClient(address, socket, options);
    const timer = setTimeout(() => socket.destroy(new Error('handshake timeout')), handshakeTimeoutMs);
    try {
      const res = await new Promise<ConnectResponse>((resolve, reject) => {
        client.handshake = { resolve, reject };
        socket.once('connect', () => {
          socket.write(encodeConnectRequest({
            protocolVersion: 0,
            lastZxidSeen: options.lastZxidSeen ?? 0n,
            timeOut: options.timeoutMs ?? 4000,
            sessionId: options.sessionId ?? 0n,
            passwd: options.passwd === undefined ? Buffer.alloc(16) : options.passwd,
            ...(options.readOnly === undefined ? { readOnly: false } : { readOnly: options.readOnly }),
          }));
        });
        socket.once('close', () => reject(new Error(`connection to ${address} closed during the handshake`)));
      });
      client.connectResponse = res;
      client.negotiatedTimeoutMs = res.timeOut;
      if (res.timeOut <= 0) {
        client.expired = true;
        socket.destroy();
        await client.closedPromise;
        return client;
      }
      client.sessionId = res.sessionId;
      client.passwd = res.passwd;
      if (options.autoPing ?? true) {
        client.pinger = setInterval(() => client.sendPing(), Math.max(100, Math.floor(res.timeOut / 3)));
        client.pinger.unref();
      }
      return client;
    } catch (e) {
      socket.destroy();
      throw new Error(`raw connect to ${address} failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
      client.handshake = undefined;
    }
  }

  /** A new connection for the same session (the old one, if open, is dropped first). */
  async reconnect(options: RawConnectOptions = {}): Promise<RawClient> {
    this.destroy();
    await this.closedPromise;
    return RawClient.connect(this.address, {
      ...this.options,
      ...options,
      sessionId: this.sessionId,
      passwd: this.passwd,
      lastZxidSeen: options.lastZxidSeen ?? this.lastZxid,
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Drops the TCP connection without closing the session (a crash, from the server's view). */
  destroy(): void {
    this.stopPinging();
    this.socket.destroy();
  }

  stopPinging(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = undefined;
  }

  /** closeSession, then waits (bounded) for the server to close the connection. */
  async close(): Promise<RawReply> {
    if (this.isClosed) return { xid: 0, zxid: 0n, err: ErrorCode.CONNECTIONLOSS, errName: 'CONNECTIONLOSS', body: undefined };
    this.stopPinging();
    const r = await this.send<undefined>({ kind: 'closeSession', xid: this.xid(), type: OpCode.closeSession });
    await Promise.race([this.closedPromise, sleep(2000)]);
    this.socket.destroy();
    return r;
  }

  /** Writes raw bytes (for fuzzing and malformed-frame tests). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  // ---- requests -------------------------------------------------------------------------------

  create(path: string, data: Buffer | string | null = null, flags: number = CreateMode.PERSISTENT, acl: ACL[] = OPEN_ACL_UNSAFE) {
    return this.send<ResponseBodies['create']>({ kind: 'create', xid: this.xid(), type: OpCode.create, body: { path, data: toBuf(data), acl, flags } });
  }
  create2(path: string, data: Buffer | string | null = null, flags: number = CreateMode.PERSISTENT, acl: ACL[] = OPEN_ACL_UNSAFE) {
    return this.send<ResponseBodies['create2']>({ kind: 'create2', xid: this.xid(), type: OpCode.create2, body: { path, data: toBuf(data), acl, flags } });
  }
  createContainer(path: string, data: Buffer | string | null = null, acl: ACL[] = OPEN_ACL_UNSAFE, flags: number = CreateMode.CONTAINER) {
    return this.send<ResponseBodies['createContainer']>({ kind: 'createContainer', xid: this.xid(), type: OpCode.createContainer, body: { path, data: toBuf(data), acl, flags } });
  }
  createTTL(path: string, data: Buffer | string | null, ttl: bigint, flags: number = CreateMode.PERSISTENT_WITH_TTL, acl: ACL[] = OPEN_ACL_UNSAFE) {
    return this.send<ResponseBodies['createTTL']>({ kind: 'createTTL', xid: this.xid(), type: OpCode.createTTL, body: { path, data: toBuf(data), acl, flags, ttl } });
  }
  delete(path: string, version = -1) {
    return this.send<undefined>({ kind: 'delete', xid: this.xid(), type: OpCode.delete, body: { path, version } });
  }
  exists(path: string, watch = false) {
    return this.send<ResponseBodies['exists']>({ kind: 'exists', xid: this.xid(), type: OpCode.exists, body: { path, watch } });
  }
  getData(path: string, watch = false) {
    return this.send<ResponseBodies['getData']>({ kind: 'getData', xid: this.xid(), type: OpCode.getData, body: { path, watch } });
  }
  setData(path: string, data: Buffer | string | null, version = -1) {
    return this.send<ResponseBodies['setData']>({ kind: 'setData', xid: this.xid(), type: OpCode.setData, body: { path, data: toBuf(data), version } });
  }
  getACL(path: string) {
    return this.send<ResponseBodies['getACL']>({ kind: 'getACL', xid: this.xid(), type: OpCode.getACL, body: { path } });
  }
  setACL(path: string, acl: ACL[], version = -1) {
    return this.send<ResponseBodies['setACL']>({ kind: 'setACL', xid: this.xid(), type: OpCode.setACL, body: { path, acl, version } });
  }
  getChildren(path: string, watch = false) {
    return this.send<ResponseBodies['getChildren']>({ kind: 'getChildren', xid: this.xid(), type: OpCode.getChildren, body: { path, watch } });
  }
  getChildren2(path: string, watch = false) {
    return this.send<ResponseBodies['getChildren2']>({ kind: 'getChildren2', xid: this.xid(), type: OpCode.getChildren2, body: { path, watch } });
  }
  sync(path: string) {
    return this.send<ResponseBodies['sync']>({ kind: 'sync', xid: this.xid(), type: OpCode.sync, body: { path } });
  }
  multi(ops: MultiOp[]) {
    return this.send<{ results: MultiResult[] }>({ kind: 'multi', xid: this.xid(), type: OpCode.multi, body: { ops } });
  }
  multiRead(ops: MultiReadOp[]) {
    return this.send<{ results: MultiReadResult[] }>({ kind: 'multiRead', xid: this.xid(), type: OpCode.multiRead, body: { ops } });
  }
  getEphemerals(prefixPath: string) {
    return this.send<ResponseBodies['getEphemerals']>({ kind: 'getEphemerals', xid: this.xid(), type: OpCode.getEphemerals, body: { prefixPath } });
  }
  getAllChildrenNumber(path: string) {
    return this.send<ResponseBodies['getAllChildrenNumber']>({ kind: 'getAllChildrenNumber', xid: this.xid(), type: OpCode.getAllChildrenNumber, body: { path } });
  }
  addWatch(path: string, mode: number) {
    return this.send<ResponseBodies['addWatch']>({ kind: 'addWatch', xid: this.xid(), type: OpCode.addWatch, body: { path, mode } });
  }
  removeWatches(path: string, type: number) {
    return this.send<undefined>({ kind: 'removeWatches', xid: this.xid(), type: OpCode.removeWatches, body: { path, type } });
  }
  checkWatches(path: string, type: number) {
    return this.send<undefined>({ kind: 'checkWatches', xid: this.xid(), type: OpCode.checkWatches, body: { path, type } });
  }
  /** Sent with the reserved xid -8, as both reference clients do. */
  setWatches2(lists: { relativeZxid?: bigint; dataWatches?: string[]; existWatches?: string[]; childWatches?: string[]; persistentWatches?: string[]; persistentRecursiveWatches?: string[] }) {
    return this.send<undefined>({
      kind: 'setWatches2', xid: Xid.SET_WATCHES, type: OpCode.setWatches2,
      body: {
        relativeZxid: lists.relativeZxid ?? this.lastZxid,
        dataWatches: lists.dataWatches ?? [], existWatches: lists.existWatches ?? [], childWatches: lists.childWatches ?? [],
        persistentWatches: lists.persistentWatches ?? [], persistentRecursiveWatches: lists.persistentRecursiveWatches ?? [],
      },
    });
  }
  setWatches(lists: { relativeZxid?: bigint; dataWatches?: string[]; existWatches?: string[]; childWatches?: string[] }) {
    return this.send<undefined>({
      kind: 'setWatches', xid: Xid.SET_WATCHES, type: OpCode.setWatches,
      body: { relativeZxid: lists.relativeZxid ?? this.lastZxid, dataWatches: lists.dataWatches ?? [], existWatches: lists.existWatches ?? [], childWatches: lists.childWatches ?? [] },
    });
  }
  whoAmI() {
    return this.send<ResponseBodies['whoAmI']>({ kind: 'whoAmI', xid: this.xid(), type: OpCode.whoAmI });
  }
  /** addAuth: sent with the reserved xid -4. */
  auth(scheme: string, auth: Buffer | string) {
    return this.send<undefined>({ kind: 'auth', xid: Xid.AUTH, type: OpCode.auth, body: { type: 0, scheme, auth: toBuf(auth) ?? Buffer.alloc(0) } });
  }
  ping() {
    return this.send<undefined>({ kind: 'ping', xid: Xid.PING, type: OpCode.ping });
  }

  /** Any request (the xid is the caller's). Resolves with the decoded reply, bounded in time. */
  send<B>(req: Request): Promise<RawReply<B>> {
    if (this.isClosed) {
      return Promise.resolve({ xid: req.xid, zxid: 0n, err: ErrorCode.CONNECTIONLOSS, errName: 'CONNECTIONLOSS', body: undefined });
    }
    const timeoutMs = this.options.requestTimeoutMs ?? 10_000;
    return new Promise<RawReply<B>>((resolve, reject) => {
      const p: Pending = {
        xid: req.xid,
        op: req.type,
        resolve: resolve as (r: RawReply<unknown>) => void,
        reject,
        timer: setTimeout(() => {
          const i = this.pending.indexOf(p);
          if (i >= 0) this.pending.splice(i, 1);
          reject(new Error(`no reply to ${opName(req.type)} (xid ${req.xid}) from ${this.address} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.pending.push(p);
      this.socket.write(encodeRequest(req));
    });
  }

  // ---- notifications --------------------------------------------------------------------------

  /** Waits (bounded) until at least `count` notifications have arrived; returns all of them. */
  async waitEvents(count: number, timeoutMs = 5000): Promise<WatcherEvent[]> {
    await this.waitUntil(() => this.events.length >= count, timeoutMs, () => `${count} notification(s); got ${JSON.stringify(this.events)}`);
    return [...this.events];
  }

  /** Removes and returns the notifications received so far. */
  takeEvents(): WatcherEvent[] {
    return this.events.splice(0, this.events.length);
  }

  /** Waits until the server closes this connection (bounded). */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.waitUntil(() => this.isClosed, timeoutMs, () => 'the connection to close');
  }

  async waitUntil(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.address}: waited ${timeoutMs} ms for ${what()}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, Math.min(left, 250));
        this.waiters.add(done);
      });
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private xid(): number {
    const x = this.nextXid;
    this.nextXid = this.nextXid >= 0x7fffffff ? 1 : this.nextXid + 1;
    return x;
  }

  private sendPing(): void {
    if (this.isClosed) return;
    void this.ping().catch(() => undefined);
  }

  private onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.socket.destroy(e as Error);
      return;
    }
    for (const f of frames) {
      if (f.kind !== 'frame') continue;
      if (this.handshake) {
        try {
          this.handshake.resolve(decodeConnectResponse(f.payload));
        } catch (e) {
          this.handshake.reject(e as Error);
        }
        this.handshake = undefined;
        continue;
      }
      this.onFrame(f.payload);
    }
    for (const w of [...this.waiters]) w();
  }

  private onFrame(payload: Buffer): void {
    const atMs = Date.now();
    const xid = payload.length >= 4 ? payload.readInt32BE(0) : 0;
    if (xid === Xid.NOTIFICATION) {
      const r = decodeReply(payload, OpCode.notification);
      if (r.response?.kind !== 'notification') return;
      const ev = r.response.body;
      this.events.push(ev);
      this.arrivals.push({ kind: 'event', seq: this.seq++, type: ev.type, state: ev.state, path: ev.path, atMs });
      return;
    }
    const i = this.pending.findIndex((p) => p.xid === xid);
    if (i < 0) {
      this.socket.destroy(new Error(`reply with unexpected xid ${xid}`));
      return;
    }
    const p = this.pending.splice(i, 1)[0]!;
    clearTimeout(p.timer);
    let reply;
    try {
      reply = decodeReply(payload, p.op);
    } catch (e) {
      p.reject(new Error(`undecodable reply to ${opName(p.op)}: ${(e as Error).message}`));
      return;
    }
    const { header } = reply;
    if (header.zxid > this.lastZxid) this.lastZxid = header.zxid;
    if (p.op !== OpCode.ping) {
      this.arrivals.push({ kind: 'reply', seq: this.seq++, xid, op: opName(p.op), err: header.err, zxid: header.zxid, atMs });
    }
    p.resolve({ xid, zxid: header.zxid, err: header.err, errName: errorName(header.err), body: reply.response?.body });
  }

  private onClose(): void {
    this.isClosed = true;
    this.stopPinging();
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.resolve({ xid: p.xid, zxid: 0n, err: ErrorCode.CONNECTIONLOSS, errName: 'CONNECTIONLOSS', body: undefined });
    }
    for (const w of [...this.waiters]) w();
  }
}

function toBuf(data: Buffer | string | null): Buffer | null {
  if (data === null) return null;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Multi sub-op builders. */
export const Op = {
  create: (path: string, data: Buffer | string | null = null, flags: number = CreateMode.PERSISTENT, acl: ACL[] = OPEN_ACL_UNSAFE): MultiOp =>
    ({ type: OpCode.create, body: { path, data: toBuf(data), acl, flags } }),
  create2: (path: string, data: Buffer | string | null = null, flags: number = CreateMode.PERSISTENT, acl: ACL[] = OPEN_ACL_UNSAFE): MultiOp =>
    ({ type: OpCode.create2, body: { path, data: toBuf(data), acl, flags } }),
  createContainer: (path: string, data: Buffer | string | null = null): MultiOp =>
    ({ type: OpCode.createContainer, body: { path, data: toBuf(data), acl: OPEN_ACL_UNSAFE, flags: CreateMode.CONTAINER } }),
  createTTL: (path: string, data: Buffer | string | null, ttl: bigint, flags: number = CreateMode.PERSISTENT_WITH_TTL): MultiOp =>
    ({ type: OpCode.createTTL, body: { path, data: toBuf(data), acl: OPEN_ACL_UNSAFE, flags, ttl } }),
  delete: (path: string, version = -1): MultiOp => ({ type: OpCode.delete, body: { path, version } }),
  setData: (path: string, data: Buffer | string | null, version = -1): MultiOp => ({ type: OpCode.setData, body: { path, data: toBuf(data), version } }),
  check: (path: string, version: number): MultiOp => ({ type: OpCode.check, body: { path, version } }),
  getData: (path: string): MultiReadOp => ({ type: OpCode.getData, body: { path, watch: false } }),
  getChildren: (path: string): MultiReadOp => ({ type: OpCode.getChildren, body: { path, watch: false } }),
};

export type { Stat, WatcherEvent };
