// Free loopback ports for locally started members (zk-elect's launcher, and
// the Apache ZooKeeper test harness, which reuses this).
import { readFileSync } from 'node:fs';
import net from 'node:net';

export interface MemberPorts {
  id: number;
  client: number;
  quorum: number;
  election: number;
}

/**
 * The kernel's range for ephemeral ports (the source ports of outgoing connections, and what
 * binding port 0 hands out). Linux's default when it cannot be read.
 */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo! > 0 && hi! >= lo!) return [lo!, hi!];
  } catch {
    // not Linux, or no /proc: fall through
  }
  return [32768, 60999];
}

/** Lowest port we pick from: above the well-known and most registered services. */
const LOWEST = 10_000;

function listen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/**
 * Holds `count` distinct free loopback ports at once, then releases them for the child
 * processes that will listen on them. They come from below the kernel's ephemeral range when
 * there is room there: a port released here stays unbound until a member starts, and a port
 * inside the ephemeral range can meanwhile become the source port of any outgoing connection
 * (the members dialling each other, a test's relays), which then fails that member's listen
 * with EADDRINUSE (seen in CI: cluster-stale-read). Below the range only another explicit
 * binder can take it.
 */
export async function freePorts(count: number): Promise<number[]> {
  const held: net.Server[] = [];
  const [ephemeralLow] = ephemeralRange();
  const span = ephemeralLow - LOWEST;
  try {
    for (let attempts = 0; held.length < count && span > count * 4 && attempts < count * 50; attempts++) {
      const s = await listen(LOWEST + Math.floor(Math.random() * span));
      if (s) held.push(s);
    }
    // No room below the range (or unlucky): the kernel's own choice, as before.
    while (held.length < count) {
      const s = await listen(0);
      if (!s) throw new Error('cannot bind a free loopback port on 127.0.0.1');
      held.push(s);
    }
    return held.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
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
