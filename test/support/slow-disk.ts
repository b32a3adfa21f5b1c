/**
 * A real slow disk for a running server process: strace attaches to every thread of it and
 * delays the return of each fsync/fdatasync (its fault injection), so the transaction log
 * really waits for the disk while the process runs unchanged. Stopping detaches strace and the
 * process goes on at full speed.
 *
 * Needs /usr/bin/strace and ptrace of our own processes (no Yama restriction, or scope 0).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface SlowDisk {
  /** Detaches; resolves once strace has exited. */
  stop(): Promise<void>;
}

/** Why a slow disk cannot be made here, or undefined if it can. */
export function slowDiskUnavailable(): string | undefined {
  const r = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'strace is not installed';
  return undefined;
}

export async function slowDisk(pid: number, delayMs: number, timeoutMs = 15_000): Promise<SlowDisk> {
  const child: ChildProcess = spawn(
    'strace',
    ['-f', '-p', String(pid), '-o', '/dev/null', '-e', 'trace=fsync,fdatasync', '-e', `inject=fsync,fdatasync:delay_exit=${delayMs * 1000}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`strace did not attach to pid ${pid} within ${timeoutMs} ms: ${stderr.trim()}`));
    }, timeoutMs);
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (/attached/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`strace exited (${code}) before attaching to pid ${pid}: ${stderr.trim()}`));
    });
  });
  // strace reports the first thread attached and goes on with the others: give it a moment.
  await new Promise((r) => setTimeout(r, 300));
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // strace detaches on SIGTERM
      await exited;
    },
  };
}
