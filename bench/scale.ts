/**
 * Scale, Apache ZooKeeper 3.8 (-Xmx3g) vs zk-elect, same machine, same run (issue 9).
 *
 *   npm run bench:scale [-- --znodes 1000000 --window 110000 --parts standalone,cluster]
 *   npm run bench:scale -- --znodes 150000          # the smaller preset
 *
 * Workload: N znodes with 100-byte values, 200 children per parent (each parent is created,
 * with a 100-byte value too, right before its children, so N counts every znode), created by
 * ONE client session with 256 creates in flight (the official C client, in a client process
 * of its own). The last `--window` creates (110,000) run while a second session, in another
 * client process, reads one 100-byte znode with getData in a loop (`--read-gap-ms` between
 * reads, 1 by default): every read's start time and latency are kept, for the maximum and the
 * latency-over-time chart, with the servers' snapshots and log rolls (from their logs) marked.
 *
 * Standalone, per server:
 *   fill (resident memory sampled as znodes grow) -> the read window -> RSS after the fill and
 *   after `--settle` idle seconds -> kill -9 and restart: time from the restart's spawn until a
 *   fresh session reads the last znode created. Where figures depend on snapCount (reads
 *   across snapshots, restart), the same server is then restarted at `--second-snap-count`
 *   (default 10000) for another window of creates, then killed and restarted again.
 * 3-node cluster, per server:
 *   one follower (F) is killed -9 before the fill; the client writes to the leader and the
 *   reader reads from the other follower; F is restarted when the read window starts, so it
 *   catches up (SNAP) while the writes go on (time until F serves the last znode acknowledged
 *   before its restart); after the window F is killed again, its data directory emptied (a
 *   replaced disk: it has missed every znode) and it is restarted on the idle cluster: time
 *   until F serves the last znode (the SNAP catch-up figure). `--idle-catch-ups N` repeats that
 *   last step N times on the same cluster (default 1; the figure is the first, the rest are kept
 *   in `catchUpIdleRepeats`).
 *
 * Both servers run at ZooKeeper's defaults: tickTime 2000, snapCount 100000, initLimit 10,
 * syncLimit 5, fsync on (bench/lib/servers.ts). The order of the servers alternates between
 * parts. Figures are printed, never asserted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ZkEnsemble, ZkMember } from '../test/support/apache-zookeeper.js';
import { firstRead, latencySummary, leaderOf, parseList, positiveInt, say, sleep, thousands, writeJson, type LatencySummary } from './lib/common.js';
import { fillPath, type ReadSamples } from './lib/workload.js';
import { Driver } from './lib/pool.js';
import { peakRssMb, rssMb } from './lib/proc.js';
import { logEvents, type LogEvent } from './lib/server-logs.js';
import { NAMES, describeSettings, startServer, type ServerKind } from './lib/servers.js';

const { values } = parseArgs({
  options: {
    znodes: { type: 'string', default: '1000000' },
    window: { type: 'string', default: '110000' },
    'per-parent': { type: 'string', default: '200' },
    'value-bytes': { type: 'string', default: '100' },
    inflight: { type: 'string', default: '256' },
    servers: { type: 'string', default: 'apache,zk-elect' },
    parts: { type: 'string', default: 'standalone,cluster' },
    'snap-count': { type: 'string', default: '100000' },
    'second-snap-count': { type: 'string', default: '10000' },
    settle: { type: 'string', default: '10' },
    'read-gap-ms': { type: 'string', default: '1' },
    'bucket-ms': { type: 'string', default: '50' },
    'idle-catch-ups': { type: 'string', default: '1' },
    heap: { type: 'string', default: '3g' },
    json: { type: 'string' },
  },
});

const N = positiveInt(values.znodes, '--znodes', 10);
const WINDOW = Math.min(positiveInt(values.window, '--window'), Math.floor(N / 2));
const PER_PARENT = positiveInt(values['per-parent'], '--per-parent');
const VALUE_BYTES = positiveInt(values['value-bytes'], '--value-bytes', 0);
const INFLIGHT = positiveInt(values.inflight, '--inflight');
const SERVERS = parseList(values.servers!, ['apache', 'zk-elect'] as const, '--servers');
const PARTS = parseList(values.parts!, ['standalone', 'cluster'] as const, '--parts');
const SNAP = positiveInt(values['snap-count'], '--snap-count', 2);
const SNAP2 = values['second-snap-count'] === '0' || values['second-snap-count'] === '' ? 0 : positiveInt(values['second-snap-count'], '--second-snap-count', 2);
const SETTLE_S = positiveInt(values.settle, '--settle', 0);
const READ_GAP = positiveInt(values['read-gap-ms'], '--read-gap-ms', 0);
const BUCKET_MS = positiveInt(values['bucket-ms'], '--bucket-ms');
const IDLE_CATCH_UPS = positiveInt(values['idle-catch-ups'], '--idle-catch-ups');
const PREFIX = '/scale';
const READ_PATH = fillPath(PREFIX, 1, PER_PARENT); // the first child, created at the very start
const LIMIT_MS = 600_000;

interface RssPoint {
  s: number;
  znodes: number;
  mb: number;
}
interface Window {
  snapCount: number;
  creates: number;
  seconds: number;
  createsPerSec: number;
  reads: LatencySummary;
  readErrors: number;
  /** Slowest read per bucket, by start time (s since the window started). */
  overTime: Array<{ t: number; ms: number }>;
  /** Log events during the window (s since it started). */
  events: Array<{ t: number; member: number; what: string }>;
}
export interface ScaleRun {
  server: ServerKind;
  topology: 'standalone' | '3-node cluster';
  settings: string;
  znodes: number;
  fill: { seconds: number; createsPerSec: number; errors: number };
  rssSeries: RssPoint[];
  /** Standalone: the server; cluster: the leader. */
  rssAfterFillMb: number;
  rssSettledMb: number;
  peakRssMb: number;
  /** Cluster: every member after the run, by id. */
  rssMembersMb?: Record<string, number>;
  windows: Window[];
  restarts: Array<{ snapCount: number; firstReadMs: number; rssAfterMb: number; snapshotLoadMs?: number; replayMs?: number; replayedTxns?: number; error?: string }>;
  catchUpUnderLoadMs?: number;
  catchUpIdleMs?: number;
  /** Log events from the idle catch-up's restart (s since the spawn). */
  catchUpIdleEvents?: Array<{ t: number; member: number; what: string }>;
  /** With --idle-catch-ups N > 1: the 2nd to Nth idle catch-up of the same follower. */
  /** The 1-minute load average when the idle catch-up ended (the machine is shared). */
  catchUpIdleLoad1?: number;
  catchUpIdleRepeats?: Array<{ ms: number; events: Array<{ t: number; member: number; what: string }>; load1: number }>;
  catchUpErrors?: string[];
}

function memberDir(m: ZkMember): string {
  return m.dir ?? (m as unknown as { dir: string }).dir;
}

/** The member's data directory: emptied to play a follower with a replaced disk. */
function dataDirOf(kind: ServerKind, m: ZkMember): string {
  return kind === 'apache' ? path.join(memberDir(m), 'data') : path.join(path.dirname(memberDir(m)), `node-${m.id}`);
}

function wipeDataDir(kind: ServerKind, m: ZkMember): void {
  const dir = dataDirOf(kind, m);
  for (const name of fs.readdirSync(dir)) {
    if (kind === 'apache' && name === 'myid') continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Changes snapCount for the member's next start (zoo.cfg for Apache, the command line for ours). */
function setSnapCount(kind: ServerKind, m: ZkMember, snapCount: number): void {
  if (kind === 'apache') {
    const cfg = path.join(memberDir(m), 'zoo.cfg');
    const text = fs.readFileSync(cfg, 'utf8').replace(/^snapCount=.*$/m, `snapCount=${snapCount}`);
    fs.writeFileSync(cfg, text);
    return;
  }
  // LocalMember keeps its command line in a private array; the benchmark edits it in place.
  const args = (m as unknown as { args: string[] }).args;
  const i = Array.isArray(args) ? args.indexOf('--snap-count') : -1;
  if (i < 0) throw new Error('cannot find --snap-count in the member command line');
  args[i + 1] = String(snapCount);
}

/** Fills [from, to), sampling the resident memory of `pids()` every second. */
async function fill(label: string, d: Driver, from: number, to: number, pid: () => number | undefined, series: RssPoint[], t0: number) {
  let lastSay = 0;
  const sample = () => {
    const mb = rssMb(pid());
    series.push({ s: (performance.now() - t0) / 1000, znodes: d.progress || from, mb });
    if (performance.now() - lastSay > 10_000) {
      lastSay = performance.now();
      say(label, `${thousands(d.progress || from)} / ${thousands(N)} znodes, RSS ${mb.toFixed(0)} MB`);
    }
  };
  d.progress = from;
  sample();
  const timer = setInterval(sample, 1000);
  try {
    const r = await d.fill({ prefix: PREFIX, from, to, perParent: PER_PARENT, valueBytes: VALUE_BYTES, inflight: INFLIGHT });
    d.progress = to;
    sample();
    return r;
  } finally {
    clearInterval(timer);
  }
}

function overTime(samples: ReadSamples, startWall: number): Array<{ t: number; ms: number }> {
  const buckets = new Map<number, number>();
  for (let i = 0; i < samples.at.length; i++) {
    const b = Math.floor((samples.at[i]! - startWall) / BUCKET_MS);
    buckets.set(b, Math.max(buckets.get(b) ?? 0, samples.ms[i]!));
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, ms]) => ({ t: (b * BUCKET_MS) / 1000, ms: Math.round(ms * 100) / 100 }));
}

/** Runs `creates` more creates from `from` while `reader` reads; returns the window's figures. */
async function readWindow(
  label: string,
  kind: ServerKind,
  zk: ZkEnsemble,
  writer: Driver,
  reader: Driver,
  readAddress: string,
  from: number,
  creates: number,
  snapCount: number,
  series: RssPoint[],
  pid: () => number | undefined,
  t0: number,
  /** Started with the window; its log events are kept until it resolves. */
  during?: () => Promise<unknown>,
): Promise<Window> {
  await reader.readStart(readAddress, READ_PATH, READ_GAP);
  const startWall = Date.now();
  const s = performance.now();
  const side = during?.();
  const r = await fill(label, writer, from, from + creates, pid, series, t0);
  const seconds = (performance.now() - s) / 1000;
  const samples = await reader.readStop();
  await side;
  const endWall = Date.now();
  const events: LogEvent[] = zk.members.flatMap((m) => logEvents(kind, memberDir(m), m.id, startWall - 200, endWall + 200));
  const reads = latencySummary(samples.ms);
  say(label, `window of ${thousands(creates)} creates in ${seconds.toFixed(1)} s: ${thousands(reads.n)} reads, max ${reads.max.toFixed(0)} ms, p99 ${reads.p99.toFixed(2)} ms, ${samples.errors.length} read errors`);
  return {
    snapCount,
    creates: r.created,
    seconds,
    createsPerSec: r.created / seconds,
    reads,
    readErrors: samples.errors.length,
    overTime: overTime(samples, startWall),
    events: events.sort((a, b) => a.at - b.at).map((e) => ({ t: (e.at - startWall) / 1000, member: e.member, what: e.what })),
  };
}

async function restartAndRead(label: string, m: ZkMember, lastPath: string, snapCount: number) {
  await m.kill('SIGKILL');
  const t0 = performance.now();
  const started = m.start();
  const r = await firstRead(m.address, lastPath, t0, LIMIT_MS);
  await started;
  const rssAfterMb = rssMb(m.pid);
  const parts = restartParts(m);
  const partsText = [parts.snapshotLoadMs !== undefined ? `snapshot loaded in ${parts.snapshotLoadMs} ms` : '', parts.replayMs !== undefined ? `log replay ${parts.replayMs} ms (${parts.replayedTxns} txns)` : ''].filter(Boolean).join(', ');
  say(label, `kill -9 and restart -> first read of the last znode: ${r.ms.toFixed(0)} ms (${r.attempts} attempts), RSS ${rssAfterMb.toFixed(0)} MB${partsText ? `; the server logged: ${partsText}` : ''}`);
  return { snapCount, firstReadMs: Math.round(r.ms), rssAfterMb, ...parts, ...(Number.isNaN(r.ms) ? { error: r.lastError } : {}) };
}

/**
 * What the restarted server itself logged about its recovery (the last such lines of its log):
 * ours "snapshot loaded {..."ms":N}" and "recovered {..."txns":T,..."replayMs":N}", Apache's
 * "Snapshot loaded in N ms". Absent when the log has no such line.
 */
function restartParts(m: ZkMember): { snapshotLoadMs?: number; replayMs?: number; replayedTxns?: number } {
  if (!m.dir) return {};
  let text = '';
  for (const name of ['console.log', 'zookeeper.log']) {
    try {
      text += fs.readFileSync(path.join(m.dir, name), 'utf8').slice(-200_000);
    } catch {
      // not this server's log
    }
  }
  const last = (re: RegExp): RegExpExecArray | undefined => [...text.matchAll(new RegExp(re, 'g'))].at(-1) as RegExpExecArray | undefined;
  const load = last(/snapshot loaded \{.*?"ms":(\d+)/) ?? last(/Snapshot loaded in (\d+) ms/);
  // Ours logs "recovered" only when it replayed something: look after this start's load line.
  if (load) text = text.slice(load.index);
  const replay = last(/ info: recovered \{.*?"txns":(\d+).*?"replayMs":(\d+)/);
  return {
    ...(load ? { snapshotLoadMs: Number(load[1]) } : {}),
    ...(replay ? { replayedTxns: Number(replay[1]), replayMs: Number(replay[2]) } : {}),
  };
}

async function standalone(kind: ServerKind): Promise<ScaleRun> {
  const label = `${NAMES[kind]} standalone`;
  say(label, `starting (${describeSettings(kind, { nodes: 1, snapCount: SNAP, heap: values.heap! })})`);
  const zk = await startServer(kind, { nodes: 1, snapCount: SNAP, heap: values.heap! });
  const writer = await Driver.start();
  const reader = await Driver.start();
  try {
    const m = zk.members[0]!;
    const pid = () => m.pid;
    await writer.connect(m.address);
    const series: RssPoint[] = [];
    const t0 = performance.now();
    const f1 = await fill(label, writer, 0, N - WINDOW, pid, series, t0);
    const w1 = await readWindow(label, kind, zk, writer, reader, m.address, N - WINDOW, WINDOW, SNAP, series, pid, t0);
    const fillSeconds = (performance.now() - t0) / 1000;
    const rssAfterFillMb = rssMb(m.pid);
    say(label, `RSS after the fill ${rssAfterFillMb.toFixed(0)} MB; settling ${SETTLE_S} s`);
    await sleep(SETTLE_S * 1000);
    const rssSettledMb = rssMb(m.pid);
    const peak = peakRssMb(m.pid);
    await writer.close();
    const lastPath = fillPath(PREFIX, N - 1, PER_PARENT);
    const restarts = [await restartAndRead(label, m, lastPath, SNAP)];
    const windows = [w1];
    if (SNAP2) {
      await m.kill('SIGKILL');
      setSnapCount(kind, m, SNAP2);
      await m.start();
      say(label, `restarted at snapCount ${SNAP2} for another window`);
      const w2Writer = await Driver.start();
      try {
        await w2Writer.connect(m.address);
        windows.push(await readWindow(`${label} (snapCount ${SNAP2})`, kind, zk, w2Writer, reader, m.address, N, WINDOW, SNAP2, [], pid, t0));
      } finally {
        await w2Writer.close();
      }
      restarts.push(await restartAndRead(`${label} (snapCount ${SNAP2})`, m, fillPath(PREFIX, N + WINDOW - 1, PER_PARENT), SNAP2));
    }
    return {
      server: kind,
      topology: 'standalone',
      settings: describeSettings(kind, { nodes: 1, snapCount: SNAP, heap: values.heap! }),
      znodes: N,
      fill: { seconds: fillSeconds, createsPerSec: N / fillSeconds, errors: f1.errors },
      rssSeries: series,
      rssAfterFillMb,
      rssSettledMb,
      peakRssMb: peak,
      windows,
      restarts,
    };
  } finally {
    await writer.close();
    await reader.close();
    await zk.stop();
  }
}

async function cluster(kind: ServerKind): Promise<ScaleRun> {
  const label = `${NAMES[kind]} 3-node`;
  say(label, `starting (${describeSettings(kind, { nodes: 3, snapCount: SNAP, heap: values.heap! })})`);
  const zk = await startServer(kind, { nodes: 3, snapCount: SNAP, heap: values.heap! });
  const writer = await Driver.start();
  const reader = await Driver.start();
  try {
    const leader = await leaderOf(zk);
    const [r, f] = zk.members.filter((m) => m !== leader) as [ZkMember, ZkMember];
    say(label, `leader ${leader.id}; reads from follower ${r.id}; follower ${f.id} killed -9 before the fill`);
    await f.kill('SIGKILL');
    await writer.connect(leader.address);
    const pid = () => leader.pid;
    const series: RssPoint[] = [];
    const t0 = performance.now();
    const f1 = await fill(label, writer, 0, N - WINDOW, pid, series, t0);
    const marker = fillPath(PREFIX, N - WINDOW - 1, PER_PARENT);
    let catchUp: Promise<{ ms: number; lastError: string }> | undefined;
    const w1 = await readWindow(label, kind, zk, writer, reader, r.address, N - WINDOW, WINDOW, SNAP, series, pid, t0, () => {
      const s = performance.now();
      const fStarted = f.start();
      catchUp = firstRead(f.address, marker, s, LIMIT_MS);
      return Promise.all([catchUp, fStarted]);
    });
    const underLoad = await catchUp!;
    say(label, `follower ${f.id} restarted when the window began: served the last znode acknowledged before its restart after ${underLoad.ms.toFixed(0)} ms`);
    const fillSeconds = (performance.now() - t0) / 1000;
    const rssAfterFillMb = rssMb(leader.pid);
    await sleep(SETTLE_S * 1000);
    const rssSettledMb = rssMb(leader.pid);
    const rssMembersMb = Object.fromEntries(zk.members.map((m) => [String(m.id), Math.round(rssMb(m.pid))]));
    const peak = peakRssMb(leader.pid);
    await writer.close();
    // Idle catch-up: F's disk replaced (emptied), so it has missed every znode.
    const lastPath = fillPath(PREFIX, N - 1, PER_PARENT);
    const idleRuns: Array<{ ms: number; lastError: string; events: Array<{ t: number; member: number; what: string }>; load1: number }> = [];
    for (let i = 0; i < IDLE_CATCH_UPS; i++) {
      await f.kill('SIGKILL');
      wipeDataDir(kind, f);
      const s = performance.now();
      const idleWall = Date.now();
      const fStart = f.start();
      const idle = await firstRead(f.address, lastPath, s, LIMIT_MS);
      await fStart;
      const events = zk.members
        .flatMap((m) => logEvents(kind, memberDir(m), m.id, idleWall, Date.now()))
        .sort((a, b) => a.at - b.at)
        .map((e) => ({ t: (e.at - idleWall) / 1000, member: e.member, what: e.what }));
      const load1 = os.loadavg()[0]!;
      say(label, `follower ${f.id} with an empty data dir restarted on the idle cluster: served the last of ${thousands(N)} znodes after ${idle.ms.toFixed(0)} ms (load average ${load1.toFixed(2)})`);
      for (const e of events) say(label, `  +${e.t.toFixed(3)} s member ${e.member}: ${e.what}`);
      idleRuns.push({ ...idle, events, load1 });
    }
    const idle = idleRuns[0]!;
    const catchUpEvents = idle.events;
    const errors = [underLoad, ...idleRuns].filter((x) => Number.isNaN(x.ms)).map((x) => x.lastError);
    return {
      server: kind,
      topology: '3-node cluster',
      settings: describeSettings(kind, { nodes: 3, snapCount: SNAP, heap: values.heap! }),
      znodes: N,
      fill: { seconds: fillSeconds, createsPerSec: N / fillSeconds, errors: f1.errors },
      rssSeries: series,
      rssAfterFillMb,
      rssSettledMb,
      peakRssMb: peak,
      rssMembersMb,
      windows: [w1],
      restarts: [],
      catchUpUnderLoadMs: Math.round(underLoad.ms),
      catchUpIdleMs: Math.round(idle.ms),
      catchUpIdleEvents: catchUpEvents,
      catchUpIdleLoad1: idle.load1,
      ...(idleRuns.length > 1 ? { catchUpIdleRepeats: idleRuns.slice(1).map((x) => ({ ms: Math.round(x.ms), events: x.events, load1: x.load1 })) } : {}),
      ...(errors.length ? { catchUpErrors: errors } : {}),
    };
  } finally {
    await writer.close();
    await reader.close();
    await zk.stop();
  }
}

function print(runs: ScaleRun[]): void {
  const f = (x: number | undefined, d = 0) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
  console.log(`\nScale: ${thousands(N)} znodes (${VALUE_BYTES}-byte values, ${PER_PARENT} per parent), one session with ${INFLIGHT} creates in flight; reads from a second session during the last ${thousands(WINDOW)} creates`);
  for (const topology of ['standalone', '3-node cluster'] as const) {
    const rs = runs.filter((r) => r.topology === topology);
    if (rs.length === 0) continue;
    console.log(`\n${topology}${topology === 'standalone' ? '' : ' (client on the leader, reader on a follower, RSS of the leader)'}:`);
    console.log('server            fill creates/s  RSS after fill  settled  peak | window snapCount  creates/s  reads   p50 ms  p99 ms  max ms | restart->read ms | catch-up ms (under load / idle)');
    for (const r of rs) {
      r.windows.forEach((w, i) => {
        const restart = r.restarts.find((x) => x.snapCount === w.snapCount);
        console.log(
          `${(i === 0 ? NAMES[r.server] : '').padEnd(17)} ${(i === 0 ? f(r.fill.createsPerSec) : '').padStart(15)} ${(i === 0 ? f(r.rssAfterFillMb) : '').padStart(15)} ${(i === 0 ? f(r.rssSettledMb) : '').padStart(8)} ${(i === 0 ? f(r.peakRssMb) : '').padStart(5)} |` +
            ` ${String(w.snapCount).padStart(16)} ${f(w.createsPerSec).padStart(10)} ${String(w.reads.n).padStart(6)} ${f(w.reads.p50, 2).padStart(8)} ${f(w.reads.p99, 2).padStart(7)} ${f(w.reads.max).padStart(7)} |` +
            ` ${f(restart?.firstReadMs).padStart(16)} | ${i === 0 && r.catchUpIdleMs !== undefined ? `${f(r.catchUpUnderLoadMs)} / ${f(r.catchUpIdleMs)}` : ''}`,
        );
      });
    }
    const a = rs.find((r) => r.server === 'apache');
    const z = rs.find((r) => r.server === 'zk-elect');
    if (a && z) {
      const ratio = (x: number | undefined, y: number | undefined) => (x && y ? (x / y).toFixed(2) : '-');
      console.log(
        `ratio zk-elect / Apache: RSS after fill ${ratio(z.rssAfterFillMb, a.rssAfterFillMb)}, longest read ${ratio(z.windows[0]?.reads.max, a.windows[0]?.reads.max)}` +
          (topology === 'standalone' ? `, restart ${ratio(z.restarts[0]?.firstReadMs, a.restarts[0]?.firstReadMs)}` : `, catch-up idle ${ratio(z.catchUpIdleMs, a.catchUpIdleMs)}`),
      );
    }
  }
}

const runs: ScaleRun[] = [];
let order = [...SERVERS];
for (const part of PARTS) {
  for (const kind of order) runs.push(part === 'standalone' ? await standalone(kind) : await cluster(kind));
  order = order.reverse();
}
print(runs);
writeJson(values.json, {
  bench: 'scale',
  config: { znodes: N, window: WINDOW, perParent: PER_PARENT, valueBytes: VALUE_BYTES, inflight: INFLIGHT, snapCount: SNAP, secondSnapCount: SNAP2, settleSeconds: SETTLE_S, readGapMs: READ_GAP, bucketMs: BUCKET_MS, apacheHeap: values.heap, idleCatchUps: IDLE_CATCH_UPS },
  runs,
});
