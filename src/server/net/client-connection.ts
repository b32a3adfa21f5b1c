/**
 * One client TCP connection: frames in, frames out. It knows the handshake order (first a
 * ConnectRequest or a four-letter word, then requests) and the limits (frame size,
 * requests in flight, bytes queued for a slow reader); what requests *mean* is the
 * handler's business. A malformed frame closes this connection only.
 */
import { ErrorCode, OpCode } from '../../protocol/constants.js';
import { FrameDecoder } from '../../protocol/framing.js';
import { ProtocolError } from '../../protocol/jute.js';
import type { ConnectRequest, Id } from '../../protocol/records.js';
import { decodeConnectRequest, decodeRequest, type Request } from '../../protocol/requests.js';
import { encodeReply } from '../../protocol/responses.js';
import type { Clock } from '../node/clock.js';
import type { NetSocket } from './network.js';

export { normalizeAddress } from './network.js';

export interface ConnectionHandler {
  fourLetter(conn: ClientConnection, word: string): Promise<string> | string;
  connect(conn: ClientConnection, req: ConnectRequest): void;
  request(conn: ClientConnection, req: Request): void;
  closed(conn: ClientConnection): void;
  /** Every frame queued for this client (replies, notifications, the ConnectResponse). */
  sent?(conn: ClientConnection): void;
  /** Whether frames may leave now (the server's lease holds); held frames wait in order. */
  mayReply?(): boolean;
}

export interface ConnectionLimits {
  maxFrameBytes: number;
  maxOutstanding: number;
  /** Bytes queued for a client that does not read before we drop it. */
  maxQueuedBytes: number;
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
  /** Highest zxid this connection was told about (ReplyHeader.zxid). */
  lastZxid = 0n;
  packetsReceived = 0;
  packetsSent = 0;
  outstanding = 0;
  lastOp = 'NA';
  /** The xid of the last request read (-1 before any), for the `cons` word's lcxid. */
  lastCxid = -1;
  /** When the last reply left (wall-clock ms; 0 before any), for `cons`'s lresp. */
  lastResponseAtMs = 0;
  /** Monotonic time of the last frame read from this client (session activity). */
  lastReceivedMono: number;
  lastLatencyMs = 0;
  minLatencyMs = Number.POSITIVE_INFINITY;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  latencyCount = 0;
  private readonly decoder: FrameDecoder;
  private handshakeDone = false;
  private closedFlag = false;
  /** Reading stopped because too many requests are in flight on this connection. */
  private paused = false;
  /** Reading stopped because the server as a whole pushes back. */
  private throttled = false;
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
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get address(): string {
    return `${this.remoteAddress}:${this.remotePort}`;
  }

  send(frame: Buffer): void {
    if (this.closedFlag) return;
    this.packetsSent++;
    this.handler.sent?.(this);
    if (this.held.length > 0 || !(this.handler.mayReply?.() ?? true)) {
      // Nothing may reach a client while this server cannot vouch for its session (lease).
      this.held.push(frame);
      this.heldBytes += frame.length;
      if (this.heldBytes > this.limits.maxQueuedBytes) this.close();
      return;
    }
    this.socket.write(frame);
    if (this.socket.queuedBytes > this.limits.maxQueuedBytes) {
      this.log.warn('closing a client that does not read its replies', { client: this.address, queuedBytes: this.socket.queuedBytes });
      this.close();
    }
  }

  /** Sends what was held, if frames may leave now. */
  flushHeld(): void {
    if (this.closedFlag || this.held.length === 0 || !(this.handler.mayReply?.() ?? true)) return;
    const frames = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const f of frames) this.socket.write(f);
  }

  /** A reply to a request: counts it off the in-flight total. */
  reply(frame: Buffer, startedAtMono?: number): void {
    this.outstanding = Math.max(0, this.outstanding - 1);
    this.lastResponseAtMs = this.clock.wallMs();
    if (startedAtMono !== undefined) this.recordLatency(Math.round(this.clock.monoMs() - startedAtMono));
    this.send(frame);
    if (this.paused && this.outstanding <= this.limits.maxOutstanding / 2) {
      this.paused = false;
      this.updateReading();
    }
  }

  /** Server-wide backpressure (e.g. the log has too much waiting for fsync). */
  setThrottled(on: boolean): void {
    this.throttled = on;
    this.updateReading();
  }

  private updateReading(): void {
    if (this.closedFlag) return;
    if (this.paused || this.throttled) this.socket.pause();
    else this.socket.resume();
  }

  replyError(xid: number, zxid: bigint, err: number, startedAtMono?: number): void {
    this.reply(encodeReply({ xid, zxid, err }), startedAtMono);
  }

  /** Closes after what was queued has been flushed. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    // Held frames never leave: the lease that would have allowed them did not come.
    this.held = [];
    this.socket.end();
    // A peer that never reads would keep the socket half-open: cut it after a moment.
    this.clock.after(CLOSE_GRACE_MS, () => this.socket.destroy());
    this.onClosed();
  }

  resetStats(): void {
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

  private onClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.handler.closed(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closedFlag) return;
    this.lastReceivedMono = this.clock.monoMs();
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.reject(e);
      return;
    }
    for (const frame of frames) {
      if (this.closedFlag) return;
      if (frame.kind === 'fourLetter') {
        if (this.handshakeDone) return this.reject(new Error('four-letter word after the handshake'));
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
        this.handler.connect(this, req);
        continue;
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
      if (req.type !== OpCode.ping) {
        this.outstanding++;
        if (!this.paused && this.outstanding >= this.limits.maxOutstanding) {
          this.paused = true;
          this.updateReading();
        }
      }
      this.lastOp = req.kind;
      this.lastCxid = req.xid;
      this.handler.request(this, req);
    }
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

