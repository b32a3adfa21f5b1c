/**
 * Many seeded runs, with a summary. Usage:
 *   node --import tsx test/sim/run-many.ts --seeds 5000 [--from 1] [--size 3] [--stop-on-failure]
 * Each failure prints its seed and scenario; SIM_SEED=<n> with sim.test.ts replays one.
 */
import { runSeed, type RunResult } from './random-run.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seeds = Number(arg('seeds') ?? 1000);
const from = Number(arg('from') ?? 1);
const size = arg('size') === undefined ? undefined : Number(arg('size'));
const stop = process.argv.includes('--stop-on-failure');

const t0 = Date.now();
const results: RunResult[] = [];
const failures: string[] = [];
for (let seed = from; seed < from + seeds; seed++) {
  try {
    results.push(runSeed(seed, size === undefined ? {} : { n: size }));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    failures.push(msg);
    console.log(`FAIL ${msg}`);
    if (stop) break;
  }
  if ((seed - from + 1) % 500 === 0) console.log(`... ${seed - from + 1} seeds, ${failures.length} failures, ${Math.round((Date.now() - t0) / 1000)} s`);
}

const byScenario = new Map<string, number>();
for (const r of results) byScenario.set(r.scenario.replace(/\/n=\d+$/, ''), (byScenario.get(r.scenario.replace(/\/n=\d+$/, '')) ?? 0) + 1);
const bySize = new Map<number, number>();
for (const r of results) bySize.set(r.n, (bySize.get(r.n) ?? 0) + 1);
const sum = (f: (r: RunResult) => number): number => results.reduce((a, r) => a + f(r), 0);
const maxLive = results.reduce((a, r) => Math.max(a, r.livenessTicks), 0);
console.log(`\n${results.length + failures.length} seeds (${from}..${from + seeds - 1}) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${results.length} passed, ${failures.length} failed`);
console.log(`  by profile: ${[...byScenario].map(([k, v]) => `${k}=${v}`).join(' ')}`);
console.log(`  by size: ${[...bySize].sort((a, b) => a[0] - b[0]).map(([k, v]) => `n=${k}:${v}`).join(' ')}`);
console.log(`  committed txns: ${sum((r) => r.committed)}, client-acked: ${sum((r) => r.acked)}, established epochs: ${sum((r) => r.epochs)}`);
console.log(`  liveness phase: mean ${(sum((r) => r.livenessTicks) / Math.max(1, results.length)).toFixed(1)} ticks to converge, max ${maxLive}`);
if (failures.length > 0) process.exitCode = 1;
