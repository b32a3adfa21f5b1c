/**
 * Runs the leader's command in a process group of its own, so that stopping it stops
 * everything it started: `consul lock -shell` famously killed only the shell and left the
 * real worker running after leadership moved on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we stopped it (loss, shutdown); false when it exited by itself. */
  stoppedByUs: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

export class ChildSupervisor {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly command: readonly string[],
    private readonly graceMs: number,
    private readonly logger: Logger,
    private readonly onExit: (info: ExitInfo) => void,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  start(extraEnv: Record<string, string>): number {
    if (this.child) throw new Error('the command is already running');
    const [file, ...args] = this.command;
    const child = spawn(file!, args, { detached: true, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
    this.child = child;
    this.stopping = false;
    this.exited = new Promise<void>((resolve) => {
      let reported = false;
      const report = (code: number | null, signal: NodeJS.Signals | null) => {
        if (reported) return;
        reported = true;
        this.child = undefined;
        const stoppedByUs = this.stopping;
        // Whatever it left behind in its group must not outlive it.
        if (child.pid !== undefined && !stoppedByUs) signalGroup(child.pid, 'SIGKILL');
        resolve();
        this.onExit({ code, signal, stoppedByUs });
      };
      child.once('exit', report);
      child.once('error', (e) => {
        this.logger.error('could not start the command', { command: this.command.join(' '), error: e.message });
        report(127, null);
      });
    });
    return child.pid ?? -1;
  }

  /** SIGTERM to the whole group, then SIGKILL after the grace period. Resolves when the group is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    const pgid = child.pid;
    this.stopping = true;
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + this.graceMs;
    while (Date.now() < deadline && groupAlive(pgid)) await sleep(25);
    if (groupAlive(pgid)) {
      this.logger.warn('command did not stop within the grace period; killing its process group', { pgid, graceMs: this.graceMs });
      signalGroup(pgid, 'SIGKILL');
    }
    await this.exited;
    for (let i = 0; i < 200 && groupAlive(pgid); i++) await sleep(10);
  }
}
