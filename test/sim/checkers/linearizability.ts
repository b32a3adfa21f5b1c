/**
 * Linearizability checker for client histories on znodes used as registers. It sits outside the
 * code under test: it knows only what clients sent and were told, and the ZooKeeper semantics in
 * register-model.ts.
 *
 * Keys are checked independently (linearizability is compositional: a history is linearizable iff
 * each object's sub-history is), each by the WGL search in wgl.ts. On a violation the failing key's
 * history is shrunk to a short witness (explain.ts) and printed.
 *
 * Timestamps: an op that completed strictly before another was invoked must be linearized first;
 * equal timestamps count as concurrent. An op without a `result` is indeterminate (its
 * `completeMs`, if any, is ignored): it may have taken effect at any time after its invocation,
 * or never. Indeterminate reads carry no information and are discarded.
 */
import { type Entry, describe, shrink } from './explain.js';
import { type HistoryOp, formatHistoryOp, resultFits } from './register-model.js';
import { decide } from './search.js';
import { observedValues } from './wgl.js';

export { type HistoryOp, type RegisterOp, type RegisterResult, type RegisterState, type ZkErrorCode, Op, Res, formatHistoryOp } from './register-model.js';

export interface CheckOptions {
  /** Per-key cap on distinct search configurations before answering 'unknown'. Default 2,000,000. */
  maxStates?: number;
  /** Shrink and describe a violation (default true). Off: `explanation` holds only a summary. */
  explain?: boolean;
  /** Total configurations the shrinking may visit. Default 4 × maxStates. */
  maxExplainStates?: number;
}

export type CheckResult =
  | { ok: true }
  /** `witness`: the ops of the shrunk failing sub-history, in invocation order. */
  | { ok: false; key: string; explanation: string[]; witness: HistoryOp[] }
  /** The search for `key` visited more than `maxStates` configurations without a verdict. */
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
    const out = decide(entries, null, { maxStates, observed: observedValues(entries) });
    if (out.verdict === 'violation') return violation(key, entries, opts, maxStates);
    if (out.verdict === 'unknown' && unknown === undefined) {
      const open = entries.filter((e) => e.result === undefined).length;
      unknown = {
        ok: 'unknown',
        key,
        states: out.states,
        explanation: [
          `key ${JSON.stringify(key)}: gave up after ${out.states} search states (maxStates ${maxStates});`,
          `  ${entries.length} ops, ${open} indeterminate; the longest linearizable prefix found covers ${out.deepest.path.length} of them`,
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
  const w = shrink(entries, opts.maxExplainStates ?? 4 * maxStates, maxStates);
  return { ok: false, key, witness: w.ops.map((e) => e.src), explanation: describe(key, entries.length, w, maxStates) };
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
