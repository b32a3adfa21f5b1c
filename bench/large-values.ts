/**
 * Large values, Apache ZooKeeper 3.8 (-Xmx3g) vs zk-elect, standalone, same machine, same run
 * (issue 9): setData and getData of values just under 1 MiB, both servers at jute.maxbuffer's
 * default (0xfffff = 1,048,575 bytes, the largest request frame either accepts).
 *
 *   npm run bench:large [-- --seconds 4 --inflight 1,16 --trials 2]
 *
 * First the largest value each server accepts in a setData is found (a binary search with
 * throwaway connections of our wire-protocol test client: a frame over the limit closes the
 * connection); the benchmark then uses the smaller of the two. Then, from one client process
 * with the official C client: setData and getData over 16 keys holding such values, at each
 * in-flight count, for `--seconds` each: ops/s, MB/s and latency p50/p99/max. Both servers
 * are warmed up first (one untimed second of each op); the order alternates between trials.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ZkEnsemble } from '../test/support/apache-zookeeper.js';
import { RawClient } from '../test/support/raw-client.js';
import { latencySummary, parseList, positiveInt, say, thousands, writeJson, type LatencySummary } from './lib/common.js';
import { Driver } from './lib/pool.js';
import { rssMb } from './lib/proc.js';
import { NAMES, describeSettings, startServer, type ServerKind } from './lib/servers.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    inflight: { type: 'string', default: '1,16' },
    trials: { type: 'string', default: '2' },
    keys: { type: 'string', default: '16' },
    servers: { type: 'string', default: 'apache,zk-elect' },
    json: { type: 'string' },
  },
});
const MS = positiveInt(values.seconds, '--seconds') * 1000;
const INFLIGHT = values.inflight!.split(',').map((x) => positiveInt(x, '--inflight'));
const TRIALS = positiveInt(values.trials, '--trials');
const KEYS = positiveInt(values.keys, '--keys');
const SERVERS = parseList(values.servers!, ['apache', 'zk-elect'] as const, '--servers');
const ROOT = '/lv';
const PROBE_PATH = `${ROOT}/probe`;
const OPS = ['setData', 'getData'] as const;

/** Does `address` accept a setData of `bytes` bytes on PROBE_PATH? */
async function accepts(address: string, bytes: number): Promise<boolean> {
  const c = await RawClient.connect(address, { timeoutMs: 30_000, requestTimeoutMs: 30_000, autoPing: false });
  try {
    const r = await c.setData(PROBE_PATH, Buffer.alloc(bytes, 'p'));
    return r.err === 0;
  } catch {
    return false;
  } finally {
    c.destroy();
  }
}

async function largestAccepted(address: string): Promise<number> {
  const c = await RawClient.connect(address, { timeoutMs: 30_000, autoPing: false });
  await c.create(ROOT, null);
  await c.create(PROBE_PATH, null);
  await c.close();
  let lo = 1024 * 1024 - 4096; // accepted by both (checked below)
  let hi = 1024 * 1024 + 1024; // refused by both
  if (!(await accepts(address, lo))) throw new Error(`${address} refuses a ${lo}-byte setData`);
  if (await accepts(address, hi)) throw new Error(`${address} accepts a ${hi}-byte setData: is jute.maxbuffer at its default?`);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await accepts(address, mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

interface Cell {
  server: ServerKind;
  op: (typeof OPS)[number];
  inflight: number;
  trial: number;
  opsPerSec: number;
  mbPerSec: number;
  errors: number;
  latency: LatencySummary;
}

async function cell(kind: ServerKind, d: Driver, op: (typeof OPS)[number], inflight: number, valueBytes: number, ms: number) {
  const r = await d.ops({ op, root: `${ROOT}/keys`, keys: KEYS, inflight, ms, maxOps: 1_000_000, valueBytes });
  if (r.errors) say('large values', `${NAMES[kind]} ${op} at ${inflight} in flight: ${r.errors} errors (first: C client rc ${r.firstError})`);
  const opsPerSec = (r.count / r.elapsedMs) * 1000;
  return { opsPerSec, mbPerSec: (opsPerSec * valueBytes) / 2 ** 20, errors: r.errors, latency: latencySummary(r.latencies) };
}

const servers = new Map<ServerKind, { zk: ZkEnsemble; driver: Driver }>();
const cells: Cell[] = [];
let valueBytes = 0;
const accepted: Record<string, number> = {};
try {
  for (const kind of SERVERS) {
    say('large values', `starting ${NAMES[kind]} (${describeSettings(kind, { nodes: 1 })})`);
    const zk = await startServer(kind, { nodes: 1 });
    const driver = await Driver.start();
    servers.set(kind, { zk, driver });
    accepted[kind] = await largestAccepted(zk.members[0]!.address);
    say('large values', `${NAMES[kind]} accepts a setData of up to ${thousands(accepted[kind])} bytes on ${PROBE_PATH}`);
  }
  // The frame holds the path too: the longest key path costs its extra characters.
  const longestKey = `${ROOT}/keys/k${KEYS - 1}`;
  valueBytes = Math.min(...Object.values(accepted)) - Math.max(0, longestKey.length - PROBE_PATH.length);
  say('large values', `using ${thousands(valueBytes)}-byte values (1 MiB - ${1024 * 1024 - valueBytes} bytes), the most both accept on ${longestKey}`);
  for (const [kind, s] of servers) {
    await s.driver.connect(s.zk.members[0]!.address);
    const k = await s.driver.keys(`${ROOT}/keys`, KEYS, valueBytes);
    if (k.created !== KEYS) throw new Error(`${NAMES[kind]}: only ${k.created} of ${KEYS} keys were set (C client rc ${k.firstError})`);
    for (const op of OPS) await cell(kind, s.driver, op, 4, valueBytes, 1000); // warm-up
  }
  let order = [...SERVERS];
  const total = TRIALS * INFLIGHT.length * OPS.length;
  let done = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    for (const inflight of INFLIGHT) {
      for (const op of OPS) {
        for (const kind of order) {
          const r = await cell(kind, servers.get(kind)!.driver, op, inflight, valueBytes, MS);
          cells.push({ server: kind, op, inflight, trial, ...r });
        }
        order = order.reverse();
        say('large values', `${++done}/${total}: ${op} at ${inflight} in flight`);
      }
    }
  }
  const rss = Object.fromEntries([...servers].map(([k, s]) => [k, Math.round(rssMb(s.zk.members[0]!.pid))]));

  // Trials merged: throughput averaged, latency summaries from the trial with the median p99.
  type Row = { op: string; inflight: number; a?: Cell[]; z?: Cell[] };
  const rows: Row[] = [];
  for (const inflight of INFLIGHT) for (const op of OPS) rows.push({ op, inflight, a: cells.filter((c) => c.server === 'apache' && c.op === op && c.inflight === inflight), z: cells.filter((c) => c.server === 'zk-elect' && c.op === op && c.inflight === inflight) });
  const avg = (cs: Cell[] | undefined, f: (c: Cell) => number) => (cs && cs.length ? cs.reduce((s, c) => s + f(c), 0) / cs.length : NaN);
  console.log(`\nLarge values: ${thousands(valueBytes)}-byte setData/getData, standalone, one client process (C client), ${KEYS} keys, ${MS / 1000} s per cell, ${TRIALS} trials (mean of trials)`);
  console.log('op       inflight | Apache ops/s  MB/s  p50 ms  p99 ms | zk-elect ops/s  MB/s  p50 ms  p99 ms | throughput  p99');
  for (const r of rows) {
    const f = (x: number, d = 1) => (Number.isNaN(x) ? '-' : x.toFixed(d));
    const ao = avg(r.a, (c) => c.opsPerSec);
    const zo = avg(r.z, (c) => c.opsPerSec);
    const ap = avg(r.a, (c) => c.latency.p99);
    const zp = avg(r.z, (c) => c.latency.p99);
    console.log(
      `${r.op.padEnd(8)} ${String(r.inflight).padStart(8)} | ${f(ao).padStart(12)} ${f(avg(r.a, (c) => c.mbPerSec), 0).padStart(5)} ${f(avg(r.a, (c) => c.latency.p50)).padStart(7)} ${f(ap).padStart(7)} |` +
        ` ${f(zo).padStart(14)} ${f(avg(r.z, (c) => c.mbPerSec), 0).padStart(5)} ${f(avg(r.z, (c) => c.latency.p50)).padStart(7)} ${f(zp).padStart(7)} | ${f(zo / ao, 2).padStart(9)}x ${f(zp / ap, 2).padStart(5)}x`,
    );
  }
  console.log(`resident memory after the run: ${Object.entries(rss).map(([k, v]) => `${NAMES[k as ServerKind]} ${v} MB`).join(', ')}`);
  writeJson(values.json, { bench: 'large-values', config: { seconds: MS / 1000, inflight: INFLIGHT, trials: TRIALS, keys: KEYS }, accepted, valueBytes, cells, rssMb: rss, startedAt: performance.timeOrigin });
} finally {
  for (const s of servers.values()) {
    await s.driver.close();
    await s.zk.stop();
  }
}
