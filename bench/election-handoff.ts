/**
 * Election handoff benchmark against real Apache ZooKeeper and against zk-elect's own server
 * (`--servers`, both by default, running side by side), at ZooKeeper's default tickTime
 * (2000 ms) with a 4000 ms session (the least that tick allows) unless told otherwise. Each
 * server is warmed up with untimed graceful handoffs first; then the servers take turns,
 * the order reversed each round (blocks of graceful handoffs, one crash or cut-off trial).
 *
 *   npm run bench:election [-- --handoffs 200 --crash-trials 5 --nodes 1|3 --servers apache,zk-elect --libs zk-elect,kazoo --transports native,wire]
 *   npm run bench:election -- --servers apache --tick 200 --session-timeout 2000   # the README's earlier table
 *
 * Prints:
 * - graceful handoff: leader resigns (resign({ requeue: true })) -> successor's `elected`, p50/p99
 *   over many handoffs, once per transport (the C client, and zk-elect's own wire client); beside it, on the same server in the same blocks (the order of the two
 *   libraries alternating), kazoo's Lock: release() -> the waiter's acquire() returning
 *   (bench/kazoo-handoff.py, Debian's python3-kazoo; skipped when it is not installed);
 * - the floor: one committed delete until its watcher hears of it, with no library on top (what
 *   every ZooKeeper handoff waits for, kazoo's included), and its ratio to kazoo's handoff;
 * - crash handoff: kill -9 of a real `zk-elect` process -> successor's `elected`, against the
 *   session timeout (the server must expire the session first);
 * - cut-off leader: blackhole between leader and server -> leader's `lost`, and the margin
 *   before the successor's `elected` (the safety property, as a figure).
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { LeaderElection } from '../src/election/election.js';
import { ZkSession, type TransportName } from '../src/election/session.js';
import type { ZkEnsemble } from '../test/support/apache-zookeeper.js';
import { ZkTcpProxy } from '../test/support/tcp-proxy.js';
import { CliProcess } from '../src/launcher/cli-process.js';
import { systemClock } from '../src/clock.js';
import { mathRandom } from '../src/client/types.js';
import { WireClient } from '../src/client/zk-client.js';
import { nodeNetwork } from '../src/server/net/network.js';
import { sleep } from '../src/launcher/cli-process.js';
import { kazooAvailable, runKazoo } from './kazoo.js';
import { parseList, say, writeJson } from './lib/common.js';
import { NAMES, describeSettings, startServer, type ServerKind } from './lib/servers.js';
import { fmt, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    handoffs: { type: 'string', default: '200' },
    'crash-trials': { type: 'string', default: '5' },
    'cut-trials': { type: 'string', default: '3' },
    nodes: { type: 'string', default: '1' },
    'session-timeout': { type: 'string', default: '4000' },
    tick: { type: 'string', default: '2000' },
    servers: { type: 'string', default: 'apache,zk-elect' },
    json: { type: 'string' },
    libs: { type: 'string', default: 'zk-elect,kazoo' },
    transports: { type: 'string', default: 'native,wire' },
  },
});
const LIBS = parseList(values.libs!, ['zk-elect', 'kazoo'] as const, '--libs');
const TRANSPORTS = LIBS.includes('zk-elect') ? parseList(values.transports!, ['native', 'wire'] as const, '--transports') : [];
const KAZOO = LIBS.includes('kazoo') && kazooAvailable();
if (LIBS.includes('kazoo') && !KAZOO) say('election', 'kazoo is not installed (apt-get install python3-kazoo): no kazoo figures');
const TICK_MS = Number(values.tick);
const SERVERS = parseList(values.servers!, ['apache', 'zk-elect'] as const, '--servers');
const HANDOFFS = Number(values.handoffs);
const CRASH_TRIALS = Number(values['crash-trials']);
const CUT_TRIALS = Number(values['cut-trials']);
const NODES = Number(values.nodes) === 3 ? 3 : 1;
const SESSION_TIMEOUT_MS = Number(values['session-timeout']);

const once = <T>(emitter: LeaderElection, event: 'elected' | 'lost'): Promise<T> =>
  new Promise((resolve) => emitter.once(event, (x: unknown) => resolve(x as T)));

/** `n` graceful handoffs between two candidates on one path; each sample ends at the successor's `elected`. */
async function graceful(zk: ZkEnsemble, n: number, tag: string, transport: TransportName): Promise<number[]> {
  const path = `/bench/graceful-${process.pid}-${tag}-${transport}`;
  const sessions = await Promise.all([0, 1].map(() => ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000, transport })));
  const elections = sessions.map((s, i) => new LeaderElection(s, { path, id: `g${i}` }));
  await elections[0]!.join();
  await elections[0]!.waitForLeadership({ timeoutMs: 10_000 });
  await elections[1]!.join();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const leader = elections.find((e) => e.isLeader)!;
    const next = elections.find((e) => e !== leader)!;
    await sleep(2); // as bench/kazoo-handoff.py does: the previous handoff's tail settles first
    const elected = once(next, 'elected').then(() => performance.now());
    const t0 = performance.now();
    const resigned = leader.resign({ requeue: true });
    samples.push((await elected) - t0);
    await resigned; // the old leader is queued again (its watch set) before the next handoff
  }
  for (const e of elections) await e.close();
  for (const s of sessions) await s.close();
  return samples;
}

/**
 * The floor under any ZooKeeper-arbitrated handoff: the old leader's delete must commit (a
 * durable write) and its watcher be told before anyone may lead. Measured with zk-elect's own
 * client and nothing else: A deletes an ephemeral node B watches; the sample runs from A's
 * delete call to B's notification. kazoo's Lock pays this too, plus one getChildren; so no
 * library can hand over faster than this, and none can be faster than kazoo by more than the
 * rest of kazoo's time.
 */
async function floor(zk: ZkEnsemble, n: number, tag: string): Promise<number[]> {
  const servers = zk.connectString.split(',');
  const open = () =>
    new Promise<WireClient>((resolve) => {
      const c: WireClient = new WireClient({
        network: nodeNetwork, clock: systemClock, rng: mathRandom, servers, sessionTimeoutMs: 10_000,
        onEvent: (e) => void (e.type === 'state' && e.state === 'connected' && resolve(c)),
      });
      c.start();
    });
  const [a, b] = await Promise.all([open(), open()]);
  const node = `/bench-floor-${process.pid}-${tag}`;
  const samples: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      await a.create(node, null, 1); // ephemeral
      const told = new Promise<number>((resolve) => void b.exists(node, () => resolve(performance.now())));
      await b.sync(node); // the watch is registered once a later reply on b's session arrived
      await sleep(2); // as the handoff loops do
      const t0 = performance.now();
      const deleted = a.delete(node);
      samples.push((await told) - t0);
      await deleted;
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  return samples;
}

/** `n` kazoo Lock handoffs (release -> the waiter's acquire returning) on one path, after `warm` untimed ones. */
async function kazooGraceful(zk: ZkEnsemble, n: number, tag: string, warm = 2): Promise<number[]> {
  const path = `/bench/kazoo-${process.pid}-${tag}`;
  return (await runKazoo<{ samples_ms: number[] }>('kazoo-handoff.py', [zk.connectString, path, String(n), String(warm)], 300_000)).samples_ms;
}

/**
 * One crash handoff: a `zk-elect join` process leads, a second one waits; the leader's process
 * is killed -9 and the figure runs until the successor prints `elected` (its own timestamp),
 * so it includes the server expiring the dead leader's session.
 */
async function crashOnce(zk: ZkEnsemble, i: number): Promise<number> {
  const path = `/bench/crash-${process.pid}-${i}`;
  const args = (id: string) => ['join', '--json', '-c', zk.connectString, '-p', path, '--id', id, '--session-timeout', String(SESSION_TIMEOUT_MS)];
  const leader = new CliProcess(args('crash-leader'));
  let next: CliProcess | undefined;
  try {
    await leader.waitForEvent('elected', 20_000);
    next = new CliProcess(args('crash-next')); // started only now, so it is the one that follows
    await next.waitForEvent('following', 20_000);
    const t0 = Date.now();
    leader.signal('SIGKILL');
    const elected = await next.waitForEvent('elected', SESSION_TIMEOUT_MS + 30_000, t0);
    return elected.ts - t0;
  } finally {
    leader.signal('SIGKILL');
    next?.signal('SIGINT');
    await Promise.all([leader.exited, next?.exited]);
  }
}

/** One cut-off: the leader's connection is blackholed; when does it see `lost`, and when is the successor `elected`? */
async function cutOffOnce(zk: ZkEnsemble, i: number): Promise<{ lostMs: number; electedMs: number }> {
  const member = zk.members[0]!;
  const path = `/bench/cut-${process.pid}-${i}`;
  const proxy = await ZkTcpProxy.start({ host: '127.0.0.1', port: member.clientPort });
  const s1 = await ZkSession.connect({ connect: proxy.address, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const s2 = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const a = new LeaderElection(s1, { path, id: 'cut-leader' });
  const b = new LeaderElection(s2, { path, id: 'cut-next' });
  try {
    await a.join();
    await a.waitForLeadership({ timeoutMs: 10_000 });
    await b.join();
    const lost = once(a, 'lost').then(() => performance.now());
    const elected = once(b, 'elected').then(() => performance.now());
    const t0 = performance.now();
    proxy.blackhole(true);
    const [lostAt, electedAt] = await Promise.all([lost, elected]);
    return { lostMs: lostAt - t0, electedMs: electedAt - t0 };
  } finally {
    await a.close();
    await b.close();
    await s1.close();
    await s2.close();
    await proxy.close();
  }
}

const WARM = Math.min(20, HANDOFFS);
const servers = new Map<ServerKind, ZkEnsemble>();
const results: Array<{ server: ServerKind; gracefulMs: Partial<Record<TransportName, number[]>>; kazooGracefulMs?: number[]; floorMs: number[]; crashMs: number[]; cutOff: Array<{ lostMs: number; electedMs: number }>; overlapping: number }> = [];
try {
  for (const kind of SERVERS) {
    const zk = await startServer(kind, { nodes: NODES as 1 | 3, tickMs: TICK_MS });
    servers.set(kind, zk);
    say('election', `${NAMES[kind]} (${NODES === 1 ? 'standalone' : '3-node cluster'}, ${describeSettings(kind, { nodes: NODES as 1 | 3, tickMs: TICK_MS })}) at ${zk.connectString}`);
    for (const t of TRANSPORTS) await graceful(zk, WARM, 'warm', t);
    if (KAZOO) await kazooGraceful(zk, 1, 'warm', WARM);
    say('election', `${NAMES[kind]} warmed up (${WARM} untimed handoffs${KAZOO ? ' of each library' : ''})`);
  }
  const by = new Map(SERVERS.map((k) => [k, { gracefulMs: Object.fromEntries(TRANSPORTS.map((t) => [t, [] as number[]])) as Partial<Record<TransportName, number[]>>, kazooMs: [] as number[], floorMs: [] as number[], crashMs: [] as number[], cutOff: [] as Array<{ lostMs: number; electedMs: number }> }]));
  // The servers take turns, the order reversed each round: graceful handoffs in blocks,
  // then one crash and one cut-off trial at a time.
  let order = [...SERVERS];
  const blocks = Math.min(4, HANDOFFS);
  for (let b = 0; b < blocks; b++) {
    const n = Math.floor(HANDOFFS / blocks) + (b < HANDOFFS % blocks ? 1 : 0);
    for (const kind of order) {
      const ours = TRANSPORTS.map((t) => async () => void by.get(kind)!.gracefulMs[t]!.push(...(await graceful(servers.get(kind)!, n, `b${b}`, t))));
      const kazoo = async () => void (KAZOO && by.get(kind)!.kazooMs.push(...(await kazooGraceful(servers.get(kind)!, n, `b${b}`))));
      // Both libraries (each transport of ours) on the same server back to back; the order rotates by block.
      const floorRun = async () => void by.get(kind)!.floorMs.push(...(await floor(servers.get(kind)!, n, `b${b}`)));
      const runs = [...ours, kazoo, floorRun];
      for (let i = 0; i < runs.length; i++) await runs[(i + b) % runs.length]!();
    }
    order = order.reverse();
    say('election', `graceful handoffs: block ${b + 1}/${blocks}`);
  }
  for (let i = 0; i < CRASH_TRIALS; i++) {
    for (const kind of order) by.get(kind)!.crashMs.push(await crashOnce(servers.get(kind)!, i));
    order = order.reverse();
    say('election', `crash handoffs: ${i + 1}/${CRASH_TRIALS} (${SERVERS.map((k) => `${NAMES[k]} ${fmt(by.get(k)!.crashMs.at(-1)!)} ms`).join(', ')})`);
  }
  for (let i = 0; i < CUT_TRIALS; i++) {
    for (const kind of order) by.get(kind)!.cutOff.push(await cutOffOnce(servers.get(kind)!, i));
    order = order.reverse();
    say('election', `cut-off trials: ${i + 1}/${CUT_TRIALS}`);
  }

  for (const kind of SERVERS) {
    const r = by.get(kind)!;
    const c = summarize(r.crashMs);
    console.log(`\n${NAMES[kind]} (${NODES === 1 ? 'standalone' : '3-node cluster'}, tickTime ${TICK_MS} ms)`);
    const k = KAZOO ? summarize(r.kazooMs) : undefined;
    for (const t of TRANSPORTS) {
      const g = summarize(r.gracefulMs[t]!);
      console.log(`Graceful handoff (resign -> successor elected), transport ${t}, ${g.n} handoffs:`);
      console.log(`  p50 ${fmt(g.p50)} ms   p99 ${fmt(g.p99)} ms   min ${fmt(g.min)} ms   max ${fmt(g.max)} ms${k ? `   / kazoo: p50 ${(g.p50 / k.p50).toFixed(2)}x   p99 ${(g.p99 / k.p99).toFixed(2)}x` : ''}`);
    }
    if (k) {
      console.log(`kazoo Lock handoff (release -> waiter's acquire returns), same server, same blocks, ${k.n} handoffs:`);
      console.log(`  p50 ${fmt(k.p50)} ms   p99 ${fmt(k.p99)} ms   min ${fmt(k.min)} ms   max ${fmt(k.max)} ms`);
    }
    const f = summarize(r.floorMs);
    console.log(`Floor: one committed delete until its watcher is told (no library, zk-elect's wire client), same blocks, ${f.n} samples:`);
    console.log(`  p50 ${fmt(f.p50)} ms   p99 ${fmt(f.p99)} ms${k ? `   = ${(f.p50 / k.p50).toFixed(2)}x kazoo's p50: no handoff through ZooKeeper can be faster than that` : ''}`);
    console.log(`Crash handoff (kill -9 of the leader's zk-elect process -> successor elected), session timeout ${SESSION_TIMEOUT_MS} ms, ${c.n} trials:`);
    console.log(`  p50 ${fmt(c.p50)} ms (${(c.p50 / SESSION_TIMEOUT_MS).toFixed(2)} x timeout)   max ${fmt(c.max)} ms (${(c.max / SESSION_TIMEOUT_MS).toFixed(2)} x timeout)`);
    console.log(`Cut-off leader (blackhole), session timeout ${SESSION_TIMEOUT_MS} ms, loss deadline 0.5:`);
    for (const t of r.cutOff) console.log(`  old leader lost at +${fmt(t.lostMs)} ms, successor elected at +${fmt(t.electedMs)} ms, margin ${fmt(t.electedMs - t.lostMs)} ms`);
    const unsafe = r.cutOff.filter((t) => t.electedMs <= t.lostMs).length;
    console.log(`  overlapping leaderships: ${unsafe} of ${r.cutOff.length}`);
    const rounded = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);
    results.push({ server: kind, gracefulMs: Object.fromEntries(TRANSPORTS.map((t) => [t, rounded(r.gracefulMs[t]!)])), ...(KAZOO ? { kazooGracefulMs: rounded(r.kazooMs) } : {}), floorMs: rounded(r.floorMs), crashMs: r.crashMs, cutOff: r.cutOff.map((t) => ({ lostMs: Math.round(t.lostMs), electedMs: Math.round(t.electedMs) })), overlapping: unsafe });
  }
} finally {
  for (const zk of servers.values()) await zk.stop();
}
writeJson(values.json, { bench: 'election', config: { nodes: NODES, libs: KAZOO ? ['zk-elect', 'kazoo'] : ['zk-elect'], transports: TRANSPORTS, tickMs: TICK_MS, sessionTimeoutMs: SESSION_TIMEOUT_MS, handoffs: HANDOFFS, crashTrials: CRASH_TRIALS, cutTrials: CUT_TRIALS, warmHandoffs: WARM }, results });
