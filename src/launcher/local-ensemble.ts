// Supervises a local ensemble whose members are plain child processes, one
// directory per member under one ensemble directory: spawn, kill/pause/resume
// by PID, wait until `srvr` reports a serving ensemble. Used for zk-elect's own
// servers (the CLI's launcher) and, from test/support, for Apache ZooKeeper.
// Members are never daemonized, since the PID is what kill -9 / SIGSTOP act on.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isEnsembleReady, modeOf, type ZkMode } from './four-letter-word.js';
import { trackChild, untrackChild, untrackDir } from './reaper.js';
import type { ZkEnsemble, ZkMember } from './types.js';

const POLL_MS = 100;

export class LocalMember implements ZkMember {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;
  private spawnError: Error | undefined;

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly dir: string,
    private readonly java: string,
    private readonly args: string[],
    private readonly startTimeoutMs: number,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.clientPort}`;
  }
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }
  get running(): boolean {
    const c = this.child;
    return !!c && c.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  spawn(): void {
    // The child writes straight into a file, not a pipe: nothing to drain, and
    // nothing that keeps node's event loop alive.
    // Owner-only: a zk-elect server prints its admin token (in its dashboard URL) at start.
    const out = fs.openSync(path.join(this.dir, 'console.log'), 'a', 0o600);
    fs.fchmodSync(out, 0o600); // also when an earlier run made it
    let child: ChildProcess;
    try {
      child = spawn(this.java, this.args, { cwd: this.dir, stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
    this.child = child;
    this.paused = false;
    this.spawnError = undefined;
    const pid = child.pid;
    if (pid !== undefined) trackChild(pid);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (e) => {
        this.spawnError = e; // e.g. ENOENT: no 'exit' follows
        resolve();
      });
    }).then(() => {
      if (pid !== undefined) untrackChild(pid);
    });
    child.unref();
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.ref(); // an unref'd child's 'exit' would not hold the loop open for our await
    signalPid(child.pid!, signal);
    // A stopped process only acts on SIGTERM etc. once continued.
    if (this.paused && signal !== 'SIGKILL' && signal !== 'SIGSTOP') signalPid(child.pid!, 'SIGCONT');
    await this.exited;
    this.paused = false;
  }

  pause(): void {
    if (!this.running) throw new Error(`member ${this.id} is not running`);
    process.kill(this.child!.pid!, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.running) throw new Error(`member ${this.id} is not running`);
    process.kill(this.child!.pid!, 'SIGCONT');
    this.paused = false;
  }

  async start(): Promise<void> {
    if (!this.running) this.spawn();
    else if (this.paused) this.resume();
    const deadline = Date.now() + this.startTimeoutMs;
    try {
      while ((await this.mode()) === 'unknown') {
        this.assertAlive();
        if (Date.now() > deadline) throw new Error(`member ${this.id} did not serve within ${this.startTimeoutMs} ms\n${this.logTail()}`);
        await sleep(POLL_MS);
      }
    } catch (e) {
      await this.kill();
      throw e;
    }
  }

  mode(): Promise<ZkMode> {
    return modeOf(this.address, 1000);
  }

  assertAlive(): void {
    if (this.running) return;
    const c = this.child;
    const how = this.spawnError ? `could not be spawned: ${this.spawnError.message}` : `exited (code ${c?.exitCode}, signal ${c?.signalCode})`;
    throw new Error(`ZooKeeper member ${this.id} ${how} before serving\n${this.logTail()}`);
  }

  logTail(): string {
    return [
      `--- member ${this.id} ${path.join(this.dir, 'zookeeper.log')} (tail) ---`,
      tail(path.join(this.dir, 'zookeeper.log')),
      `--- member ${this.id} console.log (tail) ---`,
      tail(path.join(this.dir, 'console.log'), 2000),
    ].join('\n');
  }
}

export class LocalEnsemble implements ZkEnsemble {
  source: 'local' | 'zk-elect' = 'local';
  readonly connectString: string;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly members: LocalMember[],
    private readonly dir: string,
    private readonly keepDir = false,
  ) {
    this.connectString = members.map((m) => m.address).join(',');
  }

  async leader(): Promise<ZkMember | undefined> {
    const modes = await Promise.all(this.members.map((m) => (m.running ? m.mode() : 'unknown')));
    const i = modes.indexOf('leader');
    return this.members[i >= 0 || this.members.length > 1 ? i : modes.indexOf('standalone')];
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.members.map((m) => m.kill('SIGKILL')));
      if (this.keepDir) return;
      fs.rmSync(this.dir, { recursive: true, force: true });
      untrackDir(this.dir);
    })();
    return this.stopping;
  }

  async waitReady(timeoutMs: number, origin: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let modes: ZkMode[] = [];
    for (;;) {
      for (const m of this.members) m.assertAlive();
      modes = await Promise.all(this.members.map((m) => m.mode()));
      if (isEnsembleReady(modes)) return;
      if (Date.now() > deadline) break;
      await sleep(POLL_MS);
    }
    const tails = this.members.map((m) => m.logTail()).join('\n');
    throw new Error(`ZooKeeper from ${origin} was not ready within ${timeoutMs} ms (modes: ${modes.join(', ')})\n${tails}`);
  }
}

/** Signals our own child by PID; it may have died a moment ago (ESRCH). */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Last `bytes` of a file, or '' if it does not exist. */
function tail(file: string, bytes = 4000): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, bytes);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}
