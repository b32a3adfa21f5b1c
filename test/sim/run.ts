/**
 * `npm run sim -- --seeds N [--seed S] [--nodes 3|5] [--from F] [--profile P] [--workers W] [--handoffs]`
 * runs seeded random runs of the real server cluster under faults (test/sim/world), in W
 * processes at once (each seed is deterministic, so splitting the range changes nothing but
 * the wall time); `--scenarios` runs the named scenarios instead (`--scenario NAME` one of
 * them; with `--seeds N`, each on seeds 1..N). `--handoffs` makes the election candidates use priorities and named handoffs. The last line is `seeds: N, violations: V`; a failing seed prints its shortest
 * history and how to replay it.
 */
import { spawn } from 'node:child_process';
import { SCENARIOS as DEFECT_SCENARIOS } from './world/scenarios.js';
import { ZK_BUG_SCENARIOS } from './world/zk-bug-scenarios.js';
import { SNAP_SCENARIOS } from './world/snap-scenarios.js';
import { runSeed, SimViolation, type SeedResult } from './world/run-seed.js';

const SCENARIOS = [...DEFECT_SCENARIOS, ...ZK_BUG_SCENARIOS, ...SNAP_SCENARIOS];

const USAGE = 'usage: npm run sim -- [--seeds N] [--seed S] [--from F] [--nodes 3|5] [--profile P] [--workers W] [--handoffs] [--scenarios | --scenario NAME] [--stop-on-violation]';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function num(name: string, def: number | undefined): number | undefined {
  const v = arg(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) usage(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
}
function usage(why: string): never {
  process.stderr.write(`${why}\n${USAGE}\n`);
  process.exit(2);
}

const known = new Set(['--seeds', '--seed', '--from', '--nodes', '--profile', '--workers', '--scenarios', '--scenario', '--stop-on-violation', '--handoffs']);
for (const a of process.argv.slice(2)) if (a.startsWith('--') && !known.has(a)) usage(`unknown option ${a}`);
const stopEarly = process.argv.includes('--stop-on-violation');
const only = num('seed', undefined);
const t0 = performance.now();
let violations = 0;
let count = 0;

const scenarioName = arg('scenario');
if (process.argv.includes('--scenarios') || scenarioName !== undefined) {
  // A name or its beginning ('ZOOKEEPER-1156' selects 'ZOOKEEPER-1156: TRUNC removes ...').
  const list = scenarioName === undefined ? SCENARIOS : SCENARIOS.filter((s) => s.name === scenarioName || s.name.startsWith(scenarioName));
  if (list.length === 0) usage(`no scenario ${JSON.stringify(scenarioName)}; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  // Seed 1 unless told: `--seed S`, or `--seeds N [--from F]` for a scenario whose outcome
  // depends on the seed's draws (a mutant it catches on some seeds only).
  const first = only ?? num('from', 1) ?? 1;
  const seedList = Array.from({ length: only !== undefined ? 1 : (num('seeds', 1) ?? 1) }, (_, i) => first + i);
  scenarios: for (const s of list) {
    for (const seed of seedList) {
      count++;
      try {
        await s.run(seed);
        console.log(`ok   ${s.name}${seedList.length > 1 ? ` (seed ${seed})` : ''}: ${s.about}`);
      } catch (e) {
        violations++;
        console.log(`FAIL ${s.name} (seed ${seed}): ${(e as Error).message}\n  replay: npm run sim -- --scenario ${s.name} --seed ${seed}`);
        if (stopEarly) break scenarios;
      }
    }
  }
} else if ((num('workers', 1) ?? 1) > 1 && only === undefined) {
  // Split the seed range over worker processes; each prints its failures and a summary line.
  const workers = num('workers', 1)!;
  const seeds = num('seeds', 100) ?? 100;
  const from = num('from', 1) ?? 1;
  const pass = process.argv.slice(2).filter((a, i, all) => !['--workers', '--seeds', '--from'].includes(a) && !['--workers', '--seeds', '--from'].includes(all[i - 1] ?? ''));
  const per = Math.ceil(seeds / workers);
  const outs = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const start = from + w * per;
      const n = Math.max(0, Math.min(per, from + seeds - start));
      if (n === 0) return Promise.resolve('seeds: 0, violations: 0');
      return new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--seeds', String(n), '--from', String(start), ...pass], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          for (const line of c.toString().split('\n')) if (line && !line.startsWith('seeds:')) process.stdout.write(`${line}\n`);
        });
        child.on('close', () => resolve(out));
      });
    }),
  );
  for (const out of outs) {
    const m = /seeds: (\d+), violations: (\d+)/.exec(out);
    if (!m) {
      violations++;
      console.log('a worker ended without a summary (crashed?)');
      continue;
    }
    count += Number(m[1]);
    violations += Number(m[2]);
  }
} else {
  const seeds = only !== undefined ? 1 : (num('seeds', 100) ?? 100);
  const from = only ?? num('from', 1) ?? 1;
  const nodesArg = num('nodes', undefined);
  if (nodesArg !== undefined && nodesArg !== 3 && nodesArg !== 5) usage('--nodes must be 3 or 5');
  const profile = arg('profile');
  const handoffs = process.argv.includes('--handoffs');
  const results: SeedResult[] = [];
  for (let seed = from; seed < from + seeds; seed++) {
    count++;
    try {
      const r = await runSeed(seed, { ...(nodesArg ? { nodes: nodesArg as 3 | 5 } : {}), ...(profile ? { profile } : {}), ...(handoffs ? { handoffs } : {}) });
      results.push(r);
      if (only !== undefined) console.log(JSON.stringify(r));
    } catch (e) {
      violations++;
      console.log(e instanceof SimViolation ? e.message : `seed ${seed}: ${(e as Error).stack}`);
      if (stopEarly) break;
    }
    const done = seed - from + 1;
    if (done % 25 === 0 || done === seeds) process.stderr.write(`... ${done}/${seeds} seeds, ${violations} violations, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const secs = (performance.now() - t0) / 1000;
  const sum = (f: (r: SeedResult) => number) => results.reduce((a, r) => a + f(r), 0);
  console.log(`${results.length} passed in ${secs.toFixed(1)} s (${(count / secs).toFixed(2)} seeds/s); register ops ${sum((r) => r.ops)}, acked creates ${sum((r) => r.acked)}, elections ${sum((r) => r.elections)}${handoffs ? ` (named handoffs ${sum((r) => r.handoffs)})` : ''}, seeds with tight backpressure limits ${sum((r) => (r.tightLimits ? 1 : 0))} (writes deferred at least ${sum((r) => r.deferredWrites)}), simulated ${(sum((r) => r.simMs) / 1000).toFixed(0)} s`);
}
console.log(`seeds: ${count}, violations: ${violations}`);
process.exitCode = violations > 0 ? 1 : 0;
