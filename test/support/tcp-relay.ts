/**
 * A byte relay between two cluster peers that can be cut: while cut, its connections are
 * destroyed and new ones are refused, like a firewall rule rejecting the traffic. (Dropping
 * bytes mid-stream instead would corrupt the framing rather than model a partition.)
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  private cutFlag = false;
  private silentFlag = false;
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
      // Copy by hand, so that a silenced relay can swallow bytes without closing anything.
      client.on('data', (b: Buffer) => {
        if (!relay!.silentFlag) upstream.write(b);
      });
      upstream.on('data', (b: Buffer) => {
        if (!relay!.silentFlag) client.write(b);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    relay = new TcpRelay(server, (server.address() as { port: number }).port);
    return relay;
  }

  cut(on: boolean): void {
    this.cutFlag = on;
    if (on) for (const s of this.sockets) s.destroy();
  }

  /**
   * A silent partition (iptables DROP): connections stay open but nothing gets through, in
   * either direction, and no end hears of it. Ending the silence resets the connections, as
   * TCP would have given up on them, so no stream resumes with a hole in it.
   */
  silence(on: boolean): void {
    const was = this.silentFlag;
    this.silentFlag = on;
    if (was && !on) for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cut(true);
    return new Promise((r) => this.server.close(() => r()));
  }
}
