/**
 * One client TCP connection: frames in, frames out. It knows the handshake order (first a
 * ConnectRequest or a four-letter word, then requests) and the limits (frame size,
 * requests in flight, bytes queued for a slow reader); what requests *mean* is the
 * handler's business. A malformed frame closes this connection only.
 */
import type { Socket } from 'node:net';
import { ErrorCode, OpCode } from '../../protocol/constants.js';
import { FrameDecoder } from '../../protocol/framing.js';
import { ProtocolError } from '../../protocol/jute.js';
import type { ConnectRequest, Id } from '../../protocol/records.js';
import { decodeConnectRequest, decodeRequest, type Request } from '../../protocol/requests.js';
import { encodeReply } from '../../protocol/responses.js';

export interface ConnectionHandler {
  fourLetter(conn: ClientConnection, word: string): Promise<string> | string;
  connect(conn: ClientConnection, req: ConnectRequest): void;
  request(conn: ClientConnection, req: Request): void;
  closed(conn: ClientConnection): void;
  /** Every frame queued for this client (replies, notifications, the ConnectResponse). */
  sent?(conn: ClientConnection): void;
}

export interface ConnectionLimits {
  maxFrameBytes: number;
  maxOutstanding: number;
  /** Bytes queued for a client that does not read before we drop it. */
  maxQueuedBytes: number;
}

let nextConnectionId = 1;

export class ClientConnection {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly establishedAtMs = Date.now();
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
  /** When the last reply left (Date.now() ms; 0 before any), for `cons`'s lresp. */
  lastResponseAtMs = 0;
  lastLatencyMs = 0;
  minLatencyMs = Number.POSITIVE_INFINITY;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  latencyCount = 0;
  private readonly decoder: FrameDecoder;
  private handshakeDone = false;
  private closedFlag = false;
  private paused = false;
  private corked = false;

  constructor(
    private readonly socket: Socket,
    private readonly handler: ConnectionHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: { warn(msg: string, meta?: object): void; debug(msg: string, meta?: object): void },
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.authIds = [{ scheme: 'ip', id: this.remoteAddress }];
    this.decoder = new FrameDecoder({ maxFrame: limits.maxFrameBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows and does the work
    socket.on('close', () => this.onClosed());
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
    // Replies produced in one turn of the event loop leave in one write (one syscall).
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame);
    if (this.socket.writableLength > this.limits.maxQueuedBytes) {
      this.log.warn('closing a client that does not read its replies', { client: this.address, queuedBytes: this.socket.writableLength });
      this.close();
    }
  }

  /** A reply to a request: counts it off the in-flight total. */
  reply(frame: Buffer, startedAtMs?: number): void {
    this.outstanding = Math.max(0, this.outstanding - 1);
    this.lastResponseAtMs = Date.now();
    if (startedAtMs !== undefined) this.recordLatency(Date.now() - startedAtMs);
    this.send(frame);
    if (this.paused && this.outstanding <= this.limits.maxOutstanding / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  replyError(xid: number, zxid: bigint, err: number, startedAtMs?: number): void {
    this.reply(encodeReply({ xid, zxid, err }), startedAtMs);
  }

  /** Closes after what was queued has been flushed. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.socket.end();
    // A peer that never reads would keep the socket half-open: cut it after a moment.
    setTimeout(() => this.socket.destroy(), 1000).unref();
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
          this.socket.pause();
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
      if (!this.closedFlag) this.socket.end(text);
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

/** `::ffff:127.0.0.1` -> `127.0.0.1`, as ZooKeeper reports IPv4 clients. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
