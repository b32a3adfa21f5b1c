/**
 * The session half of zk-elect's client (src/client): which server to dial, what a ConnectResponse
 * means, the order replies must come back in, and what becomes of requests and watches when
 * a connection or the session ends. The rules follow the C client (zookeeper.c) and Java's
 * ClientCnxn, because the point is to drive servers the way real clients do:
 *
 * - Servers are tried from a random start, then round-robin, moving on after any failure
 *   (server-rotation.ts).
 * - Requests get increasing xids at call time. Made while no connection is open, they wait
 *   for the next handshake; any connection failure ends every request sent on it or waiting
 *   for it with CONNECTIONLOSS. Nothing is retried: only the caller knows if that is safe.
 * - Replies come back in request order; anything else is a protocol violation, reported and
 *   answered by dropping the connection, as Java does ("Xid out of order").
 * - Pings (-2) and SetWatches (-8) use reserved xids and are outside that order, as in the
 *   C client ("ping replies can arrive out-of-order"); their zxids are not taken either.
 * - The session expires only on the server's word (timeout 0 / session id 0 in a
 *   ConnectResponse), never by a local guess; after that every request gets SESSIONEXPIRED.
 *
 * Time comes only from the injected Clock and randomness only from the injected Rng, so a
 * simulation seed replays the client exactly.
 */
import {
  decodeReply, encodeRequest, ErrorCode, EventType, KeeperState, OpCode, opName, Xid,
  type ConnectResponse, type Request,
} from '../protocol/index.js';
import type { Clock, Timer } from '../clock.js';
import { Connection } from './connection.js';
import { ServerRotation } from './server-rotation.js';
import type { CallMeta, ClientEvent, ClientState, DropReason, Outcome, WireClientOptions, ViolationKind, WatchCallback, WatchedEvent } from './types.js';
import { WatchTable } from './watch-table.js';

/** An event as the core builds it; `emit` adds who and when. */
type EventBody = ClientEvent extends infer E ? (E extends ClientEvent ? Omit<E, 'client' | 'atMs'> : never) : never;

interface Pending extends CallMeta {
  xid: number;
  frame: Buffer;
  invokedMs: number;
  server: string | undefined;
  resolve: (o: Outcome) => void;
}

export class SessionCore {
  protected readonly name: string;
  private stateValue: ClientState = 'connecting';
  private sessionIdValue = 0n;
  private passwd: Buffer = Buffer.alloc(16);
  private negotiatedMs = 0;
  private lastZxid = 0n;
  private conn: Connection | undefined;
  /** Sent on the open connection, oldest first: the order replies must arrive in. */
  private readonly inFlight: Pending[] = [];
  /** Made while no connection was open; sent right after the next handshake (and SetWatches). */
  private readonly waiting: Pending[] = [];
  private readonly watches = new WatchTable();
  private xidCounter = 1;
  private readonly rotation: ServerRotation;
  private retryTimer: Timer | undefined;
  private started = false;

  constructor(protected readonly options: WireClientOptions) {
    this.rotation = new ServerRotation(options.servers, options.rng, options.reconnectDelayMs);
    this.name = options.name ?? 'client';
    if (options.session) {
      this.sessionIdValue = options.session.id;
      this.passwd = Buffer.from(options.session.passwd);
    }
  }

  /** The session's password (to reattach it from another client, as a process restart would). */
  get sessionPasswd(): Buffer {
    return Buffer.from(this.passwd);
  }

  get state(): ClientState {
    return this.stateValue;
  }
  get sessionId(): bigint {
    return this.sessionIdValue;
  }
  get lastZxidSeen(): bigint {
    return this.lastZxid;
  }
  /** The server of the open connection (undefined while not connected). */
  get server(): string | undefined {
    return this.stateValue === 'connected' ? this.conn?.server : undefined;
  }
  /** The injected clock (for callers that bound calls on the same time). */
  get clock(): Clock {
    return this.options.clock;
  }
  /** The timeout the server granted (0 before the first handshake). */
  get negotiatedTimeoutMs(): number {
    return this.negotiatedMs;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.attempt();
  }

  /** Sends closeSession and waits for its answer, then closes the socket. Never reconnects afterwards. */
  protected async closeSession(): Promise<Outcome> {
    const state = this.stateValue;
    if (state === 'closed' || state === 'expired') return { err: ErrorCode.SESSIONEXPIRED, zxid: 0n, body: undefined };
    if (state !== 'connected') {
      // No server to tell: a session we had will expire on its own; a session never made needs nothing.
      const had = this.sessionIdValue !== 0n;
      this.shutdown('closed', 'client-close', ErrorCode.CONNECTIONLOSS);
      return { err: had ? ErrorCode.CONNECTIONLOSS : ErrorCode.OK, zxid: 0n, body: undefined };
    }
    const done = this.submit((xid) => ({ kind: 'closeSession', xid, type: OpCode.closeSession }), { op: OpCode.closeSession, path: undefined });
    // From here on new calls fail at once; replies to earlier ones are still read, in order.
    this.setState('closed', 'client-close');
    this.watches.clear();
    return done;
  }

  /**
   * Drops the connection now, failing whatever is outstanding with CONNECTIONLOSS: for a close
   * whose answer is overdue. The client is closed afterwards, as after close().
   */
  abandon(): void {
    if (this.stateValue !== 'closed' && this.stateValue !== 'expired') {
      this.shutdown('closed', 'client-close', ErrorCode.CONNECTIONLOSS);
      return;
    }
    const conn = this.conn;
    this.conn = undefined;
    conn?.drop('client-close');
    this.failAll(ErrorCode.CONNECTIONLOSS);
  }

  protected submit(build: (xid: number) => Request, meta: CallMeta): Promise<Outcome> {
    const xid = this.xidCounter;
    this.xidCounter = this.xidCounter >= 0x7fffffff ? 1 : this.xidCounter + 1;
    const invokedMs = this.options.clock.monoMs();
    this.emit({ type: 'request', op: opName(meta.op), path: meta.path, xid });
    return new Promise<Outcome>((resolve) => {
      const p: Pending = { ...meta, xid, frame: encodeRequest(build(xid)), invokedMs, server: undefined, resolve };
      if (this.stateValue === 'closed' || this.stateValue === 'expired') {
        this.complete(p, { err: ErrorCode.SESSIONEXPIRED, zxid: 0n, body: undefined }, true);
      } else if (this.stateValue === 'connected' && this.conn) {
        this.send(this.conn, p);
      } else {
        this.waiting.push(p);
      }
    });
  }

  // ---- connections ----------------------------------------------------------------------

  private attempt(): void {
    this.retryTimer = undefined;
    if (this.stateValue === 'closed' || this.stateValue === 'expired') return;
    const server = this.rotation.take();
    this.emit({ type: 'attempt', server });
    const timeoutMs = this.negotiatedMs || this.options.sessionTimeoutMs;
    const conn = new Connection(
      this.options.network, this.options.clock, server,
      { protocolVersion: 0, lastZxidSeen: this.lastZxid, timeOut: this.options.sessionTimeoutMs, sessionId: this.sessionIdValue, passwd: this.passwd, readOnly: false },
      this.options.connectTimeoutMs ?? Math.max(1, Math.floor(timeoutMs / 3)),
      this.options.tls,
      {
        handshake: (c, res) => this.onHandshake(c, res),
        frame: (c, payload) => this.onFrame(c, payload),
        lost: (c, reason) => this.onLost(c, reason),
        malformed: (c, detail) => this.violation(c, 'bad-frame', detail),
      },
    );
    this.conn = conn;
    conn.start();
  }

  private scheduleAttempt(): void {
    const delayMs = this.rotation.delayMs(this.negotiatedMs || this.options.sessionTimeoutMs);
    this.retryTimer = this.options.clock.after(delayMs, () => this.attempt());
  }

  private onHandshake(conn: Connection, res: ConnectResponse): void {
    const reattach = this.sessionIdValue !== 0n;
    if (res.timeOut <= 0 || (reattach && res.sessionId === 0n)) {
      this.shutdown('expired', 'session-expired', ErrorCode.SESSIONEXPIRED);
      return;
    }
    if (reattach && res.sessionId !== this.sessionIdValue) {
      this.violation(conn, 'session-mismatch', `asked for session 0x${this.sessionIdValue.toString(16)}, got 0x${res.sessionId.toString(16)}`);
      return;
    }
    this.sessionIdValue = res.sessionId;
    this.passwd = Buffer.from(res.passwd);
    this.negotiatedMs = res.timeOut;
    this.rotation.connected();
    conn.open(res.timeOut);
    this.setState('connected');
    // Credentials first, as the C client sends them: before SetWatches and before any request,
    // so nothing runs on this connection under an identity the server has not checked yet.
    for (const a of this.options.auth ?? []) {
      conn.write(encodeRequest({ kind: 'auth', xid: Xid.AUTH, type: OpCode.auth, body: { type: 0, scheme: a.scheme, auth: a.auth } }));
    }
    if (reattach) {
      this.sessionEvent(KeeperState.SyncConnected);
      // Before anything else, as the C client does: a request made while disconnected must not
      // see a state in which the server has forgotten our watches.
      for (const lists of this.watches.setWatchesBatches()) {
        conn.write(encodeRequest({ kind: 'setWatches', xid: Xid.SET_WATCHES, type: OpCode.setWatches, body: { relativeZxid: this.lastZxid, ...lists } }));
      }
    }
    for (const p of this.waiting.splice(0)) this.send(conn, p);
  }

  private send(conn: Connection, p: Pending): void {
    p.server = conn.server;
    this.inFlight.push(p);
    conn.write(p.frame);
  }

  private onFrame(conn: Connection, payload: Buffer): void {
    if (payload.length < 16) {
      this.violation(conn, 'bad-frame', `a ${payload.length}-byte reply is shorter than a ReplyHeader`);
      return;
    }
    const xid = payload.readInt32BE(0);
    if (xid === Xid.NOTIFICATION) return this.onNotification(conn, payload);
    if (xid === Xid.PING) {
      // A ping answer is a server's word that the session lives: report it like any reply.
      const sentMs = conn.pingsSent.shift();
      if (sentMs !== undefined) this.emit({ type: 'reply', op: 'ping', path: undefined, xid, sentMs, err: payload.readInt32BE(12), zxid: payload.readBigInt64BE(4), local: false, server: conn.server });
      return;
    }
    if (xid === Xid.SET_WATCHES) return;
    if (xid === Xid.AUTH) {
      // A refused identity ends the handle for good (the server closes the connection too);
      // retrying with the same credentials on another server would only be refused again.
      const err = payload.readInt32BE(12);
      if (err !== ErrorCode.OK) this.shutdown('closed', 'auth-failed', ErrorCode.AUTHFAILED);
      return;
    }
    const head = this.inFlight[0];
    if (!head || head.xid !== xid) {
      this.violation(conn, 'xid-order', `reply with xid ${xid}, but the oldest outstanding request is ${head ? `xid ${head.xid} (${opName(head.op)})` : 'none'}`);
      return;
    }
    this.inFlight.shift();
    let reply;
    try {
      reply = decodeReply(payload, head.op);
    } catch (e) {
      this.inFlight.unshift(head); // fails with CONNECTIONLOSS with the rest
      this.violation(conn, 'bad-frame', `reply to ${opName(head.op)} xid ${xid}: ${(e as Error).message}`);
      return;
    }
    const { zxid, err } = reply.header;
    if (zxid > 0n) {
      if (zxid < this.lastZxid) {
        this.violation(conn, 'zxid-regression', `reply to ${opName(head.op)} ${head.path ?? ''} (xid ${xid}) has zxid 0x${zxid.toString(16)}, below 0x${this.lastZxid.toString(16)} already seen`, false);
      } else {
        this.lastZxid = zxid;
      }
    }
    const kind = head.watch?.kindFor(err);
    if (head.watch && kind && head.path !== undefined && this.stateValue === 'connected') this.watches.add(kind, head.path, head.watch.cb);
    this.complete(head, { err, zxid, body: reply.response?.body }, false);
    if (head.op === OpCode.closeSession) conn.end('client-close');
  }

  private onNotification(conn: Connection, payload: Buffer): void {
    let event: WatchedEvent;
    try {
      const r = decodeReply(payload, OpCode.notification);
      if (r.response?.kind !== 'notification') throw new Error('no WatcherEvent body');
      event = r.response.body;
    } catch (e) {
      this.violation(conn, 'bad-frame', `notification: ${(e as Error).message}`);
      return;
    }
    const cbs = this.watches.collect(event);
    this.emit({ type: 'notification', event, zxid: this.lastZxid, watchers: cbs.length, server: conn.server });
    this.deliver(cbs, event);
  }

  private onLost(conn: Connection, reason: DropReason): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    const wasConnected = this.stateValue === 'connected';
    const error = conn.socketError;
    this.emit({ type: 'lost', server: conn.server, reason, established: conn.established, ...(error ? { error } : {}) });
    if (wasConnected) {
      this.setState('disconnected', reason, conn.server);
      this.sessionEvent(KeeperState.Disconnected);
    }
    this.failAll(ErrorCode.CONNECTIONLOSS);
    if (this.stateValue === 'closed' || this.stateValue === 'expired') return;
    if (!wasConnected) this.rotation.failed();
    // An open connection just dropped: the C client dials the next server at once, and so do we
    // when asked (`reconnectAtOnce`): every pause here is taken from the loss deadline's margin.
    if (wasConnected && this.options.reconnectAtOnce) this.retryTimer = this.options.clock.after(0, () => this.attempt());
    else this.scheduleAttempt();
  }

  /** Ends the session for good on our side: state, connection, timers, requests, watches. */
  private shutdown(state: 'closed' | 'expired', reason: DropReason, err: number): void {
    const conn = this.conn;
    this.conn = undefined;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    this.setState(state, reason, conn?.server);
    conn?.drop(reason);
    this.failAll(state === 'expired' ? ErrorCode.SESSIONEXPIRED : err);
    if (state === 'expired') this.sessionEvent(KeeperState.Expired);
    this.watches.clear();
  }

  private failAll(err: number): void {
    for (const p of [...this.inFlight.splice(0), ...this.waiting.splice(0)]) this.complete(p, { err, zxid: 0n, body: undefined }, true);
  }

  // ---- reporting --------------------------------------------------------------------------

  private complete(p: Pending, o: Outcome, local: boolean): void {
    this.emit({ type: 'reply', op: opName(p.op), path: p.path, xid: p.xid, sentMs: p.invokedMs, err: o.err, zxid: o.zxid, local, server: p.server });
    p.resolve(o);
  }

  /** Session events go to every registered watcher and remove none (C client, Java alike). */
  private sessionEvent(state: number): void {
    this.deliver(this.watches.all(), { type: EventType.None, state, path: '' });
  }

  private deliver(cbs: WatchCallback[], event: WatchedEvent): void {
    // A throwing watcher must not derail frame processing; it surfaces on its own turn.
    WatchTable.deliver(cbs, event, (e) => this.options.clock.soon(() => {
      throw e;
    }));
  }

  /** Reports a protocol violation; by default also drops the connection (the server cannot be trusted on it). */
  private violation(conn: Connection, kind: ViolationKind, detail: string, drop = true): void {
    this.emit({ type: 'violation', kind, detail, server: conn.server, sessionId: this.sessionIdValue });
    if (drop) conn.drop('protocol-violation');
  }

  private setState(next: ClientState, reason?: DropReason, server?: string): void {
    const prev = this.stateValue;
    if (prev === next) return;
    this.stateValue = next;
    this.emit({ type: 'state', state: next, prev, server: server ?? this.conn?.server, sessionId: this.sessionIdValue, ...(reason ? { reason } : {}) });
  }

  /** Stamps the client's name and the clock's time on an event and hands it to `onEvent`. */
  private emit(e: EventBody): void {
    this.options.onEvent?.({ ...e, client: this.name, atMs: this.options.clock.monoMs() } as ClientEvent);
  }
}
