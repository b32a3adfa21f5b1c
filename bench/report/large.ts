/** Report section: setData/getData of values just under 1 MiB (bench/large-values.ts). */
import { groupedBars } from './charts.js';
import { mean, num, ratio, table, thousands } from './markdown.js';
import { SERVER_NAMES, type Headline, type LargeData, type Section } from './types.js';

export function largeSection(d: LargeData): Section {
  const c = d.config;
  const ops = [...new Set(d.cells.map((x) => x.op))];
  const rows: string[][] = [];
  const bars: Array<{ server: string; group: string; x: string; value: number }> = [];
  const headline: Headline[] = [];
  for (const inflight of c.inflight) {
    for (const op of ops) {
      const fig = (server: string) => {
        const cs = d.cells.filter((x) => x.server === server && x.op === op && x.inflight === inflight);
        return { ops: mean(cs.map((x) => x.opsPerSec)), mb: mean(cs.map((x) => x.mbPerSec)), p50: mean(cs.map((x) => x.latency.p50)), p99: mean(cs.map((x) => x.latency.p99)), errors: cs.reduce((s, x) => s + x.errors, 0) };
      };
      const a = fig('apache');
      const z = fig('zk-elect');
      rows.push([op, String(inflight), num(a.ops), num(a.mb), num(a.p50), num(a.p99), num(z.ops), num(z.mb), num(z.p50), num(z.p99), ratio(z.ops, a.ops), ratio(z.p99, a.p99), String(a.errors + z.errors)]);
      for (const [server, f] of [['apache', a], ['zk-elect', z]] as const) if (Number.isFinite(f.mb)) bars.push({ server: SERVER_NAMES[server], group: op, x: String(inflight), value: Math.round(f.mb * 10) / 10 });
      headline.push({ measure: `${op} of ${thousands(d.valueBytes)}-byte values, ${inflight} in flight: MB/s, p99 ms`, zk: `${num(z.mb)}, ${num(z.p99)}`, apache: `${num(a.mb)}, ${num(a.p99)}`, ratio: `${ratio(z.mb, a.mb)}, ${ratio(z.p99, a.p99)}`, goal: '' });
    }
  }
  const md = [
    `setData and getData of ${thousands(d.valueBytes)}-byte values (1 MiB less ${thousands(1024 * 1024 - d.valueBytes)} bytes) over ${c.keys} keys on a standalone server, both at jute.maxbuffer's default. ` +
      `The largest setData each server accepted, found by binary search first: ${Object.entries(d.accepted).map(([k, v]) => `${SERVER_NAMES[k as keyof typeof SERVER_NAMES] ?? k} ${thousands(v)} bytes`).join(', ')}; the benchmark uses the most both accept on its longest key path. ` +
      `One client process (the C client), ${c.seconds} s per cell, mean of ${c.trials} trial${c.trials === 1 ? '' : 's'}, warmed up, order alternating. Latency in ms.`,
    '',
    table(['op', 'in flight', 'Apache ops/s', 'MB/s', 'p50', 'p99', 'zk-elect ops/s', 'MB/s', 'p50', 'p99', 'ops/s ratio', 'p99 ratio', 'errors'], rows),
    '',
    `Resident memory after the run: ${Object.entries(d.rssMb).map(([k, v]) => `${SERVER_NAMES[k as keyof typeof SERVER_NAMES] ?? k} ${num(v)} MB`).join(', ')}.`,
  ].join('\n');
  return { markdown: md, charts: [{ file: 'large-values.svg', title: 'Large values', spec: groupedBars(`${thousands(d.valueBytes)}-byte values: MB/s`, bars, 'MB/s') }], headline };
}
