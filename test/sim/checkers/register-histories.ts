/**
 * Random register histories that are linearizable by construction, for testing the checker: the
 * model is run sequentially, each op at a chosen linearization point, and each op is given an
 * invocation..completion window around that point. Indeterminate ops (no result) took effect or
 * not, at random.
 */
import type { Prng } from '../prng.js';
import { type HistoryOp, type RegisterOp, type RegisterResult, type RegisterState, Op, Res, step } from './register-model.js';

interface Planned {
  readonly h: HistoryOp;
  /** When it takes effect; undefined: never. */
  readonly at: number | undefined;
}

/** Apply the planned ops in linearization order, filling in the determinate ones' results. */
function settle(planned: Planned[], onResult?: (key: string, r: RegisterResult) => void): HistoryOp[] {
  const state = new Map<string, RegisterState>();
  for (const p of [...planned].filter((x) => x.at !== undefined).sort((a, b) => (a.at as number) - (b.at as number))) {
    const { result, next } = step(state.get(p.h.key) ?? null, p.h.op);
    state.set(p.h.key, next);
    if (p.h.completeMs !== undefined) p.h.result = result;
    onResult?.(p.h.key, result);
  }
  return planned.map((p) => p.h);
}

/** An op of the usual mix; versions guessed from `version` (the last one seen), values unique unless `values` given. */
function randomOp(rng: Prng, i: number, version: number | undefined, values?: number): RegisterOp {
  const value = values === undefined ? `v${i}` : `v${rng.int(1, values)}`;
  const ver = (): number => (rng.chance(0.35) ? -1 : Math.max(0, (version ?? 0) + (rng.chance(0.75) ? 0 : rng.int(-1, 1))));
  const roll = rng.next();
  if (roll < 0.3) return Op.read();
  if (roll < 0.45) return Op.create(value);
  return roll < 0.8 ? Op.set(value, ver()) : Op.delete(ver());
}

/**
 * Linearization points 1..3 ms apart; each op's window reaches up to `window` ms either side of
 * its point, so large windows make many ops concurrent.
 */
export function windowedHistory(rng: Prng, o: { ops: number; keys: readonly string[]; window: number; pIndet: number; values?: number }): HistoryOp[] {
  const state = new Map<string, RegisterState>();
  const out: HistoryOp[] = [];
  let t = 0;
  for (let i = 1; i <= o.ops; i++) {
    t += rng.int(1, 3);
    const key = rng.pick(o.keys);
    const s = state.get(key) ?? null;
    const h: HistoryOp = { id: i, client: `c${rng.int(1, 8)}`, key, op: randomOp(rng, i, s?.version, o.values), invokeMs: t - rng.int(0, o.window) };
    // Points increase with i, so running the model in generation order is linearization order.
    const { result, next } = step(s, h.op);
    const indet = rng.chance(o.pIndet);
    if (!indet || rng.chance(0.5)) state.set(key, next);
    if (!indet) Object.assign(h, { completeMs: t + rng.int(0, o.window), result });
    out.push(h);
  }
  return out;
}

/**
 * Jepsen-style: each client has one op outstanding at a time, taking effect at a random point of
 * its 1..30 ms window (an indeterminate one at any point up to three windows later, or never).
 */
export function clientHistory(rng: Prng, o: { ops: number; clients: number; keys: readonly string[]; pIndet: number }): HistoryOp[] {
  const free = Array.from({ length: o.clients }, () => rng.int(0, 10));
  const version = new Map<string, number>();
  const planned: Planned[] = [];
  for (let i = 1; i <= o.ops; i++) {
    let c = 0;
    for (let j = 1; j < o.clients; j++) if ((free[j] as number) < (free[c] as number)) c = j;
    const t0 = free[c] as number;
    const dur = rng.int(1, 30);
    const key = rng.pick(o.keys);
    const h: HistoryOp = { id: i, client: `c${c}`, key, op: randomOp(rng, i, version.get(key)), invokeMs: t0 };
    const indet = rng.chance(o.pIndet);
    if (!indet) h.completeMs = t0 + dur;
    planned.push({ h, at: indet ? (rng.chance(0.5) ? t0 + rng.int(0, 3 * dur) : undefined) : t0 + rng.int(0, dur) });
    free[c] = t0 + dur + rng.int(0, 5);
  }
  return settle(planned, (key, r) => {
    if (r.type === 'written' || r.type === 'data') version.set(key, r.version);
  });
}

/** A result of the right shape for `op`, usually different from `r`: may or may not be explainable. */
export function corruptResult(rng: Prng, op: RegisterOp, r: RegisterResult): RegisterResult {
  switch (op.type) {
    case 'read':
      return r.type === 'data' && rng.chance(0.3) ? Res.err('NONODE') : Res.data(`v${rng.int(1, 3)}`, rng.int(0, 3));
    case 'create':
      return r.type === 'ok' ? Res.err('NODEEXISTS') : Res.ok();
    case 'set':
      return r.type === 'written' && rng.chance(0.5) ? Res.written(r.version + rng.pick([-1, 1])) : Res.err(rng.pick(['BADVERSION', 'NONODE'] as const));
    case 'delete':
      return r.type === 'ok' ? Res.err(rng.pick(['BADVERSION', 'NONODE'] as const)) : Res.ok();
  }
}
