/** Parent side of bench/lib/driver.ts: fork client processes and send them commands. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild, untrackChild } from '../../src/launcher/reaper.js';
import type { DriverCommand, FillResult, OpsResult, ReadSamples } from './workload.js';

const DRIVER = fileURLToPath(new URL('./driver.ts', import.meta.url));

type Reply = { id: number; ok: boolean; result?: unknown; error?: string };

export class Driver {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;
  /** Latest progress count a fill reported. */
  progress = 0;
  onProgress: ((n: number) => void) | undefined;

  private constructor(private readonly child: ChildProcess) {
    const pid = child.pid!;
    trackChild(pid);
    child.on('message', (m: Reply | { progress: number }) => {
      if ('progress' in m) {
        this.progress = m.progress;
        this.onProgress?.(m.progress);
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(`client process ${pid}: ${m.error}`));
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        untrackChild(pid);
        for (const w of this.waiting.values()) w.reject(new Error(`client process ${pid} exited (code ${code}, signal ${signal})`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  static async start(): Promise<Driver> {
    const child = fork(DRIVER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const d = new Driver(child);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('client process did not start within 30 s')), 30_000);
      child.once('message', () => {
        clearTimeout(t);
        resolve();
      });
      child.once('exit', () => reject(new Error('client process exited while starting')));
    });
    return d;
  }

  private send<T>(command: DriverCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, command });
    });
  }

  connect(connect: string, sessionTimeoutMs = 30_000): Promise<void> {
    return this.send({ cmd: 'connect', connect, sessionTimeoutMs });
  }
  fill(c: Omit<Extract<DriverCommand, { cmd: 'fill' }>, 'cmd'>): Promise<FillResult> {
    return this.send({ cmd: 'fill', ...c });
  }
  keys(root: string, n: number, valueBytes: number): Promise<{ created: number; firstError?: number }> {
    return this.send({ cmd: 'keys', root, n, valueBytes });
  }
  ops(c: Omit<Extract<DriverCommand, { cmd: 'ops' }>, 'cmd'>): Promise<OpsResult> {
    return this.send({ cmd: 'ops', ...c });
  }
  /** Starts a getData loop; resolves after its first read. */
  readStart(address: string, path: string, gapMs: number): Promise<void> {
    return this.send({ cmd: 'read-start', address, path, gapMs });
  }
  readStop(): Promise<ReadSamples> {
    return this.send({ cmd: 'read-stop' });
  }

  /** Closes the client and ends the process (SIGKILL by PID if it does not go within 5 s). */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ cmd: 'close' }).catch(() => undefined);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }
}
