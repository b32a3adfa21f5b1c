/**
 * `npm run sim -- --seeds N [--seed S] [--nodes 3|5] [--from F] [--profile P]`: seeded runs of
 * the real server cluster under faults (test/sim/world). The last line is
 * `seeds: N, violations: V`; a failing seed prints its shortest history and how to replay it.
 */
import { runSeed, SimViolation, type SeedResult } from './world/run-seed.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function num(name: string, def: number | undefined): number | undefined {
  const v = arg(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a whole number, got ${JSON.stringify(v)}\nusage: npm run sim -- --seeds N [--seed S] [--nodes 3|5] [--from F] [--profile P]\n`);
    process.exit(2);
  }
  return n;
}

const only = num('seed', undefined);
const seeds = only !== undefined ? 1 : (num('seeds', 100) ?? 100);
const from = only ?? num('from', 1) ?? 1;
const nodesArg = num('nodes', undefined);
if (nodesArg !== undefined && nodesArg !== 3 && nodesArg !== 5) {
  process.stderr.write('--nodes must be 3 or 5\n');
  process.exit(2);
}
const profile = arg('profile');

const t0 = performance.now();
let violations = 0;
const results: SeedResult[] = [];
for (let seed = from; seed < from + seeds; seed++) {
  try {
    const r = await runSeed(seed, { ...(nodesArg ? { nodes: nodesArg as 3 | 5 } : {}), ...(profile ? { profile } : {}) });
    results.push(r);
    if (only !== undefined) console.log(JSON.stringify(r));
  } catch (e) {
    violations++;
    console.log(e instanceof SimViolation ? e.message : `seed ${seed}: ${(e as Error).stack}`);
  }
  const done = seed - from + 1;
  if (done % 25 === 0 || done === seeds) process.stderr.write(`... ${done}/${seeds} seeds, ${violations} violations, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
const secs = (performance.now() - t0) / 1000;
const sum = (f: (r: SeedResult) => number) => results.reduce((a, r) => a + f(r), 0);
console.log(`${results.length} passed in ${secs.toFixed(1)} s (${(seeds / secs).toFixed(2)} seeds/s); register ops ${sum((r) => r.ops)}, acked creates ${sum((r) => r.acked)}, elections ${sum((r) => r.elections)}, simulated ${(sum((r) => r.simMs) / 1000).toFixed(0)} s`);
console.log(`seeds: ${seeds}, violations: ${violations}`);
process.exitCode = violations > 0 ? 1 : 0;
