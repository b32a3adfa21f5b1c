/**
 * Cluster failover, Apache ZooKeeper 3.8 vs zk-elect, 3 nodes each, same machine, same run:
 * kill -9 the leader, then time until the first write succeeds again. To time the servers
 * rather than a client library's reconnect back-off, every attempt is a fresh raw connection
 * (our wire-protocol test client, 100 ms handshake bound, 2 ms between attempts) to one of the
 * surviving servers, round robin, followed by a create; opening a session is itself a quorum
 * write.
 *
 * Both systems run at the same tickTime, at ZooKeeper's default (2000 ms) and at 200 ms. Each
 * starts with one untimed failover (warm-up), then the trials alternate which system goes
 * first. For zk-elect the timelines of the last and of the slowest failover are read from the survivors' logs:
 * when a survivor noticed the loss, when the vote was decided, when the new leader was
 * established, and when the first write and the probe's session were acknowledged.
 *
 * Apache runs with -Xmx3g and the JVM's default collector, as in the rest of the issue-9
 * suite (bench/lib/servers.ts). `--json FILE` also writes every trial's figure.
 *
 *   npm run bench:failover [-- --trials 10 --ticks 2000,200]
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ZkSession } from '../src/election/session.js';
import { sleep } from '../src/launcher/cli-process.js';
import type { ZkEnsemble, ZkMember } from '../src/launcher/types.js';
import { startZooKeeper } from '../test/support/apache-zookeeper.js';
import { startZkElectServer } from '../test/support/zk-elect-server.js';
import { RawClient } from '../test/support/raw-client.js';
import { writeJson } from './lib/common.js';
import { APACHE_JVM } from './lib/servers.js';
import { fmt, summarize } from './stats.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '10' }, ticks: { type: 'string', default: '2000,200' }, json: { type: 'string' } } });
const TRIALS = Number(values.trials);
const TICKS = String(values.ticks).split(',').map(Number);
if (!(TRIALS >= 1) || TICKS.some((t) => !(t >= 10))) {
  process.stderr.write('usage: npm run bench:failover -- [--trials N] [--ticks 2000,200]\n');
  process.exit(2);
}

interface Trial {
  ms: number;
  killedAtWall: number;
  doneAtWall: number;
  connectedAtWall: number;
  dataDirs: string[];
  /** zk-elect only: what the survivors logged between the kill and the write. */
  story?: string[];
}

/** One failover: kill -9 the leader, write through a fresh session to a survivor, restart it. */
async function failover(name: string, zk: ZkEnsemble, label: string): Promise<Trial> {
  const leader = await waitFor(() => zk.leader(), 60_000);
  const warm = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
  await warm.create(`/failover-${label}`, Buffer.alloc(0), 'persistent').catch(() => undefined);
  await warm.close();
  const survivors = zk.members.filter((m) => m.id !== leader.id);
  const killedAtWall = Date.now();
  const t0 = performance.now();
  await leader.kill('SIGKILL');
  let connectedAtWall = 0;
  for (let k = 0; ; k++) {
    let done = false;
    let why = '';
    try {
      const probe = await RawClient.connect(survivors[k % survivors.length]!.address, { timeoutMs: 4000, handshakeTimeoutMs: 100, requestTimeoutMs: 2000, autoPing: false });
      connectedAtWall = Date.now();
      try {
        const r = await probe.create(`/failover-${label}/w${k}`, null);
        done = r.err === 0;
        why = r.errName;
      } finally {
        await probe.close().catch(() => undefined);
      }
    } catch (e) {
      why = (e as Error).message;
    }
    if (done) break;
    if (performance.now() - t0 > 120_000) throw new Error(`${name}: no write within 120 s of killing the leader (last error: ${why})`);
    await sleep(2);
  }
  const ms = performance.now() - t0;
  const doneAtWall = Date.now();
  const trial = { ms, killedAtWall, doneAtWall, connectedAtWall, dataDirs: survivors.map((m) => memberDir(m)) };
  const story = name === 'zk-elect' ? timeline(trial) : [];
  await leader.start();
  await waitFor(async () => (await Promise.all(zk.members.map((m) => m.mode()))).every((m) => m === 'leader' || m === 'follower'), 60_000);
  return { ...trial, story };
}

function memberDir(m: ZkMember): string {
  return (m as unknown as { dir?: string }).dir ?? '';
}

async function waitFor<T>(fn: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

/** zk-elect survivors' log lines between the kill and the first write, as offsets from the kill. */
function timeline(t: Trial): string[] {
  const events: Array<[number, string]> = [];
  for (const dir of t.dataDirs) {
    let text = '';
    try {
      text = fs.readFileSync(path.join(dir, 'console.log'), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^(\S+) (zk-elect-server-\d+) info: (role|leading|following|serving)(.*)$/.exec(line);
      if (!m) continue;
      const at = Date.parse(m[1]!);
      if (at < t.killedAtWall - 5 || at > t.doneAtWall + 5) continue;
      const role = /"role":"(\w+)"/.exec(m[4]!)?.[1];
      const what =
        m[3] === 'role' ? (role === 'looking' ? 'noticed the leader is gone: looking' : `vote decided: ${role ?? '?'} (syncing)`) : m[3] === 'leading' ? 'leading: established' : m[3] === 'following' ? 'following: synced' : m[3]!;
      events.push([at - t.killedAtWall, `${m[2]} ${what}`]);
    }
  }
  events.push([t.connectedAtWall - t.killedAtWall, 'probe client: session opened on a survivor']);
  events.push([t.doneAtWall - t.killedAtWall, 'probe client: first write acknowledged']);
  return events.sort((a, b) => a[0] - b[0]).map(([ms, what]) => `  +${String(ms).padStart(5)} ms  ${what}`);
}

const results: Array<{ tickMs: number; apacheMs: number[]; zkElectMs: number[]; zkElectTimeline: string[]; zkElectSlowest?: { ms: number; timeline: string[] } }> = [];
for (const tickMs of TICKS) {
  process.stderr.write(`tickTime ${tickMs} ms: starting both clusters\n`);
  const apache = await startZooKeeper({ nodes: 3, controllable: true, tickTimeMs: tickMs, localOnly: true, jvmFlags: APACHE_JVM('3g') });
  const ours = await startZkElectServer({ nodes: 3, controllable: true, tickTimeMs: tickMs });
  const a: number[] = [];
  const z: number[] = [];
  let last: Trial | undefined;
  let slowest: Trial | undefined;
  try {
    await failover('Apache ZooKeeper', apache, 'warm');
    await failover('zk-elect', ours, 'warm');
    for (let i = 0; i < TRIALS; i++) {
      const order = i % 2 === 0 ? (['apache', 'ours'] as const) : (['ours', 'apache'] as const);
      for (const who of order) {
        const t = who === 'apache' ? await failover('Apache ZooKeeper', apache, String(i)) : await failover('zk-elect', ours, String(i));
        (who === 'apache' ? a : z).push(t.ms);
        if (who === 'ours') {
          last = t;
          if (!slowest || t.ms > slowest.ms) slowest = t;
        }
      }
      process.stderr.write(`tickTime ${tickMs}: ${i + 1}/${TRIALS} trials (last: Apache ${fmt(a.at(-1)!)} ms, zk-elect ${fmt(z.at(-1)!)} ms)\n`);
    }
  } finally {
    await apache.stop();
    await ours.stop();
  }
  const sa = summarize(a);
  const sz = summarize(z);
  console.log(`\ntickTime ${tickMs} ms: kill -9 the leader -> first successful write, ${TRIALS} trials each (ms), warmed up, order alternating`);
  console.log(`                   p50     p99     min     max`);
  console.log(`Apache ZooKeeper ${fmt(sa.p50).padStart(6)}  ${fmt(sa.p99).padStart(6)}  ${fmt(sa.min).padStart(6)}  ${fmt(sa.max).padStart(6)}`);
  console.log(`zk-elect         ${fmt(sz.p50).padStart(6)}  ${fmt(sz.p99).padStart(6)}  ${fmt(sz.min).padStart(6)}  ${fmt(sz.max).padStart(6)}`);
  console.log(`ratio (zk-elect / Apache): p50 ${(sz.p50 / sa.p50).toFixed(2)}, max ${(sz.max / sa.max).toFixed(2)}`);
  if (last?.story) console.log(`zk-elect, timeline of the last failover (from the kill):\n${last.story.join('\n')}`);
  if (slowest?.story && slowest !== last) console.log(`zk-elect, timeline of the slowest failover (${fmt(slowest.ms)} ms):\n${slowest.story.join('\n')}`);
  results.push({
    tickMs,
    apacheMs: a.map(Math.round),
    zkElectMs: z.map(Math.round),
    zkElectTimeline: last?.story ?? [],
    ...(slowest?.story ? { zkElectSlowest: { ms: Math.round(slowest.ms), timeline: slowest.story } } : {}),
  });
}
writeJson(values.json, { bench: 'failover', config: { trials: TRIALS, ticks: TICKS }, results });
