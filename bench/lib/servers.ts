/**
 * The two servers as the benchmarks run them: Apache ZooKeeper 3.8 from the local install
 * (members with a PID, so /proc gives their memory) and zk-elect's own server, both at
 * ZooKeeper's defaults unless a benchmark says otherwise: tickTime 2000 ms, snapCount 100000,
 * initLimit 10, syncLimit 5, fsync on, jute.maxbuffer 0xfffff.
 *
 * Apache's JVM: `-Xmx3g` (as in issue 9) with the JVM's default collector, which is what
 * zkServer.sh runs (it sets only -Xmx); the test harness's small serial-GC heap is for tests.
 * Its transaction-log preallocation is back at ZooKeeper's default (64 MiB; the harness uses
 * 1 MiB to keep test temp dirs small).
 */
import { startZooKeeper, type ZkEnsemble } from '../../test/support/apache-zookeeper.js';
import { startZkElectServer } from '../../test/support/zk-elect-server.js';

export type ServerKind = 'apache' | 'zk-elect';
export const NAMES: Record<ServerKind, string> = { apache: 'Apache ZooKeeper', 'zk-elect': 'zk-elect' };

export interface BenchServerOptions {
  nodes: 1 | 3;
  tickMs?: number;
  snapCount?: number;
  /** Apache only: JVM heap (default 3g). */
  heap?: string;
  startTimeoutMs?: number;
}

export const APACHE_JVM = (heap: string) => [`-Xmx${heap}`];

export function describeSettings(kind: ServerKind, o: BenchServerOptions): string {
  const tick = o.tickMs ?? 2000;
  const snap = o.snapCount ?? 100_000;
  return kind === 'apache'
    ? `tickTime=${tick} snapCount=${snap} preAllocSize=65536 (default) forceSync=yes, JVM -Xmx${o.heap ?? '3g'} (default GC)`
    : `--tick ${tick} --snap-count ${snap} (fsync on)`;
}

export async function startServer(kind: ServerKind, o: BenchServerOptions): Promise<ZkEnsemble> {
  const tickTimeMs = o.tickMs ?? 2000;
  const snapCount = o.snapCount ?? 100_000;
  const common = {
    nodes: o.nodes,
    tickTimeMs,
    controllable: true,
    startTimeoutMs: o.startTimeoutMs ?? 300_000,
    // Both at ZooKeeper's default bounds: 2 and 20 ticks.
    minSessionTimeoutMs: 2 * tickTimeMs,
    maxSessionTimeoutMs: 20 * tickTimeMs,
  };
  if (kind === 'apache') {
    return startZooKeeper({
      ...common,
      localOnly: true,
      jvmFlags: APACHE_JVM(o.heap ?? '3g'),
      zooCfg: { snapCount: String(snapCount), preAllocSize: '65536' },
    });
  }
  return startZkElectServer({ ...common, serverArgs: ['--snap-count', String(snapCount)] });
}
