/**
 * `npm run sim:mutants [-- --only NAME] [--seeds N]`: shows that the simulator's checkers can
 * fail. Each mutant is a one-line fault in the production code (or in the node's I/O edge);
 * it is applied to a scratch copy of the repository (the working tree is never touched), and
 * the simulator runs there until a checker catches it or the seed budget runs out (or, for a
 * mutant that names a test file, that test must fail; an integration test runs against the
 * copy's own build).
 *
 * Ends with `mutants: K of M caught`; exit 1 unless every mutant is caught.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** The script that patches the `zookeeper` binding: its mutants need a binding of their own. */
const BINDING_PATCH = 'src/binding/patch-zookeeper-binding.mjs';

/**
 * Patches the copy's binding with the mutated script and rebuilds it. The copied build tree's
 * Makefile still names the repository's own `build/zookeeper.node` as its after-build copy (an
 * absolute path gyp wrote at install), so that file is put back as it was.
 */
function buildMutatedBinding(dir: string): void {
  const afterBuildCopy = path.join(root, 'node_modules/zookeeper/build/zookeeper.node');
  const saved = existsSync(afterBuildCopy) ? readFileSync(afterBuildCopy) : undefined;
  try {
    execFileSync(process.execPath, [BINDING_PATCH, '--dir', 'node_modules/zookeeper'], { cwd: dir, stdio: 'ignore' });
  } finally {
    // gyp's copy is a hard link to the copy's binary: unlink, then write the saved bytes back.
    if (saved) {
      rmSync(afterBuildCopy, { force: true });
      writeFileSync(afterBuildCopy, saved);
    }
  }
}

function scratchCopy(m: Mutant): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'zk-elect-mutant-'));
  for (const part of ['src', 'test', 'package.json', 'tsconfig.json']) cpSync(path.join(root, part), path.join(dir, part), { recursive: true });
  if (m.file !== BINDING_PATCH) {
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    return dir;
  }
  // Every package linked, but `zookeeper` copied: the mutated patch is built into the copy only.
  mkdirSync(path.join(dir, 'node_modules'));
  for (const entry of readdirSync(path.join(root, 'node_modules'))) {
    const from = path.join(root, 'node_modules', entry);
    // Timestamps kept: otherwise make sees the C client's autotools files as changed and reruns them.
    if (entry === 'zookeeper') cpSync(from, path.join(dir, 'node_modules', entry), { recursive: true, preserveTimestamps: true });
    else symlinkSync(from, path.join(dir, 'node_modules', entry));
  }
  return dir;
}

/**
 * Runs a test file in `dir` (only the tests whose names match `pattern`, if given); the mutant is
 * caught when a test fails. Integration tests start the built CLI, so the copy is built first.
 */
function runTest(dir: string, file: string, pattern: string | undefined, timeoutMs: number): Promise<{ caught: boolean; detail: string }> {
  if (file.startsWith('test/integration/')) execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, stdio: 'ignore' });
  const args = ['--import', 'tsx', '--test', ...(pattern ? ['--test-name-pattern', pattern] : []), file];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    // SIGTERM first: the test's after-hooks stop the server processes it started.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const fails = /^# fail (\d+)/m.exec(out);
      const caught = code !== 0 && fails !== null && Number(fails[1]) > 0;
      const lines = out.split('\n');
      const at = lines.findIndex((l) => /^\s*not ok/.test(l));
      const why = at >= 0 ? lines.slice(at).find((l) => /^\s*error:/.test(l)) : undefined;
      const first = at >= 0 ? `${lines[at]!.trim()}${why ? ` -- ${why.trim()}` : ''}` : fails ? 'no test failed' : 'the test did not finish (crash or timeout)';
      resolve({ caught, detail: `${file}: ${first}`.slice(0, 300) });
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
    const dir = scratchCopy(m);
    const t0 = performance.now();
    try {
      applyMutant(dir, m);
      if (m.file === BINDING_PATCH) buildMutatedBinding(dir);
      // The mutant must still compile: a fault the type checker rejects proves nothing.
      execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'], { cwd: dir, stdio: 'ignore' });
      const r = m.test ? await runTest(dir, m.test, m.testPattern, 15 * 60_000) : await simulate(dir, [...(m.sim ?? ['--seeds', String(seeds)])], 20 * 60_000);
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
