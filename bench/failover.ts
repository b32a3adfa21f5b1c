/**
 * Cluster failover, Apache ZooKeeper 3.8 vs zk-elect, 3 nodes each, same machine, same run:
 * kill -9 the leader, then time until the first write succeeds again. To time the servers
 * rather than a client's reconnect back-off, every attempt is a fresh connection to one of
 * the surviving servers (round robin, 300 ms connect bound) followed by a create; opening a
 * session is itself a quorum write. Both use tickTime 200 ms.
 *
 *   npm run bench:failover [-- --trials 10]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ZkSession } from '../src/election/session.js';
import { startZooKeeper, type ZkEnsemble } from '../test/support/apache-zookeeper.js';
import { sleep } from '../src/launcher/cli-process.js';
import { startZkElectServer } from '../test/support/zk-elect-server.js';
import { fmt, progress, summarize } from './stats.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '10' } } });
const TRIALS = Number(values.trials);

async function failovers(name: string, zk: ZkEnsemble): Promise<number[]> {
  const session = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
  await session.create('/failover', Buffer.alloc(0), 'persistent');
  const samples: number[] = [];
  try {
    for (let i = 0; i < TRIALS; i++) {
      const leader = await waitFor(() => zk.leader(), 30_000);
      // A write right before the kill proves the path works and warms the connection.
      await session.create(`/failover/before-${i}`, Buffer.alloc(0), 'persistent');
      const t0 = performance.now();
      await leader.kill('SIGKILL');
      const survivors = zk.members.filter((m) => m.id !== leader.id);
      for (let k = 0; ; k++) {
        try {
          const probe = await ZkSession.connect({ connect: survivors[k % survivors.length]!.address, sessionTimeoutMs: 4000, connectTimeoutMs: 300 });
          try {
            await probe.create(`/failover/t${i}-${k}`, Buffer.alloc(0), 'persistent');
          } finally {
            await probe.close();
          }
          break;
        } catch (e) {
          if (performance.now() - t0 > 60_000) throw new Error(`${name}: no write within 60 s of killing the leader (trial ${i}; last error: ${(e as Error).message})`);
          await sleep(10);
        }
      }
      samples.push(performance.now() - t0);
      await leader.start();
      await waitFor(async () => (await Promise.all(zk.members.map((m) => m.mode()))).every((m) => m === 'leader' || m === 'follower'), 30_000);
      progress(name, i + 1, TRIALS);
    }
  } finally {
    await session.close();
  }
  return samples;
}

async function waitFor<T>(fn: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

const apache = await startZooKeeper({ nodes: 3, controllable: true });
const ours = await startZkElectServer({ nodes: 3, controllable: true });
try {
  const a = summarize(await failovers('Apache ZooKeeper', apache));
  const z = summarize(await failovers('zk-elect', ours));
  console.log(`\nkill -9 the leader -> first successful write, ${TRIALS} trials each (ms)`);
  console.log(`                   p50     p99     min     max`);
  console.log(`Apache ZooKeeper ${fmt(a.p50).padStart(6)}  ${fmt(a.p99).padStart(6)}  ${fmt(a.min).padStart(6)}  ${fmt(a.max).padStart(6)}`);
  console.log(`zk-elect         ${fmt(z.p50).padStart(6)}  ${fmt(z.p99).padStart(6)}  ${fmt(z.min).padStart(6)}  ${fmt(z.max).padStart(6)}`);
  console.log(`ratio (zk-elect / Apache): p50 ${(z.p50 / a.p50).toFixed(2)}, max ${(z.max / a.max).toFixed(2)}`);
} finally {
  await apache.stop();
  await ours.stop();
}
