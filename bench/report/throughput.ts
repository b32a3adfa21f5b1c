/** Report section: throughput and latency at 1, 16 and 128 requests in flight (bench/server.ts). */
import { groupedBars } from './charts.js';
import { mean, num, ratio, table } from './markdown.js';
import { SERVER_NAMES, type Headline, type Section, type ThroughputData } from './types.js';

export function throughputSection(d: ThroughputData): Section {
  const c = d.config;
  const ops = [...new Set(d.cells.map((x) => x.op))];
  const pick = (server: string, op: string, inflight: number) => d.cells.filter((x) => x.server === server && x.op === op && x.inflight === inflight);
  const rows: string[][] = [];
  const bars: Array<{ server: string; group: string; x: string; value: number }> = [];
  const p99s: typeof bars = [];
  const headline: Headline[] = [];
  for (const inflight of c.inflight) {
    for (const op of ops) {
      const a = pick('apache', op, inflight);
      const z = pick('zk-elect', op, inflight);
      const fig = (cs: typeof a) => ({ ops: mean(cs.map((x) => x.opsPerSec)), p50: mean(cs.map((x) => x.latency.p50)), p99: mean(cs.map((x) => x.latency.p99)), errors: cs.reduce((s, x) => s + x.errors, 0), procs: cs[0]?.procs });
      const fa = fig(a);
      const fz = fig(z);
      rows.push([op, String(inflight), String(fz.procs ?? fa.procs ?? '-'), num(fa.ops), num(fa.p50), num(fa.p99), num(fz.ops), num(fz.p50), num(fz.p99), ratio(fz.ops, fa.ops), ratio(fz.p99, fa.p99), String(fa.errors + fz.errors)]);
      for (const [server, f] of [['apache', fa], ['zk-elect', fz]] as const) {
        if (!Number.isFinite(f.ops)) continue;
        bars.push({ server: SERVER_NAMES[server], group: op, x: String(inflight), value: Math.round(f.ops) });
        p99s.push({ server: SERVER_NAMES[server], group: op, x: String(inflight), value: Math.round(f.p99 * 1000) / 1000 });
      }
      if (inflight === Math.max(...c.inflight)) {
        headline.push({ measure: `${op} throughput, ${inflight} in flight over ${fz.procs ?? fa.procs} client processes (ops/s)`, zk: num(fz.ops), apache: num(fa.ops), ratio: ratio(fz.ops, fa.ops), goal: '' });
      }
    }
  }
  const md = [
    `${c.valueBytes}-byte create, setData and getData on a ${c.nodes === 1 ? 'standalone server' : '3-node cluster'}, fsync on for both, ZooKeeper's default tickTime and snapCount. ` +
      `The requests in flight are the total over up to ${c.procs} client processes (the official C client through the npm \`zookeeper\` binding), one session each. ` +
      `${c.seconds} s per cell, mean of ${c.trials} trial${c.trials === 1 ? '' : 's'}; both servers warmed up first, the order alternating from cell to cell. Latency in ms over every request of every process.`,
    '',
    table(
      ['op', 'in flight', 'procs', 'Apache ops/s', 'p50', 'p99', 'zk-elect ops/s', 'p50', 'p99', 'ops/s ratio', 'p99 ratio', 'errors'],
      rows,
    ),
    '',
    `Resident memory after the run: ${Object.entries(d.rssMb).map(([k, v]) => `${SERVER_NAMES[k as keyof typeof SERVER_NAMES] ?? k} ${num(v)} MB`).join(', ')}.`,
  ].join('\n');
  return {
    markdown: md,
    charts: [
      { file: 'throughput.svg', title: 'Throughput', spec: groupedBars(`Throughput (ops/s), ${c.nodes === 1 ? 'standalone' : '3-node'}, ${c.valueBytes}-byte values`, bars, 'ops/s') },
      { file: 'latency-p99.svg', title: 'p99 latency', spec: groupedBars('p99 latency (ms, log scale)', p99s, 'p99 (ms)', true) },
    ],
    headline,
  };
}
