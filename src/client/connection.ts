/**
 * One TCP connection of zk-elect's client to one server: dialing, the handshake, frame
 * splitting, and the two liveness rules both reference clients apply once a session is open:
 *
 * - send a ping (xid -2) when nothing was sent for timeout/3, so the server's session
 *   clock keeps being touched while the application is idle;
 * - give the connection up when nothing was received for 2/3 of the timeout, leaving a
 *   third of the session timeout to reach another server before the session expires.
 *
 * A handshake not answered within the connect timeout is given up the same way. Giving up
 * is a reset (destroy), and `lost` is reported exactly once, synchronously: the session
 * logic must not depend on when (or whether) the network reports the close.
 */
import type { Clock, Timer } from '../clock.js';
import type { Network, NetSocket, TlsConnectOptions } from '../server/net/network.js';
import {
  decodeConnectResponse, encodeConnectRequest, encodeRequest, FrameDecoder, OpCode, Xid,
  type ConnectRequest, type ConnectResponse,
} from '../protocol/index.js';
import { parseServer, type DropReason } from './types.js';

export interface ConnectionHooks {
  /** The ConnectResponse arrived (decoded); the session logic decides what it means. */
  handshake(conn: Connection, res: ConnectResponse): void;
  /** A frame after the handshake (payload without the length prefix). */
  frame(conn: Connection, payload: Buffer): void;
  /** The connection is gone; called once, and nothing is reported after it. */
  lost(conn: Connection, reason: DropReason): void;
  /** A frame that would not split or decode: a protocol violation by the server. */
  malformed(conn: Connection, detail: string): void;
}

/** Clients accept far larger frames than servers (a getChildren of a big node). */
const CLIENT_MAX_FRAME = 256 * 1024 * 1024;

export class Connection {
  phase: 'dialing' | 'handshake' | 'open' | 'dead' = 'dialing';
  /** The handshake was accepted at some point (it stays true once the connection is dead). */
  established = false;
  lastSendMs: number;
  /** Send times of pings not answered yet (a server answers pings in order). */
  readonly pingsSent: number[] = [];
  lastRecvMs: number;
  private socket: NetSocket | undefined;
  private readonly decoder = new FrameDecoder({ fourLetterWords: false, maxFrame: CLIENT_MAX_FRAME });
  private timer: Timer | undefined;
  private timeoutMs = 0;

  constructor(
    private readonly network: Network,
    private readonly clock: Clock,
    readonly server: string,
    private readonly connectRequest: ConnectRequest,
    private readonly connectTimeoutMs: number,
    /** TLS on the dialled socket (a secure client port); absent for plaintext. */
    private readonly tls: TlsConnectOptions | undefined,
    private readonly hooks: ConnectionHooks,
  ) {
    this.lastSendMs = this.lastRecvMs = clock.monoMs();
  }

  /**
   * Dials. Separate from the constructor because a network may report a refused connect
   * synchronously, and the session must already hold this object to recognise the report.
   */
  start(): void {
    const { host, port } = parseServer(this.server);
    this.timer = this.clock.after(this.connectTimeoutMs, () => {
      if (this.phase === 'dialing' || this.phase === 'handshake') this.drop('connect-timeout');
    });
    const socket = this.network.connect(host, port, this.tls);
    this.socket = socket;
    socket.onConnect(() => {
      if (this.phase !== 'dialing') return;
      this.phase = 'handshake';
      this.write(encodeConnectRequest(this.connectRequest));
    });
    socket.onData((chunk) => this.onData(chunk));
    socket.onClose(() => this.lose('closed-by-peer'));
  }

  get alive(): boolean {
    return this.phase !== 'dead';
  }

  /** Called by the session once the handshake was accepted: starts pinging and the receive deadline. */
  open(negotiatedTimeoutMs: number): void {
    if (this.phase !== 'handshake') return;
    this.phase = 'open';
    this.established = true;
    this.timeoutMs = negotiatedTimeoutMs;
    this.timer?.cancel();
    this.schedule();
  }

  write(frame: Buffer): void {
    if (this.phase === 'dead') return;
    this.lastSendMs = this.clock.monoMs();
    this.socket?.write(frame);
  }

  /** Why the socket failed, if it did (a refused TLS handshake says why here). */
  get socketError(): string | undefined {
    return this.socket?.lastError;
  }

  /** Reset the connection (queued bytes are dropped) and report it lost. */
  drop(reason: DropReason): void {
    if (this.phase === 'dead') return;
    this.socket?.destroy();
    this.lose(reason);
  }

  /** Graceful close after what was written (used after closeSession was answered). */
  end(reason: DropReason): void {
    if (this.phase === 'dead') return;
    this.socket?.end();
    this.lose(reason);
  }

  private lose(reason: DropReason): void {
    if (this.phase === 'dead') return;
    this.phase = 'dead';
    this.timer?.cancel();
    this.timer = undefined;
    this.hooks.lost(this, reason);
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'dead') return;
    this.lastRecvMs = this.clock.monoMs();
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.hooks.malformed(this, (e as Error).message);
      return;
    }
    for (const f of frames) {
      // A hook may drop the connection mid-chunk: the rest of the chunk is then not ours to read.
      if (!this.alive) return;
      if (f.kind !== 'frame') continue;
      if (this.phase === 'handshake') {
        let res: ConnectResponse;
        try {
          res = decodeConnectResponse(f.payload);
        } catch (e) {
          this.hooks.malformed(this, `ConnectResponse: ${(e as Error).message}`);
          return;
        }
        this.hooks.handshake(this, res);
      } else if (this.phase === 'open') {
        this.hooks.frame(this, f.payload);
      } else {
        this.hooks.malformed(this, 'a frame before the TCP connect completed');
      }
    }
  }

  /**
   * One timer per connection, re-armed for the earlier of the two deadlines. Activity only
   * moves deadlines later, so a timer that fires early just recomputes: a handful of timer
   * events per session timeout, however busy the connection is.
   */
  private schedule(): void {
    const pingEvery = Math.max(1, Math.floor(this.timeoutMs / 3));
    const recvLimit = Math.max(1, Math.floor((this.timeoutMs * 2) / 3));
    const tick = () => {
      if (this.phase !== 'open') return;
      const now = this.clock.monoMs();
      if (now - this.lastRecvMs >= recvLimit) {
        this.drop('receive-timeout');
        return;
      }
      if (now - this.lastSendMs >= pingEvery) {
        this.pingsSent.push(now);
        this.write(encodeRequest({ kind: 'ping', xid: Xid.PING, type: OpCode.ping }));
      }
      const next = Math.min(this.lastSendMs + pingEvery, this.lastRecvMs + recvLimit);
      this.timer = this.clock.after(Math.max(1, next - now), tick);
    };
    const now = this.clock.monoMs();
    this.timer = this.clock.after(Math.max(1, Math.min(this.lastSendMs + pingEvery, this.lastRecvMs + recvLimit) - now), tick);
  }
}
