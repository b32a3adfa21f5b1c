/** Markdown building blocks for the benchmark report (pure functions). */

/** A figure for a table cell: '-' when it was not measured. */
export function num(x: number | undefined, unit = ''): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  const s = a >= 100 ? Math.round(x).toLocaleString('en-US') : a >= 10 ? x.toFixed(1) : x.toFixed(2);
  return unit ? `${s} ${unit}` : s;
}

/** zk-elect / Apache, as "0.42×"; '-' when either is missing or zero. */
export function ratio(zk: number | undefined, apache: number | undefined): string {
  if (zk === undefined || apache === undefined || !Number.isFinite(zk) || !Number.isFinite(apache) || apache === 0) return '-';
  return `${(zk / apache).toFixed(2)}×`;
}

export const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A GitHub-flavoured Markdown table; columns after the first are right-aligned unless `left`. */
export function table(headers: string[], rows: string[][], left: number[] = [0]): string {
  const align = headers.map((_, i) => (left.includes(i) ? '---' : '---:'));
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  for (const r of rows) if (r.length !== headers.length) throw new Error(`table row has ${r.length} cells, header ${headers.length}: ${r.join(', ')}`);
  return [line(headers), `|${align.join('|')}|`, ...rows.map(line)].join('\n');
}

export function image(file: string, alt: string): string {
  return `![${alt.replace(/[[\]]/g, '')}](${file})`;
}

export function code(lines: string[]): string {
  return ['```', ...lines, '```'].join('\n');
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summary(xs: readonly number[]): { n: number; p50: number; p99: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), min: s[0] ?? NaN, max: s.at(-1) ?? NaN };
}
