/** Report section: memory, long reads, restart and catch-up at N znodes (bench/scale.ts). */
import type { ScaleRun } from '../scale.js';
import { readsOverTime, rssLines } from './charts.js';
import { num, ratio, table, thousands } from './markdown.js';
import { SERVER_NAMES, type Chart, type Headline, type ScaleData, type Section } from './types.js';

/** "snapshot written (412 ms)" -> "snapshot written": one legend entry per kind of event. */
const eventKind = (what: string) => what.replace(/\s*\(\d+ ms\)$/, '');

export function scaleSection(d: ScaleData, tag: string): Section {
  const c = d.config;
  const n = thousands(c.znodes);
  const big = c.znodes >= 1_000_000;
  const runs = (topology: ScaleRun['topology']) => d.runs.filter((r) => r.topology === topology);
  const find = (topology: ScaleRun['topology'], server: string) => d.runs.find((r) => r.topology === topology && r.server === server);
  const charts: Chart[] = [];
  const headline: Headline[] = [];
  const md: string[] = [
    `${n} znodes with ${c.valueBytes}-byte values, ${c.perParent} per parent, created by one session with ${c.inflight} creates in flight (the C client, in a client process of its own). ` +
      `During the last ${thousands(c.window)} creates a second session, in another client process, reads one ${c.valueBytes}-byte znode in a loop (${c.readGapMs} ms between reads) and every read is timed. ` +
      `Both servers at ZooKeeper's defaults (tickTime 2000 ms, snapCount ${thousands(c.snapCount)}, fsync on); Apache ZooKeeper with -Xmx${c.apacheHeap} and the JVM's default collector. The order of the servers alternates between parts.`,
  ];

  const standalone = runs('standalone');
  if (standalone.length) {
    const rows: string[][] = [];
    for (const r of standalone) {
      r.windows.forEach((w, i) => {
        const restart = r.restarts.find((x) => x.snapCount === w.snapCount);
        rows.push([
          i === 0 ? SERVER_NAMES[r.server] : '',
          i === 0 ? num(r.fill.createsPerSec) : '',
          i === 0 ? num(r.rssAfterFillMb) : '',
          i === 0 ? num(r.rssSettledMb) : '',
          i === 0 ? num(r.peakRssMb) : '',
          thousands(w.snapCount),
          thousands(w.reads.n),
          num(w.reads.p50),
          num(w.reads.p99),
          num(w.reads.max),
          String(w.readErrors),
          restart ? (restart.error ? `failed: ${restart.error}` : num(restart.firstReadMs)) : '-',
        ]);
      });
    }
    md.push(
      '',
      `**Standalone.** RSS of the server process in MB: right after the fill, after ${c.settleSeconds} s idle, and its peak. The window's reads in ms. Restart: kill -9, then the time from the new process's spawn until a fresh session reads the last znode created.` +
        (c.secondSnapCount ? ` The second row of each server is another ${thousands(c.window)} creates after a restart at snapCount ${thousands(c.secondSnapCount)}.` : ''),
      '',
      table(['server', 'creates/s', 'RSS after fill', 'settled', 'peak', 'snapCount', 'reads', 'p50', 'p99', 'longest read', 'read errors', 'restart → first read ms'], rows),
    );
    const a = find('standalone', 'apache');
    const z = find('standalone', 'zk-elect');
    headline.push(
      { measure: `RSS at ${n} znodes, standalone, after ${c.settleSeconds} s idle (MB)`, zk: num(z?.rssSettledMb), apache: num(a?.rssSettledMb), ratio: ratio(z?.rssSettledMb, a?.rssSettledMb), goal: big ? '≤ 0.5×' : '' },
      { measure: `longest getData from a second session during ${thousands(c.window)} creates, ${n} znodes, standalone (ms)`, zk: num(z?.windows[0]?.reads.max), apache: num(a?.windows[0]?.reads.max), ratio: ratio(z?.windows[0]?.reads.max, a?.windows[0]?.reads.max), goal: big ? '≤ 0.3×' : '' },
      { measure: `kill -9, then restart until the first read, ${n} znodes (ms)`, zk: num(z?.restarts[0]?.firstReadMs), apache: num(a?.restarts[0]?.firstReadMs), ratio: ratio(z?.restarts[0]?.firstReadMs, a?.restarts[0]?.firstReadMs), goal: big ? '≤ 0.5×' : '' },
    );
  }

  const cluster = runs('3-node cluster');
  if (cluster.length) {
    const rows = cluster.map((r) => {
      const w = r.windows[0];
      return [
        SERVER_NAMES[r.server],
        num(r.fill.createsPerSec),
        num(r.rssSettledMb),
        Object.entries(r.rssMembersMb ?? {}).map(([id, mb]) => `${id}: ${num(mb)}`).join(', '),
        thousands(w?.reads.n ?? 0),
        num(w?.reads.p99),
        num(w?.reads.max),
        num(r.catchUpUnderLoadMs),
        num(r.catchUpIdleMs),
        (r.catchUpErrors ?? []).join('; ') || '-',
      ];
    });
    md.push(
      '',
      `**3-node cluster.** The writer's session is on the leader, the reader's on a follower; a third member is killed -9 before the fill and restarted when the read window begins (catch-up under load: until it serves the last znode acknowledged before its restart). ` +
        `After the window that member is killed again, its data directory emptied (a replaced disk) and restarted on the idle cluster (idle catch-up: until it serves the last of the ${n} znodes). RSS in MB after ${c.settleSeconds} s idle.`,
      '',
      table(['server', 'creates/s', 'leader RSS', 'members RSS', 'follower reads', 'p99', 'longest read', 'catch-up under load ms', 'idle catch-up ms', 'errors'], rows),
    );
    for (const r of cluster) {
      const ev = (r.catchUpIdleEvents ?? []).slice(0, 16);
      if (ev.length) md.push('', `${SERVER_NAMES[r.server]}, idle catch-up, from the servers' logs: ${ev.map((e) => `+${e.t.toFixed(2)} s member ${e.member} ${e.what}`).join('; ')}.`);
    }
    const a = find('3-node cluster', 'apache');
    const z = find('3-node cluster', 'zk-elect');
    headline.push(
      { measure: `longest getData from a follower during ${thousands(c.window)} creates, ${n} znodes, 3-node cluster, a follower catching up (ms)`, zk: num(z?.windows[0]?.reads.max), apache: num(a?.windows[0]?.reads.max), ratio: ratio(z?.windows[0]?.reads.max, a?.windows[0]?.reads.max), goal: big ? '≤ 0.3×' : '' },
      { measure: `follower with an emptied data dir catches up ${n} znodes, until it serves the last (ms)`, zk: num(z?.catchUpIdleMs), apache: num(a?.catchUpIdleMs), ratio: ratio(z?.catchUpIdleMs, a?.catchUpIdleMs), goal: big ? '≤ 0.5×' : '' },
    );
  }

  // Charts: memory as znodes grow; read latency over time across snapshots.
  const rss = d.runs.flatMap((r) => r.rssSeries.filter((p) => Number.isFinite(p.mb)).map((p) => ({ server: SERVER_NAMES[r.server], topology: r.topology === 'standalone' ? 'standalone' : '3-node leader', znodes: p.znodes, mb: Math.round(p.mb) })));
  charts.push({ file: `scale-${tag}-rss.svg`, title: `Resident memory, ${n} znodes`, spec: rssLines(`Resident memory while ${n} znodes are created`, rss) });
  for (const [topology, slug, who] of [['standalone', 'standalone', 'standalone'], ['3-node cluster', 'cluster', 'from a follower, 3-node']] as const) {
    const rs = runs(topology);
    if (!rs.length) continue;
    const reads: Array<{ series: string; t: number; ms: number }> = [];
    const events: Array<{ series: string; t: number; event: string }> = [];
    for (const r of rs) {
      for (const w of r.windows) {
        const series = `${SERVER_NAMES[r.server]}, snapCount ${thousands(w.snapCount)}: ${thousands(w.reads.n)} reads, longest ${num(w.reads.max)} ms`;
        for (const p of w.overTime) reads.push({ series, t: p.t, ms: Math.max(p.ms, 0.01) });
        for (const e of w.events) events.push({ series, t: Math.round(e.t * 1000) / 1000, event: eventKind(e.what) });
      }
    }
    charts.push({
      file: `scale-${tag}-reads-${slug}.svg`,
      title: `Read latency over time, ${who}, ${n} znodes`,
      spec: readsOverTime(`getData latency ${who} during ${thousands(c.window)} creates (${n} znodes)`, reads, events, c.bucketMs),
    });
  }
  md.push('', `The read charts show, for every ${c.bucketMs} ms of the window, the slowest of the reads that started in it (every read was timed), with the servers' snapshots, log rolls and snapshot transfers from their logs as vertical lines.`);
  return { markdown: md.join('\n'), charts, headline };
}
