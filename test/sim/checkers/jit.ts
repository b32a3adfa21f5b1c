/**
 * The second search engine: "just in time" linearization (Lowe), the same configurations as the
 * WGL search (ops linearized, model state) but explored in real-time order. It walks the history's
 * events and keeps the FRONTIER: every configuration the history so far can be in. An op is
 * linearized only when something forces it: its own completion (it must take effect before it
 * returns), possibly with other pending ops and indeterminate ones before it. Completed ops are
 * dropped from a configuration, so it is (state, pending ops linearized early, indeterminate ops
 * used per class), and a configuration covered by another in the frontier (same state and early
 * ops, fewer indeterminate ops left; see IndeterminateClasses.covers) is dropped.
 *
 * Why a second engine: depth-first WGL proves a violation only by exhausting every configuration,
 * and it can reach the same point first through a path that used more indeterminate ops, then
 * again through one that used fewer, re-exploring everything after it each time. Walking in time
 * order compares such configurations before going on. WGL stays first (search.ts) because on a
 * linearizable history it stops at the first linearization found.
 *
 * The reductions of wgl.ts apply unchanged: reads and failed ops that fit are linearized at once,
 * indeterminate ops only where they change the state and in class order, unread values merged.
 */
import { type RegisterState, preservesState, sameResult, stateKey, step } from './register-model.js';
import { IndeterminateClasses } from './wgl-memo.js';
import { type SearchOp, type SearchOptions, type SearchOutcome, checkShape, observedValues, unreadValue } from './wgl.js';

interface Path {
  readonly op: number;
  readonly prev: Path | null;
}

interface Config {
  readonly state: RegisterState;
  /** Determinate ops linearized but not yet completed, ascending. */
  readonly early: readonly number[];
  /** Indeterminate ops placed, per class. */
  readonly counts: Int32Array;
  /** Determinate ops linearized so far (for the longest prefix). */
  readonly det: number;
  readonly path: Path | null;
  /** The last op that changed the state. */
  readonly writer: number | undefined;
}

/** Configurations by (early ops, state), keeping only those that no other covers. */
class ConfigSet {
  private readonly map = new Map<string, Config[]>();
  constructor(private readonly classes: IndeterminateClasses) {}

  has(c: Config): boolean {
    return this.map.get(key(c))?.includes(c) ?? false;
  }

  covered(c: Config): boolean {
    return this.map.get(key(c))?.some((o) => this.classes.covers(o.counts, c.counts)) ?? false;
  }

  /** Add `c` unless covered; drop entries it covers. */
  add(c: Config): void {
    const k = key(c);
    const list = this.map.get(k) ?? [];
    if (list.some((o) => this.classes.covers(o.counts, c.counts))) return;
    this.map.set(k, [...list.filter((o) => !this.classes.covers(c.counts, o.counts)), c]);
  }

  values(): Config[] {
    return [...this.map.values()].flat();
  }
}

const key = (c: Config): string => `${c.early.join(',')}|${stateKey(c.state)}`;

function pathArray(p: Path | null): number[] {
  const out: number[] = [];
  for (let q = p; q !== null; q = q.prev) out.push(q.op);
  return out.reverse();
}

class OutOfStates extends Error {}

/** A state the register can be in at some point, and the op that wrote it (for explanations). */
export interface ReachableState {
  readonly state: RegisterState;
  readonly writer: number | undefined;
}

export function searchJit(ops: readonly SearchOp[], init: RegisterState, opts: SearchOptions): SearchOutcome {
  return run(ops, init, opts, []).outcome;
}

/**
 * For each cut time, the states the register can be in just before it: after every op that
 * completed before the cut, and any of the ops running across it or invoked before it but
 * indeterminate (states after some of those only are not listed: callers keep those ops as
 * optional). Undefined if the budget ran out; a cut after a violation maps to [].
 */
export function statesAtCuts(ops: readonly SearchOp[], init: RegisterState, cuts: readonly number[], opts: SearchOptions): Map<number, ReachableState[]> | undefined {
  const r = run(ops, init, opts, cuts);
  return r.outcome.verdict === 'unknown' ? undefined : r.snapshots;
}

function run(ops: readonly SearchOp[], init: RegisterState, opts: SearchOptions, cuts: readonly number[]): { outcome: SearchOutcome; snapshots: Map<number, ReachableState[]> } {
  checkShape(ops);
  const at = (i: number): SearchOp => ops[i] as SearchOp;
  const observed = opts.observed ?? observedValues(ops);
  const UNREAD = unreadValue(observed);
  const canon = (s: RegisterState): RegisterState =>
    s === null || s.value === UNREAD || observed.has(s.value) ? s : { value: UNREAD, version: s.version };
  const idx = Array.from({ length: ops.length }, (_, i) => i);
  const byInvoke = (a: number, b: number): number => at(a).invoke - at(b).invoke || a - b;
  const classes = new IndeterminateClasses(ops, idx.filter((i) => at(i).result === undefined).sort(byInvoke), observed);

  // Events: invocations before completions at equal times (equal timestamps are concurrent).
  const events: { t: number; complete: boolean; i: number }[] = [];
  for (const i of idx) {
    events.push({ t: at(i).invoke, complete: false, i });
    if (at(i).result !== undefined) events.push({ t: at(i).complete, complete: true, i });
  }
  events.sort((a, b) => a.t - b.t || Number(a.complete) - Number(b.complete) || a.i - b.i);

  let states = 0;
  let best: Config | undefined;
  const seen = (c: Config): void => {
    if (++states > opts.maxStates) throw new OutOfStates();
    if (best === undefined || c.det > best.det) best = c;
  };
  const snapshots = new Map<number, ReachableState[]>();
  const snapshot = (cut: number, frontier: readonly Config[]): void => {
    const distinct = new Map<string, ReachableState>();
    for (const c of frontier) if (!distinct.has(stateKey(c.state))) distinct.set(stateKey(c.state), { state: c.state, writer: c.writer });
    snapshots.set(cut, [...distinct.values()]);
  };
  const pendingCuts = [...cuts].sort((a, b) => a - b);
  const outcome = (verdict: SearchOutcome['verdict']): { outcome: SearchOutcome; snapshots: Map<number, ReachableState[]> } => {
    const b = opts.trackDeepest === true ? best : undefined;
    return { outcome: { verdict, states, deepest: { path: pathArray(b?.path ?? null), state: b?.state ?? canon(init) } }, snapshots };
  };

  const pending: number[] = []; // determinate ops invoked and not completed, by invocation
  let now = -Infinity;
  const extend = (c: Config, i: number, next: RegisterState): Config => {
    const isDet = at(i).result !== undefined;
    let counts = c.counts;
    if (!isDet) {
      counts = Int32Array.from(counts);
      counts[classes.classOf(i)]! += 1;
    }
    return {
      state: next === c.state ? c.state : canon(next),
      early: isDet ? [...c.early, i].sort((a, b) => a - b) : c.early,
      counts,
      det: c.det + (isDet ? 1 : 0),
      path: { op: i, prev: c.path },
      writer: next === c.state ? c.writer : i,
    };
  };
  const fits = (c: Config, i: number): RegisterState | undefined => {
    const { result, next } = step(c.state, at(i).op);
    return sameResult(result, at(i).result!) ? next : undefined;
  };

  /**
   * The frontier after determinate op `x` completes: from each configuration, every way to
   * linearize `x` (other ops may go first). Explored breadth first, fewest ops added first, so a
   * configuration is met before those it covers (e.g. itself plus an indeterminate create and
   * delete), which are then skipped: their every continuation is covered by its continuations.
   */
  const complete = (frontier: readonly Config[], x: number): Config[] => {
    const out = new ConfigSet(classes);
    const visited = new ConfigSet(classes);
    const queue: Config[] = [];
    const enqueue = (c: Config): void => {
      if (visited.covered(c)) return;
      visited.add(c);
      queue.push(c);
    };
    for (const c of frontier) {
      if (c.early.includes(x)) out.add({ ...c, early: c.early.filter((e) => e !== x) });
      else enqueue(c);
    }
    for (let q = 0; q < queue.length; q++) {
      const cur = queue[q] as Config;
      if (!visited.has(cur)) continue; // something met later covers it
      seen(cur);
      const child = (i: number, next: RegisterState): void => {
        const n = extend(cur, i, next);
        if (i !== x) return enqueue(n);
        const done = { ...n, early: n.early.filter((e) => e !== x) };
        seen(done);
        out.add(done);
      };
      const open = pending.filter((i) => !cur.early.includes(i));
      // A read or failed op that fits now goes now, alone (see forcedCandidate in wgl.ts).
      const forced = open.find((i) => preservesState(at(i).op, at(i).result) && fits(cur, i) !== undefined);
      if (forced !== undefined) {
        child(forced, cur.state);
        continue;
      }
      for (const i of open) {
        const next = fits(cur, i);
        if (next !== undefined) child(i, next);
      }
      for (const i of classes.nextOfEach(cur.counts)) {
        if (i === undefined || at(i).invoke > now || !classes.allowed(i, cur.state?.version, now, cur.counts)) continue;
        const next = step(cur.state, at(i).op).next;
        if (next !== cur.state) child(i, next);
      }
    }
    return out.values();
  };

  let frontier: Config[] = [{ state: canon(init), early: [], counts: new Int32Array(classes.count), det: 0, path: null, writer: undefined }];
  try {
    seen(frontier[0] as Config);
    for (const ev of events) {
      while (pendingCuts.length > 0 && (pendingCuts[0] as number) <= ev.t) snapshot(pendingCuts.shift() as number, frontier);
      now = ev.t;
      if (at(ev.i).result === undefined) continue; // an indeterminate op is available from `now` on
      if (!ev.complete) {
        pending.push(ev.i);
        continue;
      }
      frontier = complete(frontier, ev.i);
      pending.splice(pending.indexOf(ev.i), 1);
      if (frontier.length === 0) {
        for (const cut of pendingCuts) snapshots.set(cut, []);
        return outcome('violation');
      }
    }
  } catch (err) {
    if (err instanceof OutOfStates) return outcome('unknown');
    throw err;
  }
  for (const cut of pendingCuts) snapshot(cut, frontier);
  return outcome('linearizable');
}
