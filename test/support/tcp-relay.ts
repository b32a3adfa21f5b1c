/**
 * A byte relay between two cluster peers that can be cut: while cut, its connections are
 * destroyed and new ones are refused, like a firewall rule rejecting the traffic. (Dropping
 * bytes mid-stream instead would corrupt the framing rather than model a partition.)
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  private cutFlag = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpRelay> {
    let relay: TcpRelay | undefined;
    const server = createServer((client) => {
      if (!relay || relay.cutFlag) {
        client.destroy();
        return;
      }
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        relay.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          relay!.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    relay = new TcpRelay(server, (server.address() as { port: number }).port);
    return relay;
  }

  cut(on: boolean): void {
    this.cutFlag = on;
    if (on) for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cut(true);
    return new Promise((r) => this.server.close(() => r()));
  }
}
