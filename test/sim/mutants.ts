/**
 * `npm run sim:mutants [-- --only NAME] [--seeds N]`: shows that the simulator's checkers can
 * fail. Each mutant is a one-line fault in the production code (or in the node's I/O edge);
 * it is applied to a scratch copy of the repository (the working tree is never touched), and
 * the simulator runs there until a checker catches it or the seed budget runs out (or, for a
 * mutant that names a test file, that test must fail).
 *
 * Ends with `mutants: K of M caught`; exit 1 unless every mutant is caught.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MUTANTS, type Mutant } from './mutant-list.js';

const root = path.resolve(import.meta.dirname, '..', '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Applies a mutant's edit to `dir` (a copy of the repository); throws unless `find` occurs exactly once. */
export function applyMutant(dir: string, m: Mutant): void {
  const file = path.join(dir, m.file);
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(m.find);
  if (at < 0 || text.indexOf(m.find, at + 1) >= 0) throw new Error(`mutant ${m.name}: the text to replace must occur exactly once in ${m.file}`);
  writeFileSync(file, text.slice(0, at) + m.replace + text.slice(at + m.find.length));
}

function scratchCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zk-elect-mutant-'));
  for (const part of ['src', 'test', 'package.json', 'tsconfig.json']) cpSync(path.join(root, part), path.join(dir, part), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Runs a test file in `dir`; the mutant is caught when the test fails. */
function runTest(dir: string, file: string, timeoutMs: number): Promise<{ caught: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', file], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const fails = /^# fail (\d+)/m.exec(out);
      const caught = code !== 0 && fails !== null && Number(fails[1]) > 0;
      const first = out.split('\n').find((l) => /^\s*not ok/.test(l)) ?? (fails ? 'no test failed' : 'the test did not finish (crash or timeout)');
      resolve({ caught, detail: `${file}: ${first.trim()}`.slice(0, 300) });
    });
  });
}

/** Runs the simulator in `dir`; resolves with whether a violation was reported, and its first line. */
function simulate(dir: string, args: string[], timeoutMs: number): Promise<{ caught: boolean; detail: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/sim/run.ts', ...args, '--stop-on-violation'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      const m = /seeds: \d+, violations: (\d+)/.exec(out);
      const caught = m ? Number(m[1]) > 0 : /failed at|violation/i.test(out);
      const first = out.split('\n').find((l) => /^FAIL|failed at/.test(l)) ?? (m ? 'no violation' : 'the simulator did not finish (crash or timeout)');
      resolve({ caught, detail: first.slice(0, 300) });
    });
  });
}

async function main(): Promise<void> {
  const only = arg('only');
  const seeds = Number(arg('seeds') ?? 200);
  const list = only ? MUTANTS.filter((m) => m.name === only) : MUTANTS;
  if (list.length === 0) {
    process.stderr.write(`no mutant named ${JSON.stringify(only)}; names: ${MUTANTS.map((m) => m.name).join(', ')}\n`);
    process.exit(2);
  }
  let caught = 0;
  for (const m of list) {
    const dir = scratchCopy();
    const t0 = performance.now();
    try {
      applyMutant(dir, m);
      // The mutant must still compile: a fault the type checker rejects proves nothing. A test
      // may start `zk-elect server` processes, which run from dist: build the mutated copy then.
      execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', ...(m.test ? [] : ['--noEmit'])], { cwd: dir, stdio: 'ignore' });
      const r = m.test ? await runTest(dir, m.test, 10 * 60_000) : await simulate(dir, [...(m.sim ?? ['--seeds', String(seeds)])], 20 * 60_000);
      if (r.caught) caught++;
      console.log(`${r.caught ? 'caught  ' : 'MISSED  '} ${m.name} (${((performance.now() - t0) / 1000).toFixed(0)} s): ${r.detail}`);
    } catch (e) {
      console.log(`BROKEN   ${m.name}: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`mutants: ${caught} of ${list.length} caught`);
  process.exitCode = caught === list.length ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
