/**
 * Shrinking a non-linearizable register history to a short witness.
 *
 * Every step is SOUND: the witness stays non-linearizable, and its non-linearizability still
 * implies the original's. Plain "drop any op while it still fails" is not sound for registers:
 * dropping the write that explains a read makes the read look impossible, and dropping any set
 * shifts every later version number, so the "witness" would fail for a reason the real history
 * does not have. The steps used instead:
 *  1. End cut: the shortest prefix in time (up to some completion) that already fails; ops still
 *     running at the cut become indeterminate, as they are in a real prefix. Linearizability is
 *     prefix-closed, so this is exact and can bisect.
 *  2. Front fold at a time c: the ops before c are replaced by the states they can leave the
 *     register in (the time-ordered search's frontier, jit.ts), and what remains must fail from
 *     each. Ops running across c, and indeterminate ops invoked before it, stay in the rest as
 *     indeterminate: any linearization of the whole splits into a part that only uses ops from
 *     before c and ends in one of those states, and a rest that places some of the others.
 *  3. Dropping reads and failed ops (they never change the state) while the rest still fails.
 * Successful mutations are never dropped from the middle.
 */
import { statesAtCuts } from './jit.js';
import { type HistoryOp, type RegisterState, preservesState } from './register-model.js';
import { decide } from './search.js';
import { type SearchOp, observedValues } from './wgl.js';

/** A history op prepared for the search; `src` is what the client recorded. */
export interface Entry extends SearchOp {
  readonly src: HistoryOp;
}

/** A possible state at the start of the witness, and the op that wrote it (for the reader). */
export interface Start {
  readonly state: RegisterState;
  readonly writer: HistoryOp | undefined;
}

export interface Witness {
  readonly ops: readonly Entry[];
  readonly starts: readonly Start[];
  /** Determinate ops folded into `starts`. */
  readonly folded: number;
  /** Values some read returned (searches over the witness must merge the same values). */
  readonly observed: ReadonlySet<string>;
}

/** Shared cap on the work, so a hard failure still gets reported promptly. */
interface Budget {
  left: number;
  readonly perSearch: number;
  readonly observed: ReadonlySet<string>;
}

const isDet = (e: Entry): boolean => e.result !== undefined;
const open = (e: Entry): Entry => ({ ...e, result: undefined, complete: Infinity });
const MAX_CUTS = 48;

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
  return ops.filter((e) => e.invoke <= t && !(e.op.type === 'read' && e.complete > t)).map((e) => (e.complete > t && isDet(e) ? open(e) : e));
}

function endCut(ops: Entry[], starts: readonly Start[], b: Budget): Entry[] {
  const times = [...new Set(ops.filter(isDet).map((e) => e.complete))].sort((x, y) => x - y);
  let lo = 0, hi = times.length - 1;
  let best = ops;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const cut = cutAt(ops, times[mid] as number);
    if (fails(cut, starts, b) === true) {
      best = cut;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  return best;
}

function frontFold(ops: Entry[], starts: readonly Start[], b: Budget): { ops: Entry[]; starts: Start[]; folded: number } | undefined {
  const firstDone = Math.min(...ops.filter(isDet).map((e) => e.complete));
  // Latest first: the later the cut, the less is left. Only cuts with something to fold.
  const cuts = [...new Set(ops.map((e) => e.invoke))].filter((c) => c > firstDone).sort((x, y) => y - x).slice(0, MAX_CUTS);
  if (cuts.length === 0) return undefined;
  const perStart: Map<number, { state: RegisterState; writer: number | undefined }[]>[] = [];
  for (const s of starts) {
    if (b.left <= 0) return undefined;
    const snaps = statesAtCuts(ops, s.state, cuts, { maxStates: Math.min(b.perSearch, b.left), observed: b.observed });
    if (snaps === undefined) return undefined;
    perStart.push(snaps);
  }
  for (const c of cuts) {
    const next = new Map<string, Start>();
    perStart.forEach((snaps, k) => {
      for (const r of snaps.get(c) ?? []) {
        const writer = r.writer === undefined ? starts[k]?.writer : ops[r.writer]?.src;
        const key = r.state === null ? '' : `${r.state.version}:${r.state.value}`;
        if (!next.has(key)) next.set(key, { state: r.state, writer });
      }
    });
    if (next.size === 0) continue;
    const rest = ops
      .filter((e) => e.invoke >= c || e.complete >= c)
      .filter((e) => !(e.invoke < c && e.op.type === 'read'))
      .map((e) => (e.invoke < c && isDet(e) ? open(e) : e));
    const nextStarts = [...next.values()];
    if (fails(rest, nextStarts, b) === true) return { ops: rest, starts: nextStarts, folded: ops.filter((e) => isDet(e) && e.complete < c).length };
  }
  return undefined;
}

function dropPreserving(ops: Entry[], starts: readonly Start[], b: Budget): Entry[] {
  let cur = ops;
  const order = ops.filter((e) => isDet(e) && preservesState(e.op, e.result)).sort((x, y) => y.complete - x.complete);
  for (const e of order) {
    const without = cur.filter((x) => x !== e);
    if (fails(without, starts, b) === true) cur = without;
  }
  return cur;
}

/** Shrink a failing single-key history (which must fail from the absent state). */
export function shrink(ops: readonly Entry[], budgetStates: number, perSearch: number): Witness {
  const observed = observedValues(ops);
  const b: Budget = { left: budgetStates, perSearch, observed };
  let w: Witness = { ops: [...ops], observed, starts: [{ state: null, writer: undefined }], folded: 0 };
  for (let round = 0; round < 8 && b.left > 0; round++) {
    const size = w.ops.length;
    let cur = endCut([...w.ops], w.starts, b);
    let { starts, folded } = w;
    const f = frontFold(cur, starts, b);
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
