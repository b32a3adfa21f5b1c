/** Report section: leader-election handoffs on both servers (bench/election-handoff.ts). */
import { trialDots } from './charts.js';
import { num, ratio, summary, table, thousands } from './markdown.js';
import { SERVER_NAMES, type ElectionData, type Headline, type Section } from './types.js';

export function electionSection(d: ElectionData): Section {
  const c = d.config;
  const by = (s: string) => d.results.find((r) => r.server === s);
  const rows = d.results.map((r) => {
    const g = summary(r.gracefulMs);
    const k = summary(r.crashMs);
    const margins = r.cutOff.map((t) => t.electedMs - t.lostMs);
    return [SERVER_NAMES[r.server], String(g.n), num(g.p50), num(g.p99), String(k.n), num(k.p50), num(k.max), num(k.max - c.sessionTimeoutMs), String(r.cutOff.length), num(Math.min(...margins)), `${r.overlapping} of ${r.cutOff.length}`];
  });
  const dots = d.results.flatMap((r) => r.crashMs.map((ms) => ({ server: SERVER_NAMES[r.server], panel: `session ${thousands(c.sessionTimeoutMs)} ms, tickTime ${thousands(c.tickMs)} ms`, ms })));
  const panel = `session ${thousands(c.sessionTimeoutMs)} ms, tickTime ${thousands(c.tickMs)} ms`;
  const rules = [
    { panel, ms: c.sessionTimeoutMs, label: 'session timeout', side: 'left' as const },
    { panel, ms: c.sessionTimeoutMs + 100, label: '+100 ms', side: 'right' as const },
  ];
  const a = by('apache');
  const z = by('zk-elect');
  const ka = a ? summary(a.crashMs) : undefined;
  const kz = z ? summary(z.crashMs) : undefined;
  const ga = a ? summary(a.gracefulMs) : undefined;
  const gz = z ? summary(z.gracefulMs) : undefined;
  const headline: Headline[] = [
    {
      measure: `crash handoff on a standalone server: kill -9 of the election leader's process until the successor's \`elected\`, ${thousands(c.sessionTimeoutMs)} ms session, p50 / max (ms)`,
      zk: `${num(kz?.p50)} / ${num(kz?.max)}`,
      apache: `${num(ka?.p50)} / ${num(ka?.max)}`,
      ratio: `${ratio(kz?.p50, ka?.p50)} / ${ratio(kz?.max, ka?.max)}`,
      goal: `zk-elect ≤ ${thousands(c.sessionTimeoutMs + 100)} ms`,
    },
    { measure: 'graceful handoff (resign until the successor is elected), p50 / p99 (ms)', zk: `${num(gz?.p50)} / ${num(gz?.p99)}`, apache: `${num(ga?.p50)} / ${num(ga?.p99)}`, ratio: `${ratio(gz?.p50, ga?.p50)} / ${ratio(gz?.p99, ga?.p99)}`, goal: '' },
  ];
  const md = [
    `The election library (\`zk-elect join\` processes and in-process candidates) on a ${c.nodes === 1 ? 'standalone server' : '3-node cluster'} of each kind, tickTime ${thousands(c.tickMs)} ms, ${thousands(c.sessionTimeoutMs)} ms sessions. ` +
      `Both servers warmed up with ${c.warmHandoffs} untimed graceful handoffs, then taking turns, the order reversed each round. ` +
      `Graceful: the leader resigns, until the other candidate's \`elected\`. Crash: kill -9 of the leading \`zk-elect join\` process, until the successor process prints \`elected\` (the server must expire the dead session first; the successor's own timestamp). ` +
      `Cut-off: the leader's connection is blackholed; it must report \`lost\` before the successor is elected (margin = elected − lost).`,
    '',
    table(['server', 'graceful', 'p50 ms', 'p99 ms', 'crash', 'p50 ms', 'max ms', 'max − session timeout', 'cut-off', 'least margin ms', 'overlapping'], rows),
  ].join('\n');
  return { markdown: md, charts: [{ file: 'election-crash.svg', title: 'Crash handoff', spec: trialDots('Crash handoff: kill -9 of the leader process -> successor elected (every trial)', dots, 'ms after the kill', rules) }], headline };
}
