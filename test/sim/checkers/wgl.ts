/**
 * The Wing & Gong search with Lowe's memoisation (the algorithm Porcupine uses), for the history
 * of ONE register. A configuration is (set of ops linearized so far, model state); the search
 * extends it, depth first, by any op that real time allows to go next and that the model accepts,
 * and skips configurations already explored (see LinearizedSet in wgl-memo.ts): two paths that
 * linearized the same ops and reached the same state have identical futures.
 *
 * Real time: op `o` may be linearized next iff no other unlinearized op completed before `o` was
 * invoked, i.e. `o.invoke <= min(complete of unlinearized ops)`. Equal timestamps count as
 * concurrent (the clock is milliseconds; ordering them would invent violations). Indeterminate ops
 * have `complete = Infinity`: they never hold anyone back and are never required, so the search
 * succeeds once every determinate op is linearized (leaving an indeterminate op out is the same as
 * linearizing it after everything else, where nothing observes it).
 *
 * Exact reductions on top of plain WGL (each keeps the verdict; the argument is where it's done):
 *  - a read or failed op whose result fits is linearized at once, without branching (forcedCandidate);
 *  - an indeterminate op is never applied where it would fail (a no-op equals leaving it out);
 *  - values no read returned are merged into one (unreadValue);
 *  - interchangeable indeterminate ops are tried in one order only (IndeterminateClasses);
 *  - a finished configuration also covers those with the same ops and state but fewer
 *    indeterminate ops left (LinearizedSet, IndeterminateClasses.covers).
 * Without them, concurrent reads cost 2^k subsets and pending indeterminate ops (a client that
 * timed out) multiply every configuration after them.
 */
import { type RegisterOp, type RegisterResult, type RegisterState, preservesState, sameResult, step } from './register-model.js';
import { Candidates, NIL } from './wgl-candidates.js';
import { IndeterminateClasses, LinearizedSet } from './wgl-memo.js';

export interface SearchOp {
  readonly op: RegisterOp;
  /** undefined: indeterminate, any outcome (including never happening) is acceptable. */
  readonly result: RegisterResult | undefined;
  readonly invoke: number;
  /** Infinity when indeterminate. */
  readonly complete: number;
}

export interface SearchOptions {
  /** Give up (verdict 'unknown') once this many configurations have been visited. */
  readonly maxStates: number;
  /** Record the linearized prefix with the most determinate ops (for explanations). */
  readonly trackDeepest?: boolean;
  /**
   * Values some determinate read returned. Others are merged into UNREAD (see below); searches
   * whose states are chained (explanations) must share one set. Default: from `ops`.
   */
  readonly observed?: ReadonlySet<string>;
}

export interface SearchOutcome {
  readonly verdict: 'linearizable' | 'violation' | 'unknown';
  /** Configurations visited. */
  readonly states: number;
  /** Linearized prefix with the most determinate ops seen (indices into ops), and the state after it. */
  readonly deepest: { readonly path: number[]; readonly state: RegisterState };
}

/** Values of successful determinate reads: the only values a state can be told apart by. */
export function observedValues(ops: readonly SearchOp[]): Set<string> {
  const out = new Set<string>();
  for (const e of ops) if (e.result?.type === 'data') out.add(e.result.value);
  return out;
}

/**
 * The stand-in for every value no read returned. No result ever depends on such a value (set,
 * create and delete results don't reveal it, and every read that could see it expects something
 * else), so merging them is exact and lets states that differ only there share a memo entry.
 */
export function unreadValue(observed: ReadonlySet<string>): string {
  let v = '<unread value>';
  while (observed.has(v)) v += '*';
  return v;
}

/** Both engines rely on this: the completion lists hold exactly the determinate ops. */
export function checkShape(ops: readonly SearchOp[]): void {
  for (const e of ops) {
    if ((e.result === undefined) !== (e.complete === Infinity)) throw new Error('search: an op is indeterminate iff it never completes');
  }
}

export function search(ops: readonly SearchOp[], init: RegisterState, opts: SearchOptions): SearchOutcome {
  checkShape(ops);
  const n = ops.length;
  const at = (i: number): SearchOp => ops[i] as SearchOp;
  const det = (i: number): boolean => at(i).result !== undefined;
  const observed = opts.observed ?? observedValues(ops);
  const UNREAD = unreadValue(observed);
  const canon = (s: RegisterState): RegisterState =>
    s === null || s.value === UNREAD || observed.has(s.value) ? s : { value: UNREAD, version: s.version };
  const cands = new Candidates(ops);
  const classes = new IndeterminateClasses(ops, cands.indeterminateOrder(), observed);
  const placed = new LinearizedSet(n, cands.completionOrder(), classes);

  let state = canon(init);
  let states = 1;
  const stack = new Int32Array(n);
  const before: RegisterState[] = new Array<RegisterState>(n);
  const forced = new Uint8Array(n);
  let depth = 0, detDepth = 0, deepestDet = 0;
  let deepest = { path: [] as number[], state };
  const done = (verdict: SearchOutcome['verdict']): SearchOutcome => ({ verdict, states, deepest });

  // A determinate op that leaves the state alone (a read, a failed op) and whose result fits now
  // can be linearized right away without losing anything: in any successful continuation it can
  // be moved to the front (real time allows it, since it is a candidate, and nothing else sees
  // the difference). So such a configuration gets that one child and no branching: this is what
  // keeps many concurrent reads from costing 2^k subsets.
  const forcedCandidate = (): number => {
    for (const x of cands.determinate()) {
      const e = at(x);
      if (preservesState(e.op, e.result) && sameResult(step(state, e.op).result, e.result!)) return x;
    }
    return NIL;
  };

  /** Linearize `i` next, reaching `after`, unless a finished configuration covers that. */
  const descend = (i: number, after: RegisterState, isForced: boolean): boolean => {
    placed.place(i);
    if (placed.pruned(after)) {
      placed.unplace(i);
      return false;
    }
    states++;
    stack[depth] = i;
    before[depth] = state;
    forced[depth] = isForced ? 1 : 0;
    depth++;
    state = after;
    cands.lift(i);
    if (det(i)) detDepth++;
    // "Longest" counts determinate ops: indeterminate ones always fit somewhere, and a prefix
    // padded with them would blame the wrong state. Ties go to the shorter path.
    if (opts.trackDeepest === true && (detDepth > deepestDet || (detDepth === deepestDet && depth < deepest.path.length))) {
      deepestDet = detDepth;
      deepest = { path: Array.from(stack.subarray(0, depth)), state };
    }
    return true;
  };

  let cur = NIL;
  let fresh = true; // the current configuration was just entered
  for (;;) {
    if (states > opts.maxStates) return done('unknown');
    if (fresh) {
      fresh = false;
      cur = NIL;
      if (cands.allDone()) return done('linearizable');
      const f = forcedCandidate();
      if (f === NIL) cur = cands.first();
      else if (descend(f, state, true)) fresh = true;
      // else: the forced child is covered by a finished configuration, and so is this one.
      continue;
    }
    if (cur === NIL) {
      if (depth === 0) break;
      placed.finish(state);
      depth--;
      const i = stack[depth]!;
      state = before[depth] as RegisterState;
      if (det(i)) detDepth--;
      cands.unlift(i);
      placed.unplace(i);
      // A forced child was the configuration's only child.
      cur = forced[depth] === 1 ? NIL : cands.after(i);
      continue;
    }
    const e = at(cur);
    const isDet = e.result !== undefined;
    const blocked = !isDet && !classes.allowed(cur, state?.version, cands.limit());
    const { result, next } = blocked ? { result: undefined, next: state } : step(state, e.op);
    // A determinate op must return what it did; an indeterminate one is only worth placing where
    // it changes the state (failing, it is the same as leaving it out).
    if ((isDet ? sameResult(result!, e.result!) : next !== state) && descend(cur, next === state ? state : canon(next), false)) {
      fresh = true;
      continue;
    }
    cur = cands.after(cur);
  }
  return done('violation');
}
