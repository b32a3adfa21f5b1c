// Free loopback ports for locally started members (zk-elect's launcher, and
// the Apache ZooKeeper test harness, which reuses this).
import net from 'node:net';

export interface MemberPorts {
  id: number;
  client: number;
  quorum: number;
  election: number;
}

/**
 * Binds port 0 for every needed port at once (so no two are equal), then
 * releases them for the child processes. A port can in principle be taken in
 * between; the window is milliseconds on loopback, and a failed bind shows in
 * the member's log tail.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export async function allocatePorts(nodes: number): Promise<MemberPorts[]> {
  const ports = await freePorts(nodes * 3);
  return Array.from({ length: nodes }, (_, i) => ({
    id: i + 1,
    client: ports[i * 3]!,
    quorum: ports[i * 3 + 1]!,
    election: ports[i * 3 + 2]!,
  }));
}
