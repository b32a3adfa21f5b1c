/**
 * The whole side-by-side benchmark suite (issue 9): zk-elect's server vs Apache ZooKeeper 3.8,
 * same machine, same run. Runs each benchmark script as a process of its own (each warms both
 * servers up and alternates their order), collects their --json figures and writes the report
 * (Markdown + SVG charts) to bench/results/.
 *
 *   npm run bench                         # the full suite -> bench/results/latest.md
 *   npm run bench -- --quick              # a smoke run with tiny workloads -> bench/results/quick/
 *   npm run bench -- --parts failover,election [--out DIR]
 *   npm run bench -- --render FILE.json [--out DIR]   # the report again from a results file
 *
 * Progress goes to stderr (the parts' own tables too); stdout gets the report's path.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { say } from './lib/common.js';
import { machineInfo } from './lib/proc.js';
import type { PartData, PartRun, SuiteResults } from './report/types.js';
import { writeReport } from './report/write.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Plan {
  name: string;
  title: string;
  script: string;
  args: string[];
  /** Killed (SIGTERM, so it stops its servers) after this long. */
  limitMin: number;
}

const FULL: Plan[] = [
  { name: 'throughput', title: 'Throughput and latency at 1, 16 and 128 requests in flight', script: 'bench/server.ts', args: ['--seconds', '3', '--procs', '4', '--trials', '2'], limitMin: 20 },
  { name: 'failover', title: "Failover: kill -9 of a 3-node cluster's leader", script: 'bench/failover.ts', args: ['--trials', '10', '--ticks', '2000,200'], limitMin: 40 },
  { name: 'scale-150k', title: 'Scale: 150,000 znodes, standalone', script: 'bench/scale.ts', args: ['--znodes', '150000', '--parts', 'standalone', '--second-snap-count', '0'], limitMin: 30 },
  { name: 'scale-1m', title: 'Scale: 1,000,000 znodes, standalone and 3-node', script: 'bench/scale.ts', args: ['--znodes', '1000000'], limitMin: 120 },
  { name: 'large', title: 'Large values: setData and getData of 1 MiB', script: 'bench/large-values.ts', args: ['--seconds', '4', '--inflight', '1,16', '--trials', '2'], limitMin: 20 },
  { name: 'election', title: 'Election handoff', script: 'bench/election-handoff.ts', args: ['--handoffs', '200', '--crash-trials', '5', '--cut-trials', '3'], limitMin: 30 },
];

const QUICK: Plan[] = [
  { name: 'throughput', title: 'Throughput and latency at 1, 16 and 128 requests in flight (quick)', script: 'bench/server.ts', args: ['--seconds', '0.5', '--procs', '4', '--trials', '1'], limitMin: 10 },
  { name: 'failover', title: "Failover: kill -9 of a 3-node cluster's leader (quick)", script: 'bench/failover.ts', args: ['--trials', '2', '--ticks', '2000,200'], limitMin: 15 },
  // snapCount 10000 so that a snapshot falls within the short read window.
  { name: 'scale', title: 'Scale: 30,000 znodes, standalone and 3-node (quick)', script: 'bench/scale.ts', args: ['--znodes', '30000', '--window', '15000', '--snap-count', '10000', '--second-snap-count', '5000', '--settle', '1'], limitMin: 15 },
  { name: 'large', title: 'Large values: setData and getData of 1 MiB (quick)', script: 'bench/large-values.ts', args: ['--seconds', '1', '--inflight', '1,16', '--trials', '1', '--keys', '4'], limitMin: 10 },
  { name: 'election', title: 'Election handoff (quick)', script: 'bench/election-handoff.ts', args: ['--handoffs', '20', '--crash-trials', '1', '--cut-trials', '1'], limitMin: 10 },
];

const USAGE = 'usage: npm run bench -- [--quick] [--parts NAME,...] [--out DIR] | --render RESULTS.json [--out DIR]';

function usage(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({ options: { quick: { type: 'boolean', default: false }, parts: { type: 'string' }, out: { type: 'string' }, render: { type: 'string' } } });
} catch (e) {
  usage((e as Error).message);
}
const { values } = parsed;
const QUICK_MODE = values.quick!;
const OUT = path.resolve(values.out ?? path.join(ROOT, 'bench', 'results', QUICK_MODE ? 'quick' : ''));

const shellQuote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

function version(pkg: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs one part; its stdout and stderr are passed on to stderr, the end of its stderr kept for the report. */
async function runPart(plan: Plan, jsonFile: string): Promise<PartRun> {
  const args = [...plan.args, '--json', jsonFile];
  const command = ['node', '--import', 'tsx', plan.script, ...plan.args].map(shellQuote).join(' ');
  const loadBefore = os.loadavg()[0]!;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', plan.script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const forward = () => child.kill('SIGTERM');
  process.once('SIGTERM', forward);
  let timedOut = false;
  const limit = setTimeout(() => {
    timedOut = true;
    say('suite', `${plan.name} still running after ${plan.limitMin} min: stopping it`);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
  }, plan.limitMin * 60_000);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(limit);
  process.off('SIGTERM', forward);
  const seconds = (performance.now() - t0) / 1000;
  let data: PartData | undefined;
  if (exitCode === 0) {
    try {
      data = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as PartData;
    } catch (e) {
      tail += `\n(no figures: ${(e as Error).message})`;
    }
  }
  const failed = exitCode !== 0 || !data;
  return {
    name: plan.name,
    title: plan.title,
    command,
    seconds,
    exitCode,
    loadBefore,
    loadAfter: os.loadavg()[0]!,
    ...(data ? { data } : {}),
    ...(failed ? { failure: (timedOut ? `stopped after ${plan.limitMin} min\n` : '') + tail } : {}),
  };
}

async function main(): Promise<number> {
  if (values.render) {
    const results = JSON.parse(fs.readFileSync(values.render, 'utf8')) as SuiteResults;
    const files = await writeReport(results, OUT);
    console.log(files[0]);
    return 0;
  }
  const all = QUICK_MODE ? QUICK : FULL;
  const wanted = values.parts ? values.parts.split(',').map((s) => s.trim()).filter(Boolean) : all.map((p) => p.name);
  for (const w of wanted) if (!all.some((p) => p.name === w)) usage(`--parts: ${JSON.stringify(w)} is not one of ${all.map((p) => p.name).join(', ')}`);
  const plans = all.filter((p) => wanted.includes(p.name));
  const argv = process.argv.slice(2);
  const command = process.env['npm_lifecycle_event'] === 'bench' ? `npm run bench${argv.length ? ` -- ${argv.map(shellQuote).join(' ')}` : ''}` : ['node', '--import', 'tsx', 'bench/suite.ts', ...argv].map(shellQuote).join(' ');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-bench-'));
  const started = new Date();
  const t0 = performance.now();
  const results: SuiteResults = {
    suite: 'zk-elect benchmarks',
    quick: QUICK_MODE,
    command,
    startedAt: started.toISOString(),
    seconds: 0,
    machine: machineInfo(ROOT),
    tools: { client: `the official ZooKeeper C client through the npm zookeeper binding ${version('zookeeper')}`, charts: `vega-lite ${version('vega-lite')}, vega ${version('vega')}` },
    parts: [],
  };
  const progressFile = path.join(tmp, 'results.json');
  say('suite', `${plans.length} parts${QUICK_MODE ? ' (quick)' : ''}: ${plans.map((p) => p.name).join(', ')}; figures so far in ${progressFile}`);
  for (const [i, plan] of plans.entries()) {
    say('suite', `part ${i + 1}/${plans.length}: ${plan.name}`);
    const run = await runPart(plan, path.join(tmp, `${plan.name}.json`));
    results.parts.push(run);
    results.seconds = (performance.now() - t0) / 1000;
    fs.writeFileSync(progressFile, JSON.stringify(results) + '\n');
    say('suite', `part ${i + 1}/${plans.length}: ${plan.name} ${run.failure ? `FAILED (exit code ${run.exitCode})` : 'done'} in ${run.seconds.toFixed(0)} s`);
  }
  const files = await writeReport(results, OUT);
  fs.rmSync(tmp, { recursive: true, force: true });
  say('suite', `report written: ${files.length} files in ${path.relative(ROOT, OUT) || '.'}; ${results.seconds.toFixed(0)} s in all`);
  console.log(files[0]);
  return results.parts.some((p) => p.failure) ? 1 : 0;
}

process.exitCode = await main();
