/**
 * The benchmark report: suite results -> Markdown text and chart specs (pure). Every figure in
 * it comes from the results; the only constants are issue 9's goals, shown as goals.
 */
import { electionSection } from './election.js';
import { failoverSection } from './failover.js';
import { largeSection } from './large.js';
import { code, image, num, table } from './markdown.js';
import { scaleSection } from './scale.js';
import { throughputSection } from './throughput.js';
import type { Chart, Headline, PartRun, Section, SuiteResults } from './types.js';

function sectionFor(p: PartRun): Section | undefined {
  const d = p.data;
  if (!d) return undefined;
  switch (d.bench) {
    case 'throughput':
      return throughputSection(d);
    case 'failover':
      return failoverSection(d);
    case 'scale':
      return scaleSection(d, String(d.config.znodes));
    case 'large-values':
      return largeSection(d);
    case 'election':
      return electionSection(d);
  }
}

function duration(s: number): string {
  return s >= 90 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`;
}

export function renderReport(r: SuiteResults): { markdown: string; charts: Chart[] } {
  const m = r.machine;
  const charts: Chart[] = [];
  const headline: Headline[] = [];
  const body: string[] = [];
  for (const p of r.parts) {
    body.push('', `## ${p.title}`, '');
    body.push(`_\`${p.command}\`: ${duration(p.seconds)}, load average ${p.loadBefore.toFixed(2)} before and ${p.loadAfter.toFixed(2)} after._`, '');
    if (p.exitCode !== 0 || !p.data) {
      body.push(`**This part failed** (exit code ${p.exitCode ?? 'none: stopped'}). The end of its output:`, '', code((p.failure ?? '').split('\n')));
      continue;
    }
    const s = sectionFor(p)!;
    body.push(s.markdown);
    for (const c of s.charts) {
      charts.push(c);
      body.push('', image(c.file, c.title));
    }
    headline.push(...s.headline);
  }
  const failed = r.parts.filter((p) => p.exitCode !== 0 || !p.data);
  const md = [
    `# zk-elect vs Apache ZooKeeper: benchmarks${r.quick ? ' (QUICK SMOKE RUN)' : ''}`,
    '',
    ...(r.quick
      ? [
          '> **Quick smoke run (`--quick`).** Tiny workloads, few trials, short cells and a smaller snapCount so that a snapshot falls in the short read window.',
          '> It shows that the suite and the report work; its figures are not comparable with a full run or with issue 9\'s goals.',
          '',
        ]
      : []),
    `Measured ${r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} in ${duration(r.seconds)}: zk-elect's server and Apache ZooKeeper side by side on one machine, in the same run, at ZooKeeper's defaults unless a part says otherwise. ` +
      'Each part warms both servers up and alternates their order. ' +
      (failed.length ? `**${failed.length} part${failed.length === 1 ? '' : 's'} failed:** ${failed.map((p) => p.name).join(', ')}.` : 'Every part completed.'),
    '',
    '## Machine and versions',
    '',
    table(
      ['', ''],
      [
        ['CPU', `${m.cpu}, ${m.cores} cores`],
        ['memory', `${num(m.memoryGiB)} GiB`],
        ['OS', `${m.os}; ${m.kernel}`],
        ['load average (1 min) at the start', r.parts[0] ? r.parts[0].loadBefore.toFixed(2) : '-'],
        ['Node.js', m.node],
        ['zk-elect', `git ${m.commit}${m.commitDirty ? ' with uncommitted changes' : ''}`],
        ['Apache ZooKeeper', m.zookeeper],
        ['Java', m.java],
        ['client', r.tools.client],
        ['charts', r.tools.charts],
      ],
      [0, 1],
    ),
    '',
    '## Commands',
    '',
    'The suite, from the repository root:',
    '',
    code([r.command]),
    '',
    'which ran, one after the other:',
    '',
    code(r.parts.map((p) => p.command)),
    '',
    '## Headline',
    '',
    headline.length
      ? table(['measure', 'zk-elect', 'Apache ZooKeeper', 'zk-elect / ZooKeeper', 'goal (issue 9)'], headline.map((h) => [h.measure, h.zk, h.apache, h.ratio, h.goal]), [0, 4])
      : '_No part completed._',
    ...body,
    '',
  ].join('\n');
  return { markdown: md, charts };
}
