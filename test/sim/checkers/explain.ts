/**
 * Shrinking a non-linearizable register history to a short witness, and printing it.
 *
 * Every shrinking step is SOUND: the witness stays non-linearizable, and its non-linearizability
 * still implies the original's. Plain "drop any op while it still fails" is not sound for
 * registers: dropping the write that explains a read makes the read look impossible, and dropping
 * any set shifts every later version number, so the "witness" would fail for a reason the real
 * history does not have. The steps used instead:
 *  1. End cut: the shortest prefix of the history in time (up to some completion) that already
 *     fails; ops still running at the cut become indeterminate, as they are in a real prefix.
 *     Linearizability is prefix-closed, so this is exact and the search can bisect.
 *  2. Front fold: at a quiescent point (every determinate op invoked before it completed before
 *     it), the earlier ops are replaced by the set of states they can leave the register in; the
 *     rest must fail from each of them. Indeterminate earlier ops stay in the rest as optional too.
 *  3. Dropping reads and failed ops (they never change the state) while the rest still fails.
 * Mutations that succeeded are never dropped from the middle.
 */
import {
  type HistoryOp, type RegisterResult, type RegisterState, formatHistoryOp, formatResult as showResult, formatState as showState, preservesState, sameResult, stateKey, step,
} from './register-model.js';
import { decide } from './search.js';
import { type SearchOp, observedValues, unreadValue } from './wgl.js';

/** A history op prepared for the search; `src` is what the client recorded. */
export interface Entry extends SearchOp {
  readonly src: HistoryOp;
}

/** A possible state at the start of the witness, and the op that wrote it (for the reader). */
interface Start {
  readonly state: RegisterState;
  readonly writer: HistoryOp | undefined;
}

/** Shared cap on explanation work, so a hard failure still gets reported promptly. */
interface Budget {
  left: number;
  readonly perSearch: number;
  /** Every search here must merge the same values, since their states are chained. */
  readonly observed: ReadonlySet<string>;
}

const isDet = (e: Entry): boolean => e.result !== undefined;

/** true: fails from every start; false: linearizable from some; undefined: ran out of budget. */
function fails(ops: readonly Entry[], starts: readonly Start[], b: Budget): boolean | undefined {
  for (const s of starts) {
    if (b.left <= 0) return undefined;
    const out = decide(ops, s.state, { maxStates: Math.min(b.perSearch, b.left), observed: b.observed });
    b.left -= out.states;
    if (out.verdict === 'unknown') return undefined;
    if (out.verdict === 'linearizable') return false;
  }
  return true;
}

/** The history as it stood at time `t`: later invocations absent, running ops indeterminate. */
function cutAt(ops: readonly Entry[], t: number): Entry[] {
  return ops
    .filter((e) => e.invoke <= t && !(e.op.type === 'read' && e.complete > t))
    .map((e) => (e.complete > t && isDet(e) ? { ...e, result: undefined, complete: Infinity } : e));
}

function endCut(ops: Entry[], starts: readonly Start[], b: Budget): Entry[] {
  const times = [...new Set(ops.filter(isDet).map((e) => e.complete))].sort((x, y) => x - y);
  let lo = 0, hi = times.length - 1;
  let best = ops;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const cut = cutAt(ops, times[mid] as number);
    if (fails(cut, starts, b) === true) { best = cut; hi = mid - 1; } else lo = mid + 1;
  }
  return best;
}

function frontFold(ops: Entry[], starts: readonly Start[], b: Budget): { ops: Entry[]; starts: Start[]; folded: number } | undefined {
  const cuts = [...new Set(ops.map((e) => e.invoke))].sort((x, y) => y - x);
  let tries = 0;
  for (const c of cuts) {
    const before = ops.filter((e) => e.invoke < c);
    const det = before.filter(isDet);
    if (det.length === 0 || det.some((e) => e.complete >= c)) continue;
    if (++tries > 32 || b.left <= 0) return undefined;
    const next = new Map<string, Start>();
    let complete = true;
    for (const s of starts) {
      const out = decide(before, s.state, { maxStates: Math.min(b.perSearch, b.left), mode: 'all', observed: b.observed });
      b.left -= out.states;
      if (out.verdict === 'unknown') { complete = false; break; }
      for (const end of out.endStates) {
        const writer = end.lastWriter === undefined ? s.writer : before[end.lastWriter]?.src;
        if (!next.has(stateKey(end.state))) next.set(stateKey(end.state), { state: end.state, writer });
      }
    }
    if (!complete || next.size === 0) continue;
    const rest = ops.filter((e) => e.invoke >= c || !isDet(e));
    const nextStarts = [...next.values()];
    if (fails(rest, nextStarts, b) === true) return { ops: rest, starts: nextStarts, folded: det.length };
  }
  return undefined;
}

function dropPreserving(ops: Entry[], starts: readonly Start[], b: Budget): Entry[] {
  let cur = ops;
  const order = [...ops].filter((e) => isDet(e) && preservesState(e.op, e.result)).sort((x, y) => y.complete - x.complete);
  for (const e of order) {
    const without = cur.filter((x) => x !== e);
    if (fails(without, starts, b) === true) cur = without;
  }
  return cur;
}

export interface Witness {
  readonly ops: readonly Entry[];
  readonly observed: ReadonlySet<string>;
  readonly starts: readonly Start[];
  /** Determinate ops folded into `starts`. */
  readonly folded: number;
}

/** Shrink a failing single-key history (which must fail from the absent state). */
export function shrink(ops: readonly Entry[], budgetStates: number, perSearch: number): Witness {
  const observed = observedValues(ops);
  const b: Budget = { left: budgetStates, perSearch, observed };
  let w: Witness = { ops: [...ops], observed, starts: [{ state: null, writer: undefined }], folded: 0 };
  for (let round = 0; round < 8 && b.left > 0; round++) {
    const size = w.ops.length;
    let cur = endCut([...w.ops], w.starts, b);
    const f = frontFold(cur, w.starts, b);
    let starts = w.starts, folded = w.folded;
    if (f !== undefined) {
      cur = f.ops;
      starts = f.starts;
      folded += f.folded;
    }
    cur = dropPreserving(cur, starts, b);
    w = { ops: cur, observed, starts, folded };
    if (w.ops.length === size) break;
  }
  return { ...w, ops: [...w.ops].sort((x, y) => x.invoke - y.invoke || x.complete - y.complete) };
}

// An op still running at the end cut is judged as open, so it is shown that way.
const line = (e: Entry): string =>
  formatHistoryOp(e.src, e.result === undefined && e.src.result !== undefined ? '? (still running at the cut)' : undefined);

const plural = (n: number): string => (n === 1 ? '1 earlier op' : `${n} earlier ops`);

/** Human-readable lines: the witness, the longest linearizable prefix, and why nothing fits next. */
export function describe(key: string, total: number, w: Witness, perSearch: number): string[] {
  // Searches merge values no read returned into one stand-in; show the real value where known.
  const unread = unreadValue(w.observed);
  const formatState = (s: RegisterState): string => (s?.value === unread ? `(a value no read returned) ver ${s.version}` : showState(s));
  const formatResult = (r: RegisterResult): string => (r.type === 'data' && r.value === unread ? formatState(r) : showResult(r));
  const real = (s: Start): RegisterState => (s.state?.value === unread && s.writer !== undefined && 'value' in s.writer.op ? { ...s.state, value: s.writer.op.value } : s.state);
  const out: string[] = [`key ${JSON.stringify(key)}: not linearizable (${total} ops on this key; ${w.ops.length} shown)`];
  const origin = (s: Start): string => (s.writer === undefined ? formatState(real(s)) : `${formatState(real(s))}   (written by: ${formatHistoryOp(s.writer)})`);
  if (w.folded === 0 && w.starts.length === 1) out.push(`state before: ${origin(w.starts[0] as Start)}`);
  else if (w.starts.length === 1) out.push(`state before (forced by ${plural(w.folded)}): ${origin(w.starts[0] as Start)}`);
  else {
    out.push(`state before (${plural(w.folded)} allow any of):`);
    for (const s of w.starts) out.push(`    ${origin(s)}`);
  }
  out.push('history:');
  for (const e of w.ops) out.push(`  ${line(e)}`);

  // The deepest partial linearization over all possible starting states.
  let best: { start: Start; path: number[]; det: number } | undefined;
  for (const s of w.starts) {
    const d = decide(w.ops, s.state, { maxStates: perSearch, trackDeepest: true, observed: w.observed }).deepest;
    const det = d.path.filter((i) => w.ops[i]?.result !== undefined).length;
    if (best === undefined || det > best.det) best = { start: s, path: d.path, det };
  }
  if (best === undefined) return out;
  let state = real(best.start);
  out.push(`longest linearizable prefix (${best.path.length} of ${w.ops.length} ops, from ${formatState(state)}):${best.path.length === 0 ? ' none' : ''}`);
  best.path.forEach((i, n) => {
    const e = w.ops[i] as Entry;
    state = step(state, e.op).next;
    out.push(`  ${n + 1}. ${line(e)}   => ${formatState(state)}`);
  });
  const placed = new Set(best.path);
  const open = w.ops.filter((_, i) => !placed.has(i));
  const minComplete = Math.min(...open.map((e) => e.complete));
  out.push('then no remaining op can be linearized:');
  for (const e of open) {
    if (e.invoke > minComplete) {
      out.push(`  ${line(e)}: must follow an op that completed before it was invoked`);
      continue;
    }
    const r = step(state, e.op).result;
    if (e.result !== undefined && !sameResult(r, e.result)) out.push(`  ${line(e)}: here the register would answer ${formatResult(r)}`);
    else if (e.result === undefined) out.push(`  ${line(e)}: may take effect here, later or never; none of these helps`);
    else out.push(`  ${line(e)}: fits here, but nothing fits after it`);
  }
  return out;
}
