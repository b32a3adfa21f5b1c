/**
 * Linearizability checker for client histories on znodes used as registers. It sits outside the
 * code under test: it knows only what clients sent and were told, and the ZooKeeper semantics in
 * register-model.ts.
 *
 * Keys are checked independently (linearizability is compositional: a history is linearizable iff
 * each object's sub-history is). Each key's history goes to search.ts, which runs the WGL search
 * (wgl.ts, with wgl-candidates.ts and wgl-memo.ts) and, if that runs long, the time-ordered
 * frontier search (jit.ts). On a violation the key's history is shrunk to a short witness
 * (shrink.ts) and printed (explain.ts).
 *
 * Timestamps: an op that completed strictly before another was invoked must be linearized first;
 * equal timestamps count as concurrent. An op without a `result` is indeterminate (its
 * `completeMs`, if any, is ignored): it may have taken effect at any time after its invocation,
 * or never. Indeterminate reads carry no information and are discarded.
 *
 * 'unknown' means no verdict within the budget (CheckOptions.maxStates), nothing more: it is
 * neither a pass nor a failure. The histories that get there are long single-key runs with many
 * ops in flight at once and many indeterminate ones; more keys, fewer concurrent clients or
 * shorter runs per key avoid it.
 */
import { describe } from './explain.js';
import { type Entry, shrink } from './shrink.js';
import { type HistoryOp, formatHistoryOp, resultFits } from './register-model.js';
import { decide } from './search.js';
import { observedValues } from './wgl.js';

export { type HistoryOp, type RegisterOp, type RegisterResult, type RegisterState, type ZkErrorCode, Op, Res, formatHistoryOp } from './register-model.js';

export interface CheckOptions {
  /**
   * Cap on configurations per search run before giving up; default 2,000,000. A key is 'unknown'
   * when both engines hit it (search.ts: at most 20,000 + 2 × maxStates in all).
   */
  maxStates?: number;
  /** Shrink and describe a violation (default true). Off: `explanation` holds only a summary. */
  explain?: boolean;
  /**
   * Configurations the shrinking may visit in all (default maxStates). When spent, the
   * witness is whatever it has shrunk to by then: still a sound witness, just longer.
   */
  maxExplainStates?: number;
}

export type CheckResult =
  | { ok: true }
  /** `witness`: the ops of the shrunk failing sub-history, in invocation order. */
  | { ok: false; key: string; explanation: string[]; witness: HistoryOp[] }
  /** The searches for `key` ran out of configurations without a verdict (see maxStates). */
  | { ok: 'unknown'; key: string; explanation: string[]; states: number };

export const DEFAULT_MAX_STATES = 2_000_000;

export function checkLinearizable(history: readonly HistoryOp[], opts: CheckOptions = {}): CheckResult {
  const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
  const byKey = new Map<string, HistoryOp[]>();
  for (const h of history) {
    const list = byKey.get(h.key);
    if (list === undefined) byKey.set(h.key, [h]);
    else list.push(h);
  }
  // A definite violation on any key outranks an 'unknown' on another, so keep looking.
  let unknown: CheckResult | undefined;
  for (const [key, ops] of byKey) {
    const entries = prepare(ops);
    const out = decide(entries, null, { maxStates, observed: observedValues(entries), trackDeepest: true });
    if (out.verdict === 'violation') return violation(key, entries, opts, maxStates);
    if (out.verdict === 'unknown' && unknown === undefined) {
      // Where it got stuck: the longest prefix found, and the first completion it never got past.
      const det = entries.filter((e) => e.result !== undefined);
      const placed = new Set(out.deepest.path.map((i) => entries[i]));
      const stuck = Math.min(...det.filter((e) => !placed.has(e)).map((e) => e.complete));
      unknown = {
        ok: 'unknown',
        key,
        states: out.states,
        explanation: [
          `key ${JSON.stringify(key)}: no verdict after ${out.states} search states (maxStates ${maxStates} per search);`,
          `  ${entries.length} ops, ${entries.length - det.length} indeterminate; the longest linearizable prefix found`,
          `  places ${placed.size} ops, ${det.length - [...placed].filter((e) => e?.result !== undefined).length} determinate ones left, the first completing at ${stuck} ms`,
        ],
      };
    }
  }
  return unknown ?? { ok: true };
}

function violation(key: string, entries: Entry[], opts: CheckOptions, maxStates: number): CheckResult {
  if (opts.explain === false) {
    return { ok: false, key, witness: entries.map((e) => e.src), explanation: [`key ${JSON.stringify(key)}: not linearizable (${entries.length} ops)`] };
  }
  const w = shrink(entries, opts.maxExplainStates ?? maxStates, maxStates);
  const { lines, shown } = describe(key, entries.length, w, maxStates);
  return { ok: false, key, witness: shown, explanation: lines };
}

/** Validate and convert one key's ops. A malformed op is a bug in the harness, so it throws. */
function prepare(ops: readonly HistoryOp[]): Entry[] {
  const out: Entry[] = [];
  for (const h of ops) {
    const bad = (why: string): never => {
      throw new Error(`linearizability: malformed history op (${why}): ${formatHistoryOp(h)}`);
    };
    if (!Number.isFinite(h.invokeMs)) bad('invokeMs is not a finite number');
    if (h.result === undefined) {
      if (h.op.type !== 'read') out.push({ op: h.op, result: undefined, invoke: h.invokeMs, complete: Infinity, src: h });
      continue;
    }
    if (h.completeMs === undefined || !Number.isFinite(h.completeMs)) bad('a result without a completion time');
    else if (h.completeMs < h.invokeMs) bad('completes before it is invoked');
    if (!resultFits(h.op, h.result)) bad(`${h.op.type} cannot return ${h.result.type}`);
    out.push({ op: h.op, result: h.result, invoke: h.invokeMs, complete: h.completeMs as number, src: h });
  }
  return out;
}
