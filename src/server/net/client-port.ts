/**
 * The client port: accepts connections, enforcing the per-IP connection limit, and keeps the
 * server-wide side of backpressure (ServerLoad): the requests in flight and the reply bytes
 * queued over all connections, and the write path's reasons to push back.
 *
 * Which connections stop being read at a server-wide limit (ZooKeeper's shouldThrottle rule,
 * extended to bytes): at the in-flight limit (zookeeper.globalOutstandingLimit), or while the
 * write path pushes back (the log waits for fsync, a leader's proposals are at their limit),
 * every connection with a request in flight; at the queued-bytes limit, every connection with
 * bytes still queued. A connection with nothing in flight and nothing queued is always read, so
 * reads from clients that keep up go on, and each of them adds at most one request before it
 * is stopped too. Each limit clears at half (low-water mark).
 *
 * The secure client port, when TLS is configured (ZooKeeper's secureClientPort), feeds the same
 * connections, watcher ids, per-IP limit and load figures. A failed TLS handshake (a plaintext
 * client, a certificate not from our CA) closes that connection only; it never becomes a
 * ClientConnection.
 */
import type { TlsMaterial } from '../../tls-files.js';
import type { Clock } from '../node/clock.js';
import { ClientConnection, type ConnectionHandler, type ConnectionLimits, type ServerLoad } from './client-connection.js';
import type { NetListener, NetSocket, Network } from './network.js';

export interface ClientPortOptions extends ConnectionLimits {
  host: string;
  port: number;
  maxClientConnections: number;
  /** Client requests in flight over all connections (zookeeper.globalOutstandingLimit). */
  globalOutstandingLimit: number;
  /** Reply bytes queued over all connections. */
  maxQueuedBytesTotal: number;
  /** A second, TLS-only port; client certificates are required when `material.ca` is set. */
  secure?: { port: number; material: TlsMaterial };
}

/** Why the write path pushes back: the log (fsync), the leader's uncommitted proposals, or (on a
 * follower) the leader asking its followers to hold their clients' writes. */
export type PushBackSource = 'log' | 'proposals' | 'leader';

/** What the port measures, for mntr and /metrics. */
export interface ClientLoadFigures {
  requestsInFlight: number;
  queuedBytes: number;
  pausedConnections: number;
  peakRequestsInFlight: number;
  peakQueuedBytes: number;
  pushingBack: PushBackSource[];
}

/** On at the limit, off again at half. */
function overLimit(wasOver: boolean, value: number, limit: number): boolean {
  return wasOver ? value > limit / 2 : value >= limit;
}

export class ClientPort implements ServerLoad {
  readonly connections = new Set<ClientConnection>();
  private readonly perIp = new Map<string, number>();
  private listener: NetListener | undefined;
  private secureListener: NetListener | undefined;
  private nextConnectionId = 1;
  private inFlight = 0;
  private queued = 0;
  private peakInFlight = 0;
  private peakQueued = 0;
  private overInFlight = false;
  private overQueued = false;
  private readonly pushBacks = new Set<PushBackSource>();

  constructor(
    private readonly options: ClientPortOptions,
    private readonly handler: ConnectionHandler,
    private readonly io: { network: Network; clock: Clock },
    private readonly log: { warn(msg: string, meta?: object): void; debug(msg: string, meta?: object): void },
  ) {}

  get port(): number {
    return this.listener?.port ?? this.options.port;
  }

  /** The secure port as bound (0 in the options picks a free one); undefined without TLS. */
  get securePort(): number | undefined {
    return this.secureListener?.port ?? this.options.secure?.port;
  }

  async listen(): Promise<void> {
    this.listener = await this.io.network.listen(this.options.host, this.options.port, (socket) => this.accept(socket));
    const secure = this.options.secure;
    if (!secure) return;
    try {
      this.secureListener = await this.io.network.listen(this.options.host, secure.port, (socket) => this.accept(socket), {
        material: secure.material,
        requireClientCert: secure.material.ca !== undefined,
        onRefused: (remote, why) => this.log.warn('refused a TLS client', { remote, why }),
      });
    } catch (e) {
      await this.listener.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
    await this.listener?.close();
    await this.secureListener?.close();
  }

  /** A lease came: frames held back on every connection may leave. */
  flushHeld(): void {
    for (const c of this.connections) c.flushHeld();
  }

  /** The write path starts (true) or stops (false) pushing back for `source`. */
  pushBack(source: PushBackSource, on: boolean): void {
    if (on === this.pushBacks.has(source)) return;
    if (on) this.pushBacks.add(source);
    else this.pushBacks.delete(source);
    this.log.debug(on ? 'not reading writing clients' : 'reading writing clients again', { source });
    this.refreshAll();
  }

  // ---- ServerLoad ----------------------------------------------------------------------------

  changed(dOutstanding: number, dQueuedBytes: number): void {
    this.inFlight += dOutstanding;
    this.queued += dQueuedBytes;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    if (this.queued > this.peakQueued) this.peakQueued = this.queued;
    const overInFlight = overLimit(this.overInFlight, this.inFlight, this.options.globalOutstandingLimit);
    const overQueued = overLimit(this.overQueued, this.queued, this.options.maxQueuedBytesTotal);
    if (overInFlight === this.overInFlight && overQueued === this.overQueued) return;
    this.overInFlight = overInFlight;
    this.overQueued = overQueued;
    this.refreshAll();
  }

  holds(outstanding: number, queuedBytes: number): boolean {
    if (outstanding > 0 && (this.overInFlight || this.pushBacks.size > 0)) return true;
    return queuedBytes > 0 && this.overQueued;
  }

  figures(): ClientLoadFigures {
    let paused = 0;
    for (const c of this.connections) if (!c.reading) paused++;
    return {
      requestsInFlight: this.inFlight,
      queuedBytes: this.queued,
      pausedConnections: paused,
      peakRequestsInFlight: this.peakInFlight,
      peakQueuedBytes: this.peakQueued,
      pushingBack: [...this.pushBacks],
    };
  }

  private refreshAll(): void {
    for (const c of this.connections) c.refresh();
  }

  private accept(socket: NetSocket): void {
    const ip = socket.remoteAddress;
    const count = this.perIp.get(ip) ?? 0;
    if (this.options.maxClientConnections > 0 && count >= this.options.maxClientConnections) {
      this.log.warn('too many connections from one address; refusing', { ip, max: this.options.maxClientConnections });
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count + 1);
    const conn = new ClientConnection(
      this.nextConnectionId++,
      socket,
      {
        fourLetter: (c, w) => this.handler.fourLetter(c, w),
        connect: (c, r) => this.handler.connect(c, r),
        request: (c, r) => this.handler.request(c, r),
        sent: (c, bytes, kind) => this.handler.sent?.(c, bytes, kind),
        mayReply: () => this.handler.mayReply?.() ?? true,
        closed: (c) => {
          this.connections.delete(c);
          const n = (this.perIp.get(ip) ?? 1) - 1;
          if (n <= 0) this.perIp.delete(ip);
          else this.perIp.set(ip, n);
          this.handler.closed(c);
        },
      },
      this.options,
      this,
      this.io.clock,
      this.log,
    );
    this.connections.add(conn);
  }
}
