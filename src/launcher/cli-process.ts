/**
 * Runs the built `zk-elect` CLI as a real child process and collects its NDJSON events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The built CLI. Run from the TypeScript sources (tests, benchmarks under tsx) this is
 * dist/cli/main.js, so `npm run build` must have run; from dist it is the sibling file.
 */
export const CLI = fileURLToPath(
  import.meta.url.endsWith('.ts') ? new URL('../../dist/cli/main.js', import.meta.url) : new URL('../cli/main.js', import.meta.url),
);

export interface CliEvent {
  event: string;
  ts: number;
  [key: string]: unknown;
}

export class CliProcess {
  readonly events: CliEvent[] = [];
  stderr = '';
  private stdoutBuf = '';
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdoutBuf += chunk;
      let nl: number;
      while ((nl = this.stdoutBuf.indexOf('\n')) >= 0) {
        const line = this.stdoutBuf.slice(0, nl);
        this.stdoutBuf = this.stdoutBuf.slice(nl + 1);
        if (line.trim() === '') continue;
        try {
          this.events.push(JSON.parse(line) as CliEvent);
        } catch {
          this.events.push({ event: 'raw', ts: Date.now(), line });
        }
      }
      for (const w of [...this.waiters]) w();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of [...this.waiters]) w();
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  named(event: string): CliEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Waits until an event satisfying `pred` has been printed; fails with everything seen so far. */
  waitFor(pred: (e: CliEvent) => boolean, timeoutMs: number, what = 'event'): Promise<CliEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.events.find(pred);
        if (hit) {
          done();
          resolve(hit);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`process ${this.pid} exited before ${what}; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} from pid ${this.pid} within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  waitForEvent(event: string, timeoutMs: number, after = 0): Promise<CliEvent> {
    return this.waitFor((e) => e.event === event && e.ts >= after, timeoutMs, `"${event}"`);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
  }

  /** SIGKILL if still running, and wait for the exit. */
  async stop(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
