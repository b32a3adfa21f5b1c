/**
 * One client TCP connection: frames in, frames out. It knows the handshake order (first a
 * ConnectRequest or a four-letter word, then requests) and the limits (frame size,
 * requests in flight, bytes queued for a slow reader); what requests *mean* is the
 * handler's business. A malformed frame closes this connection only.
 *
 * Backpressure: frames are handled one at a time, and before each one the connection checks
 * its own limits (requests in flight, bytes queued for a client that does not read) and the
 * server-wide ones (ServerLoad, kept by the client port). When any says stop, the rest of what
 * was read waits here and the socket is paused (TCP pushes back on the client); it resumes
 * below the low-water mark. Nothing is dropped and no connection is closed for it: the one
 * exception is a client that reads nothing while its watch notifications, which no pause can
 * stop, pile up a whole further limit beyond its queue (its client reconnects and re-registers
 * the watches with setWatches, so no notification is lost).
 */
import { ErrorCode, OpCode } from '../../protocol/constants.js';
import { FrameDecoder } from '../../protocol/framing.js';
import { ProtocolError } from '../../protocol/jute.js';
import type { Frame } from '../../protocol/framing.js';
import type { ConnectRequest, Id } from '../../protocol/records.js';
import { decodeConnectRequest, decodeRequest, type Request } from '../../protocol/requests.js';
import { encodeReply } from '../../protocol/responses.js';
import type { DigestMd5Server } from '../auth/digest-md5.js';
import type { Clock } from '../node/clock.js';
import type { NetSocket } from './network.js';

export { normalizeAddress } from './network.js';

export interface ConnectionHandler {
  fourLetter(conn: ClientConnection, word: string): Promise<string> | string;
  /** A ConnectRequest: answer it with `established()` (or close). Until then nothing more is read. */
  connect(conn: ClientConnection, req: ConnectRequest): void;
  request(conn: ClientConnection, req: Request): void;
  closed(conn: ClientConnection): void;
  /**
   * Every frame queued for this client: `bytes` without the length prefix; `kind` tells the
   * ConnectResponse from replies and notifications (only these count as client responses).
   */
  sent?(conn: ClientConnection, bytes: number, kind: FrameKind): void;
  /** Whether frames may leave now (the server's lease holds); held frames wait in order. */
  mayReply?(): boolean;
}

export type FrameKind = 'connect' | 'response';

export interface ConnectionLimits {
  maxFrameBytes: number;
  /** Requests in flight at which this connection stops being read (it resumes at half). */
  maxOutstanding: number;
  /** Bytes queued for this client (held, or not yet taken by the network) at which it stops being
   * read; it resumes once they are down to half. */
  maxQueuedBytes: number;
}

/** The server-wide side of backpressure (the client port keeps the totals). */
export interface ServerLoad {
  /** This connection's requests in flight and queued bytes changed by these amounts. */
  changed(dOutstanding: number, dQueuedBytes: number): void;
  /** Whether the server-wide limits stop a connection with this load from being read now. */
  holds(outstanding: number, queuedBytes: number): boolean;
}

/** How long a closed connection may take to flush before it is cut (a peer that never reads). */
const CLOSE_GRACE_MS = 1000;

export class ClientConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Wall-clock time of the accept, for `cons` and the dashboard. */
  readonly establishedAtMs: number;
  sessionId: bigint | undefined;
  sessionTimeoutMs = 0;
  authIds: Id[] = [];
  /** This connection's SASL exchange, once the client started one. */
  sasl: DigestMd5Server | undefined;
  /** Highest zxid this connection was told about (ReplyHeader.zxid). */
  lastZxid = 0n;
  packetsReceived = 0;
  packetsSent = 0;
  /** Requests read and not yet answered (the ConnectRequest included, until it is). */
  outstanding = 0;
  /** Bytes queued for this client as last seen: held frames plus what the socket has not sent. */
  queuedBytes = 0;
  lastOp = 'NA';
  /** The xid of the last request answered, special xids (pings, auth) aside; -1 before any
   * (ServerCnxn.updateStatsForResponse), for `cons`'s lcxid and last_cxid. */
  lastCxid = -1;
  /** When the last reply (pings included) was queued, on the node's monotonic clock;
   * undefined before any. `cons` shows it as ZooKeeper's lresp / last_response_time. */
  lastResponseMono: number | undefined;
  /** Monotonic time of the last frame read from this client (session activity). */
  lastReceivedMono: number;
  lastLatencyMs = 0;
  minLatencyMs = Number.POSITIVE_INFINITY;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  latencyCount = 0;
  private readonly decoder: FrameDecoder;
  private handshakeDone = false;
  /** A ConnectRequest was read and not yet answered: nothing more is read meanwhile (ZooKeeper too). */
  private awaitingConnect = false;
  /** A four-letter word was read: the connection answers it and ends. */
  private ended = false;
  private closedFlag = false;
  /** Over its own in-flight limit (until down to half). */
  private overOutstanding = false;
  /** Over its own queued-bytes limit (until down to half). */
  private overQueued = false;
  /** Notification bytes queued while over the queued-bytes limit. */
  private stalledNotificationBytes = 0;
  private socketPaused = false;
  /** Frames read off the socket and not yet handled (handling stops the moment a limit is hit). */
  private inbox: Frame[] = [];
  private inboxAt = 0;
  private inboxScheduled = false;
  /** Frames that could not leave yet (no lease), in order. */
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    /** Unique within its server; also the watcher id the tree keys watches by. Assigned by the
     * port, not a process-wide counter, so a simulated run numbers connections the same on replay. */
    readonly id: number,
    private readonly socket: NetSocket,
    private readonly handler: ConnectionHandler,
    private readonly limits: ConnectionLimits,
    private readonly load: ServerLoad,
    private readonly clock: Clock,
    private readonly log: { warn(msg: string, meta?: object): void; debug(msg: string, meta?: object): void },
  ) {
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.establishedAtMs = clock.wallMs();
    this.lastReceivedMono = clock.monoMs();
    this.authIds = [{ scheme: 'ip', id: this.remoteAddress }];
    this.decoder = new FrameDecoder({ maxFrame: limits.maxFrameBytes });
    socket.onData((chunk) => this.onData(chunk));
    socket.onClose(() => this.onClosed());
    socket.onDrain(() => this.observeQueued());
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Whether requests are being read from this client now (ZooKeeper's read interest). */
  get reading(): boolean {
    return !this.closedFlag && !this.socketPaused;
  }

  /**
   * Paused by the server's own load (its in-flight limits, the write path pushing back) while the
   * client reads everything sent to it: the session counts as active meanwhile, so a client is
   * never expired because this server chose not to read its pings.
   */
  get heldByServer(): boolean {
    return this.sessionId !== undefined && this.socketPaused && !this.closedFlag && this.queuedBytes === 0;
  }

  get address(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }

  send(frame: Buffer, kind: FrameKind = 'response'): void {
    if (this.closedFlag) return;
    this.packetsSent++;
    this.handler.sent?.(this, frame.length - 4, kind);
    if (this.held.length > 0 || !(this.handler.mayReply?.() ?? true)) {
      // Nothing may reach a client while this server cannot vouch for its session (lease).
      this.held.push(frame);
      this.heldBytes += frame.length;
    } else {
      this.socket.write(frame);
    }
    this.observeQueued();
  }

  /**
   * A watch notification. Unlike replies, these keep coming while a client is not read; one that
   * reads nothing while a further `maxQueuedBytes` of them piles up is closed (its client
   * reconnects and re-registers its watches, which fire then if anything changed).
   */
  notify(frame: Buffer): void {
    if (this.closedFlag) return;
    if (this.overQueued) {
      this.stalledNotificationBytes += frame.length;
      if (this.stalledNotificationBytes > this.limits.maxQueuedBytes) {
        this.log.warn('closing a client that reads nothing while its watch notifications pile up', { client: this.address, queuedBytes: this.queuedBytes });
        this.close();
        return;
      }
    }
    this.send(frame);
  }

  /** The ConnectResponse: the session is established here and requests may be read. */
  established(frame: Buffer): void {
    if (this.awaitingConnect) {
      this.awaitingConnect = false;
      this.addOutstanding(-1);
    }
    this.send(frame, 'connect');
  }

  /** Sends what was held, if frames may leave now. */
  flushHeld(): void {
    if (this.closedFlag || this.held.length === 0 || !(this.handler.mayReply?.() ?? true)) return;
    const frames = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const f of frames) this.socket.write(f);
    this.observeQueued();
  }

  /**
   * A reply to a request (`frame` starts with its ReplyHeader): counts it off the in-flight
   * total, unless it answers a ping, which never counted in.
   */
  reply(frame: Buffer, startedAtMono?: number, ping = false): void {
    if (!ping) this.addOutstanding(-1);
    const xid = frame.readInt32BE(4);
    if (xid >= 0) this.lastCxid = xid;
    this.lastResponseMono = this.clock.monoMs();
    if (startedAtMono !== undefined) this.recordLatency(Math.round(this.clock.monoMs() - startedAtMono));
    this.send(frame);
  }

  /**
   * Reads or stops reading as the limits now say. Never handles a frame itself (frames that
   * waited are handled in a later turn), so the port may call it on every connection at once.
   */
  refresh(): void {
    if (this.closedFlag) return;
    const go = this.mayHandle();
    if (go === this.socketPaused) {
      this.socketPaused = !go;
      if (go) this.socket.resume();
      else this.socket.pause();
    }
    if (go && this.inboxAt < this.inbox.length && !this.inboxScheduled) {
      this.inboxScheduled = true;
      this.clock.soon(() => {
        this.inboxScheduled = false;
        this.handleInbox();
      });
    }
  }

  replyError(xid: number, zxid: bigint, err: number, startedAtMono?: number): void {
    this.reply(encodeReply({ xid, zxid, err }), startedAtMono);
  }

  /** Closes after what was queued has been flushed. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    // Held frames never leave: the lease that would have allowed them did not come.
    this.held = [];
    this.heldBytes = 0;
    this.socket.end();
    // Read on, so the peer's FIN is seen (what it still sends is discarded).
    if (this.socketPaused) this.socket.resume();
    // A peer that never reads would keep the socket half-open: cut it after a moment.
    this.clock.after(CLOSE_GRACE_MS, () => this.socket.destroy());
    this.onClosed();
  }

  /** crst (ServerCnxn.resetStats): counts and the last-request figures start over. */
  resetStats(): void {
    this.lastOp = 'NA';
    this.lastCxid = -1;
    this.lastResponseMono = undefined;
    this.lastLatencyMs = 0;
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatencyMs = Number.POSITIVE_INFINITY;
    this.maxLatencyMs = 0;
    this.totalLatencyMs = 0;
    this.latencyCount = 0;
  }

  private recordLatency(ms: number): void {
    this.lastLatencyMs = ms;
    this.minLatencyMs = Math.min(this.minLatencyMs, ms);
    this.maxLatencyMs = Math.max(this.maxLatencyMs, ms);
    this.totalLatencyMs += ms;
    this.latencyCount++;
  }

  private mayHandle(): boolean {
    return !this.closedFlag && !this.ended && !this.awaitingConnect && !this.overOutstanding && !this.overQueued && !this.load.holds(this.outstanding, this.queuedBytes);
  }

  private addOutstanding(d: number): void {
    const before = this.outstanding;
    this.outstanding = Math.max(0, before + d);
    if (!this.closedFlag && this.outstanding !== before) this.load.changed(this.outstanding - before, 0);
    const max = this.limits.maxOutstanding;
    if (this.outstanding >= max) this.overOutstanding = true;
    else if (this.outstanding <= max / 2) this.overOutstanding = false;
  }

  /** Takes the socket's queue length (exact at writes and when it empties, an upper bound between). */
  private observeQueued(): void {
    if (this.closedFlag) return;
    const queued = this.socket.queuedBytes + this.heldBytes;
    const d = queued - this.queuedBytes;
    this.queuedBytes = queued;
    const max = this.limits.maxQueuedBytes;
    if (!this.overQueued && queued >= max) {
      this.overQueued = true;
      this.log.debug('a client does not read its replies; not reading its requests until it does', { client: this.address, queuedBytes: queued });
    } else if (this.overQueued && queued <= max / 2) {
      this.overQueued = false;
      this.stalledNotificationBytes = 0;
    }
    if (d !== 0) this.load.changed(0, d);
    this.refresh();
  }

  private onClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.inbox = [];
    this.inboxAt = 0;
    // Its load leaves the server's totals (replies still computed for it go nowhere).
    this.load.changed(-this.outstanding, -this.queuedBytes);
    this.queuedBytes = 0;
    this.handler.closed(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closedFlag) return;
    this.lastReceivedMono = this.clock.monoMs();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.reject(e);
      return;
    }
    if (this.inboxAt >= this.inbox.length) {
      this.inbox = frames;
      this.inboxAt = 0;
    } else {
      for (const f of frames) this.inbox.push(f);
    }
    this.handleInbox();
  }

  /** Handles waiting frames in order while every limit allows, then reads on or pauses. */
  private handleInbox(): void {
    while (this.inboxAt < this.inbox.length && this.mayHandle()) this.handleFrame(this.inbox[this.inboxAt++]!);
    if (this.inboxAt >= this.inbox.length) {
      this.inbox = [];
      this.inboxAt = 0;
    }
    this.refresh();
  }

  private handleFrame(frame: Frame): void {
    if (frame.kind === 'fourLetter') {
      if (this.handshakeDone) return this.reject(new Error('four-letter word after the handshake'));
      this.ended = true;
      void this.answerFourLetter(frame.word);
      return;
    }
    this.packetsReceived++;
    if (!this.handshakeDone) {
      this.handshakeDone = true;
      let req: ConnectRequest;
      try {
        req = decodeConnectRequest(frame.payload, { maxLength: this.limits.maxFrameBytes });
      } catch (e) {
        return this.reject(e);
      }
      this.awaitingConnect = true;
      this.addOutstanding(1);
      this.handler.connect(this, req);
      return;
    }
    let req: Request;
    try {
      req = decodeRequest(frame.payload, { maxLength: this.limits.maxFrameBytes });
    } catch (e) {
      // ZooKeeper answers a readable header with MARSHALLINGERROR; either way the stream
      // can no longer be trusted, so the connection ends here.
      if (e instanceof ProtocolError && e.header) this.send(encodeReply({ xid: e.header.xid, zxid: this.lastZxid, err: ErrorCode.MARSHALLINGERROR }));
      return this.reject(e);
    }
    if (req.type !== OpCode.ping) this.addOutstanding(1);
    this.lastOp = req.kind;
    this.handler.request(this, req);
  }

  private async answerFourLetter(word: string): Promise<void> {
    try {
      const text = await this.handler.fourLetter(this, word);
      if (!this.closedFlag) this.socket.end(Buffer.from(text, 'utf8'));
    } catch (e) {
      this.log.warn('four-letter word failed', { word, error: (e as Error).message });
      this.socket.destroy();
    }
    this.onClosed();
  }

  private reject(e: unknown): void {
    this.log.debug('closing connection after a malformed frame', { client: this.address, error: (e as Error).message });
    this.close();
  }
}
