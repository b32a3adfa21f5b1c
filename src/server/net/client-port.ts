/** The client port: accepts connections, enforcing the per-IP connection limit. */
import { createServer, type Server, type Socket } from 'node:net';
import { ClientConnection, normalizeAddress, type ConnectionHandler, type ConnectionLimits } from './client-connection.js';

export interface ClientPortOptions extends ConnectionLimits {
  host: string;
  port: number;
  maxClientConnections: number;
}

export class ClientPort {
  readonly connections = new Set<ClientConnection>();
  private readonly perIp = new Map<string, number>();
  private server: Server | undefined;

  constructor(
    private readonly options: ClientPortOptions,
    private readonly handler: ConnectionHandler,
    private readonly log: { warn(msg: string, meta?: object): void; debug(msg: string, meta?: object): void },
  ) {}

  get port(): number {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr ? addr.port : this.options.port;
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen on ${this.options.host}:${this.options.port}: ${e.code ?? e.message}`, { cause: e })),
      );
      server.listen(this.options.port, this.options.host, () => resolve());
    });
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(socket: Socket): void {
    const ip = normalizeAddress(socket.remoteAddress ?? '');
    const count = this.perIp.get(ip) ?? 0;
    if (this.options.maxClientConnections > 0 && count >= this.options.maxClientConnections) {
      this.log.warn('too many connections from one address; refusing', { ip, max: this.options.maxClientConnections });
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count + 1);
    const conn = new ClientConnection(
      socket,
      {
        fourLetter: (c, w) => this.handler.fourLetter(c, w),
        connect: (c, r) => this.handler.connect(c, r),
        request: (c, r) => this.handler.request(c, r),
        sent: (c) => this.handler.sent?.(c),
        closed: (c) => {
          this.connections.delete(c);
          const n = (this.perIp.get(ip) ?? 1) - 1;
          if (n <= 0) this.perIp.delete(ip);
          else this.perIp.set(ip, n);
          this.handler.closed(c);
        },
      },
      this.options,
      this.log,
    );
    this.connections.add(conn);
  }
}
