/**
 * kazoo, the Python ZooKeeper client (Debian's python3-kazoo 2.8), driven through one-shot
 * checks in test/support/kazoo/probe.py (the interactive driver is kazoo.ts): each call runs
 * one subcommand in a child process, bounded in time, and returns the JSON it printed.
 */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON } from './kazoo.js';

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kazoo', 'probe.py');
let checked = false;

/** The interpreter, once it is known to import kazoo and pure-sasl (fails clearly otherwise). */
export function kazooPython(): string {
  if (checked) return PYTHON;
  try {
    execFileSync(PYTHON, ['-c', 'import kazoo, puresasl'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    throw new Error(`kazoo is not importable by ${PYTHON}: install python3-kazoo (Debian; it brings python3-pure-sasl)`);
  }
  checked = true;
  return PYTHON;
}

export function kazoo(...args: string[]): Promise<Record<string, unknown>> {
  const py = kazooPython();
  return new Promise((resolve, reject) => {
    execFile(py, [PROBE, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`kazoo ${args[0]} failed: ${error.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>);
      } catch {
        reject(new Error(`kazoo ${args[0]} printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}
