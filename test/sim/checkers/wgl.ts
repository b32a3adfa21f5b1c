/**
 * The Wing & Gong search with Lowe's memoisation (the algorithm Porcupine uses), for the histories
 * of ONE register. A configuration is (set of ops linearized so far, model state); the search
 * extends it by any op that real time allows to go next and that the model accepts, depth first,
 * and never revisits a configuration: two paths that linearized the same ops and reached the same
 * state have identical futures, which is what keeps the search tractable.
 *
 * Real time: op `o` may be linearized next iff no other unlinearized op completed before `o` was
 * invoked, i.e. `o.invoke <= min(complete of unlinearized ops)`. Equal timestamps count as
 * concurrent (the clock is milliseconds; ordering them would invent violations). Indeterminate ops
 * have `complete = Infinity`: they never hold anyone back and are never required, so the search
 * succeeds once every determinate op is linearized (leaving an indeterminate op out is the same as
 * linearizing it after everything else, where nothing observes it).
 *
 * Unlinearized ops live in doubly linked lists (invocation order and completion order) that are
 * unlinked/relinked in LIFO order as the search descends/backtracks ("dancing links"), so the next
 * candidates and the earliest pending completion are found without scanning finished ops.
 *
 * Indeterminate ops are what make register histories expensive (each could be in or out, anywhere
 * after its invocation), so three exact reductions target them: never apply one where it would
 * fail (a no-op is the same as leaving it out), merge values nobody read, and linearize
 * interchangeable ones in invocation order only. Concurrent reads are the other classic blow-up;
 * they are linearized eagerly (see forcedCandidate).
 */
import { type RegisterOp, type RegisterResult, type RegisterState, preservesState, sameResult, stateKey, step } from './register-model.js';

export interface SearchOp {
  readonly op: RegisterOp;
  /** undefined: indeterminate, any outcome (including never happening) is acceptable. */
  readonly result: RegisterResult | undefined;
  readonly invoke: number;
  /** Infinity when indeterminate. */
  readonly complete: number;
}

export interface SearchOptions {
  /** Give up (verdict 'unknown') once this many distinct configurations have been visited. */
  readonly maxStates: number;
  /** 'first' stops at the first linearization; 'all' enumerates every reachable end state. */
  readonly mode?: 'first' | 'all';
  /** Record the linearized prefix with the most determinate ops (for explanations). */
  readonly trackDeepest?: boolean;
  /**
   * Values some determinate read returned. Others are merged into UNREAD (see below); searches
   * whose states are chained (explanations) must share one set. Default: from `ops`.
   */
  readonly observed?: ReadonlySet<string>;
}

export interface EndState {
  readonly state: RegisterState;
  /** Index of the last op that changed the state on the path that reached it, if any. */
  readonly lastWriter: number | undefined;
}

export interface SearchOutcome {
  readonly verdict: 'linearizable' | 'violation' | 'unknown';
  /** Distinct configurations visited. */
  readonly states: number;
  /** Distinct end states (mode 'all'; in mode 'first', the one found). */
  readonly endStates: EndState[];
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

const NIL = -1;

export function search(ops: readonly SearchOp[], init: RegisterState, opts: SearchOptions): SearchOutcome {
  const n = ops.length;
  const HEAD_DET = n, HEAD_IND = n + 1;
  const at = (i: number): SearchOp => ops[i] as SearchOp;
  const det = (i: number): boolean => at(i).result !== undefined;
  const observed = opts.observed ?? observedValues(ops);
  const UNREAD = unreadValue(observed);
  const canon = (s: RegisterState): RegisterState =>
    s === null || s.value === UNREAD || observed.has(s.value) ? s : { value: UNREAD, version: s.version };

  // Two invocation-ordered lists, determinate ops first: trying an indeterminate op only after
  // every determinate candidate keeps it out of the way until some op needs its effect.
  // Indeterminate ops never complete, so only determinate ones are in the completion list.
  const idx = Array.from({ length: n }, (_, i) => i);
  const byInvoke = (a: number, b: number): number => at(a).invoke - at(b).invoke || at(a).complete - at(b).complete || a - b;
  const detOrder = idx.filter(det).sort(byInvoke);
  const indOrder = idx.filter((i) => !det(i)).sort(byInvoke);
  const byComplete = [...detOrder].sort((a, b) => at(a).complete - at(b).complete || byInvoke(a, b));
  const invNext = new Int32Array(n + 2), invPrev = new Int32Array(n + 2);
  const cmpNext = new Int32Array(n + 1), cmpPrev = new Int32Array(n + 1);
  const link = (head: number, order: number[], next: Int32Array, prev: Int32Array): void => {
    let p = head;
    for (const i of order) { next[p] = i; prev[i] = p; p = i; }
    next[p] = NIL;
  };
  link(HEAD_DET, detOrder, invNext, invPrev);
  link(HEAD_IND, indOrder, invNext, invPrev);
  link(HEAD_DET, byComplete, cmpNext, cmpPrev);
  const unlink = (i: number, next: Int32Array, prev: Int32Array): void => {
    next[prev[i]!] = next[i]!;
    if (next[i] !== NIL) prev[next[i]!] = prev[i]!;
  };
  const relink = (i: number, next: Int32Array, prev: Int32Array): void => {
    next[prev[i]!] = i;
    if (next[i] !== NIL) prev[next[i]!] = i;
  };
  const lift = (i: number): void => { unlink(i, invNext, invPrev); if (det(i)) unlink(i, cmpNext, cmpPrev); };
  const unlift = (i: number): void => { relink(i, invNext, invPrev); if (det(i)) relink(i, cmpNext, cmpPrev); };
  const minComplete = (): number => (cmpNext[HEAD_DET] === NIL ? Infinity : at(cmpNext[HEAD_DET]!).complete);
  /** The candidate after `x` (a list head or an op): same list, then the indeterminate list. */
  const nextCandidate = (x: number): number => {
    const limit = minComplete();
    const y = invNext[x]!;
    if (y !== NIL && at(y).invoke <= limit) return y;
    if (x !== HEAD_DET && (x === HEAD_IND || !det(x))) return NIL;
    const z = invNext[HEAD_IND]!;
    return z !== NIL && at(z).invoke <= limit ? z : NIL;
  };

  // Indeterminate ops with the same effect on every state (same op; values merged as above) are
  // interchangeable; linearizing them only in invocation order prunes the permutations. Swapping
  // is sound: the earlier-invoked one may go wherever the later one may.
  const prevSame = new Int32Array(n).fill(NIL);
  const lastOfClass = new Map<string, number>();
  for (const i of indOrder) {
    const o = at(i).op;
    const value = 'value' in o ? (observed.has(o.value) ? `=${o.value}` : '?') : '';
    const cls = `${o.type}|${'expectedVersion' in o ? o.expectedVersion : ''}|${value}`;
    prevSame[i] = lastOfClass.get(cls) ?? NIL;
    lastOfClass.set(cls, i);
  }

  // The linearized set as 16-bit words, so a memo key is a compact exact string (no hash collisions
  // that could wrongly prune a configuration and report a false violation).
  const bits = new Uint16Array(Math.ceil(n / 16));
  const flip = (i: number): void => { bits[i >> 4] = (bits[i >> 4] ?? 0) ^ (1 << (i & 15)); };
  const has = (i: number): boolean => ((bits[i >> 4] ?? 0) & (1 << (i & 15))) !== 0;
  const memoKey = (s: RegisterState): string => `${String.fromCharCode(...bits)}|${stateKey(s)}`;
  let state = canon(init);
  const memo = new Set<string>([memoKey(state)]);

  const stack = new Int32Array(n);
  const before: RegisterState[] = new Array<RegisterState>(n);
  let depth = 0, detDepth = 0, deepestDet = 0;
  let deepest = { path: [] as number[], state };
  const ends = new Map<string, EndState>();
  const done = (verdict: SearchOutcome['verdict']): SearchOutcome => ({ verdict, states: memo.size, endStates: [...ends.values()], deepest });
  const allDone = (): boolean => cmpNext[HEAD_DET] === NIL;

  const recordEnd = (): void => {
    const k = stateKey(state);
    if (ends.has(k)) return;
    // Only a state-changing op is ever pushed with a new state object, so identity finds the writer.
    let writer: number | undefined;
    for (let d = depth - 1; d >= 0 && writer === undefined; d--) {
      const after = d === depth - 1 ? state : before[d + 1];
      if (after !== before[d]) writer = stack[d];
    }
    ends.set(k, { state, lastWriter: writer });
  };

  // A determinate op that leaves the state alone (a read, a failed op) and whose result fits now
  // can be linearized right away without losing anything: in any successful continuation it can
  // be moved to the front (real time allows it, since it is a candidate, and nothing else sees
  // the difference). So such a config gets that one child and no branching: this is what keeps
  // many concurrent reads from costing 2^k subsets.
  const forcedCandidate = (): number => {
    const limit = minComplete();
    for (let x = invNext[HEAD_DET]!; x !== NIL && at(x).invoke <= limit; x = invNext[x]!) {
      const e = at(x);
      if (preservesState(e.op, e.result) && sameResult(step(state, e.op).result, e.result!)) return x;
    }
    return NIL;
  };
  const forced = new Uint8Array(n);
  /** Linearize `i` next, reaching `after`, unless that configuration was seen before. */
  const descend = (i: number, after: RegisterState, isForced: boolean): boolean => {
    flip(i);
    const k = memoKey(after);
    if (memo.has(k)) {
      flip(i);
      return false;
    }
    memo.add(k);
    stack[depth] = i;
    before[depth] = state;
    forced[depth] = isForced ? 1 : 0;
    depth++;
    state = after;
    lift(i);
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
    if (memo.size > opts.maxStates) return done('unknown');
    if (fresh) {
      fresh = false;
      cur = NIL;
      if (allDone()) {
        recordEnd();
        if (opts.mode !== 'all') return done('linearizable');
        // Extensions would only add optional ops after everything else; callers treat those
        // ops as still pending, so the end states recorded here suffice.
      } else {
        const f = forcedCandidate();
        if (f === NIL) cur = nextCandidate(HEAD_DET);
        else if (descend(f, state, true)) fresh = true;
        // else: the forced child was explored before, so this configuration adds nothing.
      }
      continue;
    }
    if (cur === NIL) {
      if (depth === 0) break;
      depth--;
      const i = stack[depth]!;
      state = before[depth] as RegisterState;
      if (det(i)) detDepth--;
      unlift(i);
      flip(i);
      // A forced child was the configuration's only child.
      cur = forced[depth] === 1 ? NIL : nextCandidate(i);
      continue;
    }
    const e = at(cur);
    const isDet = e.result !== undefined;
    // An indeterminate op that would fail here changes nothing: the same as leaving it out.
    const blocked = !isDet && prevSame[cur] !== NIL && !has(prevSame[cur]!);
    const { result, next } = blocked ? { result: undefined, next: state } : step(state, e.op);
    if ((isDet ? sameResult(result!, e.result!) : next !== state) && descend(cur, next === state ? state : canon(next), false)) {
      fresh = true;
      continue;
    }
    cur = nextCandidate(cur);
  }
  return done(ends.size > 0 ? 'linearizable' : 'violation');
}
