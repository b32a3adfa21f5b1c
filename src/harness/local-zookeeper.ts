// Runs Apache ZooKeeper as plain Java child processes (QuorumPeerMain), one
// temp dir per ensemble. zkServer.sh is avoided on purpose: it daemonizes,
// which would hide the PID we need for kill -9 / SIGSTOP fault injection.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isEnsembleReady, modeOf, type ZkMode } from './four-letter-word.js';
import { allocatePorts, tail, writeLoggingConfig, zooCfg } from './local-config.js';
import type { LocalInstall } from './local-install.js';
import { trackChild, trackDir, untrackChild, untrackDir } from './reaper.js';
import type { ResolvedOptions, ZkEnsemble, ZkMember } from './types.js';

const MAIN = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
// Small serial-GC heaps: three JVMs share two cores in CI. No perf-data files in /tmp.
const JVM_FLAGS = ['-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:-UsePerfData', '-XX:+ExitOnOutOfMemoryError', '-Djava.net.preferIPv4Stack=true'];
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
    // The JVM writes straight into a file, not a pipe: nothing to drain, and
    // nothing that keeps node's event loop alive.
    const out = fs.openSync(path.join(this.dir, 'console.log'), 'a');
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
    // A stopped JVM only acts on SIGTERM etc. once continued.
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
    const wanted: ZkMode = this.members.length === 1 ? 'standalone' : 'leader';
    const modes = await Promise.all(this.members.map((m) => (m.running ? m.mode() : 'unknown')));
    return this.members[modes.indexOf(wanted)];
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

export async function startLocal(install: LocalInstall, o: ResolvedOptions): Promise<ZkEnsemble> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-zk-'));
  trackDir(dir);
  let ensemble: LocalEnsemble | undefined;
  try {
    const logFlags = writeLoggingConfig(dir);
    const ports = await allocatePorts(o.nodes);
    const members = ports.map((p) => {
      const memberDir = path.join(dir, `member-${p.id}`);
      const dataDir = path.join(memberDir, 'data');
      fs.mkdirSync(dataDir, { recursive: true });
      if (o.nodes > 1) fs.writeFileSync(path.join(dataDir, 'myid'), `${p.id}\n`);
      const cfg = path.join(memberDir, 'zoo.cfg');
      fs.writeFileSync(cfg, zooCfg(p, ports, dataDir, o));
      const args = [...JVM_FLAGS, ...logFlags(path.join(memberDir, 'zookeeper.log')), '-cp', install.classpath.join(path.delimiter), MAIN, cfg];
      return new LocalMember(p.id, p.client, memberDir, install.java, args, o.startTimeoutMs);
    });
    ensemble = new LocalEnsemble(members, dir);
    for (const m of members) m.spawn();
    await ensemble.waitReady(o.startTimeoutMs, install.origin);
    return ensemble;
  } catch (e) {
    if (ensemble) await ensemble.stop();
    else {
      fs.rmSync(dir, { recursive: true, force: true });
      untrackDir(dir);
    }
    throw e;
  }
}
