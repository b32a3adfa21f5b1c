/**
 * Printing a shrunk witness (shrink.ts): the state it starts from, its ops, the longest prefix
 * that can be linearized, and why no remaining op fits after it.
 *
 * Indeterminate ops that the longest prefix does not use, and whose value no shown read returned,
 * are left out of the listing: the search allowed each of them to take effect anywhere after its
 * invocation or never, and none of that made the history linearizable, so they only add noise.
 * (The listing without them is non-linearizable too: it has fewer options.)
 */
import {
  type HistoryOp, type RegisterResult, type RegisterState, formatHistoryOp, formatResult as showResult, formatState as showState, sameResult, step,
} from './register-model.js';
import { decide } from './search.js';
import type { Entry, Start, Witness } from './shrink.js';
import { unreadValue } from './wgl.js';

// An op that was running across a cut is judged as open, so it is shown that way.
const line = (e: Entry): string =>
  formatHistoryOp(e.src, e.result === undefined && e.src.result !== undefined ? '? (running across a cut: treated as indeterminate)' : undefined);

const plural = (n: number): string => (n === 1 ? '1 earlier op' : `${n} earlier ops`);

/** A witness that could not be shrunk far (budget spent) is still printed, but not all of it. */
function clip(lines: string[], head: number, tail: number): string[] {
  if (lines.length <= head + tail + 1) return lines;
  return [...lines.slice(0, head), `  ... ${lines.length - head - tail} more ...`, ...lines.slice(-tail)];
}

/** The lines to print, and the ops they show. */
export function describe(key: string, total: number, w: Witness, perSearch: number): { lines: string[]; shown: HistoryOp[] } {
  // Searches merge values no read returned into one stand-in; show the real value where known.
  const unread = unreadValue(w.observed);
  const formatState = (s: RegisterState): string => (s?.value === unread ? `(a value no read returned) ver ${s.version}` : showState(s));
  const formatResult = (r: RegisterResult): string => (r.type === 'data' && r.value === unread ? formatState(r) : showResult(r));
  const real = (s: Start): RegisterState =>
    s.state?.value === unread && s.writer !== undefined && 'value' in s.writer.op ? { ...s.state, value: s.writer.op.value } : s.state;
  const origin = (s: Start): string => `${formatState(real(s))}${s.writer === undefined ? '' : `   (last changed by: ${formatHistoryOp(s.writer)})`}`;

  // The deepest partial linearization over all possible starting states.
  let best: { start: Start; path: number[]; det: number } | undefined;
  for (const s of w.starts) {
    const d = decide(w.ops, s.state, { maxStates: perSearch, trackDeepest: true, observed: w.observed }).deepest;
    const det = d.path.filter((i) => w.ops[i]?.result !== undefined).length;
    if (best === undefined || det > best.det) best = { start: s, path: d.path, det };
  }
  const path = best?.path ?? [];
  const used = new Set(path.map((i) => w.ops[i] as Entry));
  const read = new Set(w.ops.flatMap((e) => (e.result?.type === 'data' ? [e.result.value] : [])));
  const shown = w.ops.filter((e) => e.result !== undefined || used.has(e) || ('value' in e.op && read.has(e.op.value)));
  const hidden = w.ops.length - shown.length;

  const out = [`key ${JSON.stringify(key)}: not linearizable (${total} ops on this key; ${shown.length} shown)`];
  if (w.starts.length === 1) {
    const how = w.folded === 0 ? '' : ` (forced by ${plural(w.folded)})`;
    out.push(`state before${how}: ${origin(w.starts[0] as Start)}`);
  } else {
    out.push(`state before (${plural(w.folded)} allow any of):`);
    for (const s of w.starts) out.push(`    ${origin(s)}`);
  }
  out.push('history:');
  out.push(...clip(shown.map((e) => `  ${line(e)}`), 20, 40));
  if (hidden > 0) out.push(`  (${hidden === 1 ? '1 more indeterminate op' : `${hidden} more indeterminate ops`} not shown: none helps, wherever it takes effect)`);
  if (best === undefined) return { lines: out, shown: shown.map((e) => e.src) };

  let state = real(best.start);
  out.push(`longest linearizable prefix (${path.length} of ${shown.length} ops, from ${formatState(state)}):${path.length === 0 ? ' none' : ''}`);
  const steps = path.map((i, n) => {
    const e = w.ops[i] as Entry;
    state = step(state, e.op).next;
    return `  ${n + 1}. ${line(e)}   => ${formatState(state)}`;
  });
  out.push(...clip(steps, 5, 30));
  const rest = shown.filter((e) => !used.has(e));
  const limit = Math.min(...rest.map((e) => e.complete));
  out.push('then no remaining op can be linearized:');
  const why = rest.map((e) => {
    const r = step(state, e.op).result;
    if (e.invoke > limit) return `  ${line(e)}: must follow an op that completed before it was invoked`;
    if (e.result === undefined) return `  ${line(e)}: may take effect here, later or never; none of these helps`;
    if (!sameResult(r, e.result)) return `  ${line(e)}: here the register would answer ${formatResult(r)}`;
    return `  ${line(e)}: fits here, but nothing fits after it`;
  });
  out.push(...clip(why, 30, 10));
  return { lines: out, shown: shown.map((e) => e.src) };
}
