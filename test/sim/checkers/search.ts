/**
 * One verdict from the two engines. Depth-first WGL (wgl.ts) goes first with a small budget: on a
 * linearizable history it stops at the first linearization, usually quickly. Then the
 * time-ordered frontier search (jit.ts), which proves violations amid indeterminate ops far more
 * cheaply (WGL must exhaust every configuration, some many times over). If that runs out too,
 * WGL gets the full budget as a last try.
 */
import { searchJit } from './jit.js';
import type { RegisterState } from './register-model.js';
import { type SearchOp, type SearchOptions, type SearchOutcome, search } from './wgl.js';

const FIRST_TRY = 20_000;

/** Runs at most three searches of up to `maxStates` configurations each. */
export function decide(ops: readonly SearchOp[], init: RegisterState, opts: SearchOptions): SearchOutcome {
  let states = 0;
  const tries = [
    () => search(ops, init, { ...opts, maxStates: Math.min(opts.maxStates, FIRST_TRY) }),
    () => searchJit(ops, init, opts),
    () => search(ops, init, opts),
  ];
  let out: SearchOutcome | undefined;
  for (const attempt of opts.maxStates > FIRST_TRY ? tries : tries.slice(0, 2)) {
    out = attempt();
    states += out.states;
    if (out.verdict !== 'unknown') break;
  }
  return { ...(out as SearchOutcome), states };
}
