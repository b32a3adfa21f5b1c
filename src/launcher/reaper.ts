// Last-resort cleanup: a crashed or interrupted test run must not leave Java
// servers (or their temp dirs) behind. Children are tracked by PID and
// SIGKILLed when this process exits or is told to terminate. Only PIDs we
// spawned are ever signalled.
import fs from 'node:fs';

const live = new Set<number>();
const dirs = new Set<string>();
let installed = false;

function killAll(): void {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  // 'exit' handlers must be synchronous; retries cover a dying JVM's last writes.
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  // Restore default behaviour (terminate) unless someone else handles it.
  process.off(signal, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  // Without a listener these signals end node WITHOUT running 'exit' handlers.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, onSignal);
}

export function trackChild(pid: number): void {
  install();
  live.add(pid);
}

export function untrackChild(pid: number): void {
  live.delete(pid);
}

export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackDir(dir: string): void {
  dirs.delete(dir);
}
