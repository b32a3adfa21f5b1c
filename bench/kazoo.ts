/** Runs one of the kazoo yardstick scripts (bench/kazoo-*.py) with Debian's python3-kazoo. */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Debian's interpreter: python3-kazoo is installed for it, not for a python3 earlier on PATH. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function kazooAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import kazoo'], { stdio: 'ignore' }).status === 0;
}

/** Runs `script` (a file in bench/) and resolves with the JSON object it prints last. */
export function runKazoo<T>(script: string, args: readonly string[], timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [path.join(import.meta.dirname, script), ...args], { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${script} failed: ${err.message}\n${stderr.slice(-2000)}`));
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON: ${stdout.slice(-500)}\n${stderr.slice(-2000)}`));
      }
    });
  });
}
