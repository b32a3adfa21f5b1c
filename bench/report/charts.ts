/**
 * Vega-Lite chart specs for the report (pure data -> spec). Rendered to SVG by ./svg.ts.
 * The two servers keep the same colours in every chart.
 */
import type { TopLevelSpec } from 'vega-lite';

export const SERVER_DOMAIN = ['Apache ZooKeeper', 'zk-elect'];
const SERVER_COLOURS = ['#e45756', '#4c78a8'];
const serverColour = { field: 'server', type: 'nominal', title: null, scale: { domain: SERVER_DOMAIN, range: SERVER_COLOURS } } as const;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = { font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 11 }, legend: { orient: 'bottom' } } as const;

/** Bars per in-flight count, one panel per operation, the servers side by side. */
export function groupedBars(title: string, rows: Array<{ server: string; group: string; x: string; value: number }>, yTitle: string, logY = false): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    config: CONFIG,
    data: { values: rows },
    facet: { column: { field: 'group', type: 'nominal', title: null, sort: null } },
    spec: {
      width: 150,
      height: 200,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'x', type: 'ordinal', title: 'requests in flight', sort: null },
        xOffset: { field: 'server', sort: SERVER_DOMAIN },
        y: { field: 'value', type: 'quantitative', title: yTitle, ...(logY ? { scale: { type: 'log' } } : {}) },
        color: serverColour,
      },
    },
  } as TopLevelSpec;
}

/**
 * Every trial as a dot, one row per server, one panel per setting; optional reference lines,
 * labelled to the left of the line (`side: 'left'`) or to its right.
 */
export function trialDots(title: string, rows: Array<{ server: string; panel: string; ms: number }>, xTitle: string, rules: Array<{ panel: string; ms: number; label: string; side: 'left' | 'right' }> = []): TopLevelSpec {
  const values = [...rows.map((r) => ({ ...r, kind: 'trial' })), ...rules.map((r) => ({ ...r, kind: 'rule' }))];
  const label = (side: 'left' | 'right') => ({
    transform: [{ filter: `datum.kind === 'rule' && datum.side === '${side}'` }],
    mark: { type: 'text', align: side === 'left' ? 'right' : 'left', dx: side === 'left' ? -3 : 3, y: 0, baseline: 'top', fontSize: 10, color: '#555' },
    encoding: { x: { field: 'ms', type: 'quantitative' }, text: { field: 'label' } },
  });
  return {
    $schema: SCHEMA,
    title,
    config: CONFIG,
    data: { values },
    facet: { row: { field: 'panel', type: 'nominal', title: null, sort: null, header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start', labelFontSize: 12 } } },
    spec: {
      width: 560,
      height: 70,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'trial'" }],
          mark: { type: 'point', filled: true, opacity: 0.75, size: 50 },
          encoding: {
            x: { field: 'ms', type: 'quantitative', title: xTitle, scale: { zero: true } },
            y: { field: 'server', type: 'nominal', title: null, sort: SERVER_DOMAIN },
            color: serverColour,
          },
        },
        {
          transform: [{ filter: "datum.kind === 'rule'" }],
          mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
          encoding: { x: { field: 'ms', type: 'quantitative' } },
        },
        label('left'),
        label('right'),
      ],
    },
  } as TopLevelSpec;
}

/** Resident memory as znodes are created, one line per server (and topology). */
export function rssLines(title: string, rows: Array<{ server: string; topology: string; znodes: number; mb: number }>): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    config: CONFIG,
    width: 560,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'znodes', type: 'quantitative', title: 'znodes created' },
      y: { field: 'mb', type: 'quantitative', title: 'resident memory (MB)' },
      color: serverColour,
      strokeDash: { field: 'topology', type: 'nominal', title: null },
    },
  } as TopLevelSpec;
}

/**
 * Read latency over time across the write window: the slowest read in each time bucket (every
 * read was timed) on a log scale, with the servers' snapshots, log rolls and SNAP transfers
 * from their logs as vertical rules. One row per run (server, snapCount).
 */
export function readsOverTime(
  title: string,
  reads: Array<{ series: string; t: number; ms: number }>,
  events: Array<{ series: string; t: number; event: string }>,
  bucketMs: number,
): TopLevelSpec {
  const values = [...reads.map((r) => ({ ...r, kind: 'read' })), ...events.map((e) => ({ ...e, kind: 'event' }))];
  return {
    $schema: SCHEMA,
    title,
    config: CONFIG,
    data: { values },
    facet: { row: { field: 'series', type: 'nominal', title: null, sort: null, header: { labelAngle: 0, labelAlign: 'left', labelOrient: 'top', labelFontSize: 12 } } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 600,
      height: 150,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'read'" }],
          mark: { type: 'line', strokeWidth: 1, color: '#4c4c4c', interpolate: 'step-after' },
          encoding: {
            x: { field: 't', type: 'quantitative', title: 'seconds since the window of creates began', scale: { nice: false } },
            y: { field: 'ms', type: 'quantitative', title: `slowest read per ${bucketMs} ms (ms, log)`, scale: { type: 'log' } },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'event'" }],
          mark: { type: 'rule', strokeWidth: 1.2, opacity: 0.8 },
          encoding: {
            x: { field: 't', type: 'quantitative' },
            color: { field: 'event', type: 'nominal', title: 'from the server logs', scale: { scheme: 'dark2' }, legend: { columns: 3, labelLimit: 280 } },
          },
        },
      ],
    },
  } as TopLevelSpec;
}
