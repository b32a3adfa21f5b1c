/** Report section: failover of a 3-node cluster (bench/failover.ts). */
import { trialDots } from './charts.js';
import { code, num, ratio, summary, table, thousands } from './markdown.js';
import type { FailoverData, Headline, Section } from './types.js';

export function failoverSection(d: FailoverData): Section {
  const rows: string[][] = [];
  const dots: Array<{ server: string; panel: string; ms: number }> = [];
  const headline: Headline[] = [];
  const timelines: string[] = [];
  for (const r of d.results) {
    const a = summary(r.apacheMs);
    const z = summary(r.zkElectMs);
    rows.push([`${thousands(r.tickMs)} ms`, String(a.n), num(a.p50), num(a.max), String(z.n), num(z.p50), num(z.max), ratio(z.p50, a.p50), ratio(z.max, a.max)]);
    const panel = `tickTime ${thousands(r.tickMs)} ms`;
    for (const ms of r.apacheMs) dots.push({ server: 'Apache ZooKeeper', panel, ms });
    for (const ms of r.zkElectMs) dots.push({ server: 'zk-elect', panel, ms });
    headline.push({
      measure: `failover at tickTime ${thousands(r.tickMs)} ms: kill -9 of a 3-node cluster's leader until the first acknowledged write through the survivors, p50 / max (ms)`,
      zk: `${num(z.p50)} / ${num(z.max)}`,
      apache: `${num(a.p50)} / ${num(a.max)}`,
      ratio: `${ratio(z.p50, a.p50)} / ${ratio(z.max, a.max)}`,
      goal: 'p50 ≤ 0.25×, max ≤ 0.5×',
    });
    if (r.zkElectTimeline.length) timelines.push(`zk-elect at tickTime ${thousands(r.tickMs)} ms, the last failover, from its survivors' logs (ms after the kill):`, '', code(r.zkElectTimeline.map((l) => l.trim())), '');
  }
  const md = [
    `Kill -9 of the leader of a 3-node cluster, then a fresh connection (100 ms handshake bound) to a survivor creates a znode, repeated until one is acknowledged: the time from the kill. ` +
      `Same tickTime for both servers; ${d.config.trials} trial${d.config.trials === 1 ? '' : 's'} per server and tick after one untimed warm-up failover each, the order alternating; the killed member is restarted and the cluster settled between trials. Apache ZooKeeper runs with -Xmx3g.`,
    '',
    table(['tickTime', 'Apache trials', 'p50 ms', 'max ms', 'zk-elect trials', 'p50 ms', 'max ms', 'p50 ratio', 'max ratio'], rows),
    '',
    ...timelines,
  ].join('\n');
  return { markdown: md, charts: [{ file: 'failover.svg', title: 'Failover', spec: trialDots('Failover: kill -9 of the leader -> first acknowledged write (every trial)', dots, 'ms after the kill') }], headline };
}
