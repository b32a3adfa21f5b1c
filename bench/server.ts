/**
 * zk-elect server vs Apache ZooKeeper 3.8, same machine, same run, same client (the official
 * C client through the npm `zookeeper` binding), fsync on for both, ZooKeeper's default
 * tickTime (2000 ms) and snapCount.
 *
 *   npm run bench:server [-- --seconds 3 --procs 4 --trials 2 --nodes 1|3]
 *
 * 100-byte create, setData and getData at 1, 16 and 128 requests in flight IN TOTAL, spread
 * over up to `--procs` client processes, one session each (1 in flight: one process; 16 over
 * 4 processes: 4 each; 128: 32 each). On a 3-node cluster each session goes to a member its
 * client picks from the connect string. Each cell runs for `--seconds`; throughput is the
 * sum of the processes' completed requests over the longest process's time, latency p50/p99
 * over every request of every process. Both servers are warmed up first (one untimed second
 * of each op at 16 in flight) and the order of the two alternates from cell to cell and trial
 * to trial. `--procs 1` is the earlier one-connection method.
 */
import { parseArgs } from 'node:util';
import type { ZkEnsemble } from '../test/support/apache-zookeeper.js';
import { latencySummary, parseList, positiveInt, say, writeJson, type LatencySummary } from './lib/common.js';
import { Driver } from './lib/pool.js';
import { rssMb } from './lib/proc.js';
import { NAMES, describeSettings, startServer, type ServerKind } from './lib/servers.js';
import { fmt } from './stats.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    procs: { type: 'string', default: '4' },
    inflight: { type: 'string', default: '1,16,128' },
    ops: { type: 'string', default: 'create,setData,getData' },
    trials: { type: 'string', default: '2' },
    nodes: { type: 'string', default: '1' },
    servers: { type: 'string', default: 'apache,zk-elect' },
    json: { type: 'string' },
  },
});
const NODES = values.nodes === '3' ? 3 : 1;
const MS = Number(values.seconds) * 1000;
const PROCS = positiveInt(values.procs, '--procs');
const INFLIGHT = values.inflight!.split(',').map((x) => positiveInt(x, '--inflight'));
const OPS = parseList(values.ops!, ['create', 'setData', 'getData'] as const, '--ops');
const TRIALS = positiveInt(values.trials, '--trials');
const SERVERS = parseList(values.servers!, ['apache', 'zk-elect'] as const, '--servers');
const KEYS = 1000;
const VALUE_BYTES = 100;
if (!(MS >= 100)) throw new Error('--seconds must be at least 0.1');

interface Cell {
  server: ServerKind;
  op: (typeof OPS)[number];
  inflight: number;
  procs: number;
  trial: number;
  opsPerSec: number;
  errors: number;
  latency: LatencySummary;
}

/** `total` requests in flight over up to PROCS processes, as evenly as possible. */
function split(total: number): number[] {
  const n = Math.min(PROCS, total);
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

async function cell(kind: ServerKind, drivers: Driver[], op: (typeof OPS)[number], inflight: number, ms: number, tag: string): Promise<Omit<Cell, 'trial'>> {
  const shares = split(inflight);
  const results = await Promise.all(
    shares.map((share, p) => drivers[p]!.ops({ op, root: op === 'create' ? `/tp/c-${tag}-${p}` : `/tp/d${p}`, keys: KEYS, inflight: share, ms, maxOps: 10_000_000, valueBytes: VALUE_BYTES })),
  );
  const count = results.reduce((s, r) => s + r.count, 0);
  const elapsed = Math.max(...results.map((r) => r.elapsedMs));
  const latencies = results.flatMap((r) => r.latencies);
  const errors = results.reduce((s, r) => s + r.errors, 0);
  if (errors) say('throughput', `${NAMES[kind]} ${op} at ${inflight} in flight: ${errors} errors (first: C client rc ${results.find((r) => r.errors)?.firstError})`);
  return { server: kind, op, inflight, procs: shares.length, opsPerSec: (count / elapsed) * 1000, errors, latency: latencySummary(latencies) };
}

const servers = new Map<ServerKind, { zk: ZkEnsemble; drivers: Driver[] }>();
const cells: Cell[] = [];
try {
  for (const kind of SERVERS) {
    say('throughput', `starting ${NAMES[kind]} (${NODES === 1 ? 'standalone' : '3-node cluster'}, ${describeSettings(kind, { nodes: NODES })}) and ${PROCS} client processes`);
    const zk = await startServer(kind, { nodes: NODES });
    const drivers: Driver[] = [];
    servers.set(kind, { zk, drivers });
    for (let p = 0; p < PROCS; p++) drivers.push(await Driver.start());
    await Promise.all(drivers.map((d) => d.connect(zk.connectString)));
    await drivers[0]!.keys('/tp', 0, 0);
    await Promise.all(drivers.map((d, p) => d.keys(`/tp/d${p}`, KEYS, VALUE_BYTES)));
    for (const op of OPS) await cell(kind, drivers, op, 16, 1000, 'warm');
    say('throughput', `${NAMES[kind]} warmed up`);
  }
  let order = [...SERVERS];
  const total = TRIALS * INFLIGHT.length * OPS.length;
  let done = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    for (const inflight of INFLIGHT) {
      for (const op of OPS) {
        for (const kind of order) cells.push({ ...(await cell(kind, servers.get(kind)!.drivers, op, inflight, MS, `${inflight}-${trial}`)), trial });
        order = order.reverse();
        const last = cells.slice(-order.length);
        say('throughput', `${++done}/${total} (trial ${trial + 1}): ${op} at ${inflight} in flight: ${last.map((c) => `${NAMES[c.server]} ${c.opsPerSec.toFixed(0)}/s`).join(', ')}`);
      }
    }
  }
  const rss = Object.fromEntries([...servers].map(([k, s]) => [k, Math.round(rssMb(s.zk.members[0]?.pid))]));

  const mean = (cs: Cell[], f: (c: Cell) => number) => (cs.length ? cs.reduce((s, c) => s + f(c), 0) / cs.length : NaN);
  console.log(
    `\n${NODES === 1 ? 'standalone' : '3-node clusters'}: 100-byte requests, in flight in total over up to ${PROCS} client processes (one session each), fsync on for both; ${MS / 1000} s per cell, mean of ${TRIALS} trials (ops/s, latency ms)`,
  );
  console.log('op        inflight procs |  Apache ops/s   p50    p99 |  zk-elect ops/s   p50    p99 | throughput ratio  p99 ratio');
  for (const inflight of INFLIGHT) {
    for (const op of OPS) {
      const a = cells.filter((c) => c.server === 'apache' && c.op === op && c.inflight === inflight);
      const z = cells.filter((c) => c.server === 'zk-elect' && c.op === op && c.inflight === inflight);
      const [ao, ap50, ap99] = [mean(a, (c) => c.opsPerSec), mean(a, (c) => c.latency.p50), mean(a, (c) => c.latency.p99)];
      const [zo, zp50, zp99] = [mean(z, (c) => c.opsPerSec), mean(z, (c) => c.latency.p50), mean(z, (c) => c.latency.p99)];
      console.log(
        `${op.padEnd(9)} ${String(inflight).padStart(8)} ${String(split(inflight).length).padStart(5)} | ${fmt(ao).padStart(13)} ${fmt(ap50).padStart(5)} ${fmt(ap99).padStart(6)} |` +
          ` ${fmt(zo).padStart(15)} ${fmt(zp50).padStart(5)} ${fmt(zp99).padStart(6)} | ${(zo / ao).toFixed(2).padStart(16)} ${(zp99 / ap99).toFixed(2).padStart(10)}`,
      );
    }
  }
  console.log(`\nresident memory after the run (first member): ${Object.entries(rss).map(([k, v]) => `${NAMES[k as ServerKind]} ${v} MB`).join(', ')}`);
  writeJson(values.json, { bench: 'throughput', config: { nodes: NODES, seconds: MS / 1000, procs: PROCS, inflight: INFLIGHT, trials: TRIALS, valueBytes: VALUE_BYTES }, cells, rssMb: rss });
} finally {
  for (const s of servers.values()) {
    await Promise.all(s.drivers.map((d) => d.close()));
    await s.zk.stop();
  }
}
