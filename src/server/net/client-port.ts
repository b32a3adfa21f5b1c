/** The client port: accepts connections, enforcing the per-IP connection limit. */
import type { Clock } from '../node/clock.js';
import { ClientConnection, type ConnectionHandler, type ConnectionLimits } from './client-connection.js';
import type { NetListener, NetSocket, Network } from './network.js';

export interface ClientPortOptions extends ConnectionLimits {
  host: string;
  port: number;
  maxClientConnections: number;
}

export class ClientPort {
  readonly connections = new Set<ClientConnection>();
  private readonly perIp = new Map<string, number>();
  private listener: NetListener | undefined;
  private nextConnectionId = 1;
  /** While true no connection reads requests (the write path is pushing back). */
  private throttled = false;

  constructor(
    private readonly options: ClientPortOptions,
    private readonly handler: ConnectionHandler,
    private readonly io: { network: Network; clock: Clock },
    private readonly log: { warn(msg: string, meta?: object): void; debug(msg: string, meta?: object): void },
  ) {}

  get port(): number {
    return this.listener?.port ?? this.options.port;
  }

  async listen(): Promise<void> {
    this.listener = await this.io.network.listen(this.options.host, this.options.port, (socket) => this.accept(socket));
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
    await this.listener?.close();
  }

  /** A lease came: frames held back on every connection may leave. */
  flushHeld(): void {
    for (const c of this.connections) c.flushHeld();
  }

  /** Stops (true) or resumes (false) reading requests on every connection: backpressure from the write path. */
  throttle(on: boolean): void {
    if (on === this.throttled) return;
    this.throttled = on;
    for (const c of this.connections) c.setThrottled(on);
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
        sent: (c) => this.handler.sent?.(c),
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
      this.io.clock,
      this.log,
    );
    this.connections.add(conn);
    if (this.throttled) conn.setThrottled(true);
  }
}
