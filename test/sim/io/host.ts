/**
 * One simulated machine (a server or a client box). It owns the machine-wide things that
 * outlive a process crash (its hardware clock, its IP address) and the process lifecycle:
 *
 *   up --pause()--> paused --resume()--> up        (SIGSTOP / SIGCONT)
 *   up|paused --crash()--> down --start()--> up    (process killed, then restarted)
 *
 * Every call into the host's code (timers, socket events, disk completions) goes through
 * `guard()`, which is what makes these states real: a stopped process runs nothing and picks
 * up where it was, a killed one never hears about anything it had asked for.
 */
import type { Scheduler } from './scheduler.js';
import { HardwareClock, SimClock } from './sim-clock.js';

export type HostState = 'up' | 'paused' | 'down';

type Hook = () => void;

/** Ordered hook lists: other modules (network, disk) attach their per-host cleanup here. */
export class HostHooks {
  private readonly lists = { crash: [] as Hook[], start: [] as Hook[], pause: [] as Hook[], ready: [] as Hook[] };

  /** After the process died (state 'down', incarnation already bumped). */
  onCrash(fn: Hook): () => void {
    return this.add('crash', fn);
  }
  /** After a new incarnation was started. */
  onStart(fn: Hook): () => void {
    return this.add('start', fn);
  }
  onPause(fn: Hook): () => void {
    return this.add('pause', fn);
  }
  /** After resume() once everything queued while paused has been replayed. */
  onReady(fn: Hook): () => void {
    return this.add('ready', fn);
  }

  fire(kind: keyof HostHooks['lists']): void {
    for (const fn of [...this.lists[kind]]) fn();
  }

  private add(kind: keyof HostHooks['lists'], fn: Hook): () => void {
    const list = this.lists[kind];
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }
}

export interface HostOptions {
  /** Clock rate error drawn per host in [-maxSkewPpm, +maxSkewPpm]; 0 for perfect clocks. Default 100. */
  maxSkewPpm?: number;
}

export class SimHost {
  state: HostState = 'up';
  /** Bumped by crash(); callbacks guarded under an older one are dropped. */
  incarnation = 0;
  readonly hooks = new HostHooks();
  readonly hw: HardwareClock;
  /** Calls that arrived while paused (or before the replay after resume finished), in order. */
  private backlog: Array<() => void> = [];
  private replaying = false;

  constructor(
    readonly sched: Scheduler,
    readonly name: string,
    readonly ip: string,
    opts: HostOptions = {},
  ) {
    this.hw = new HardwareClock(sched, opts.maxSkewPpm ?? 100);
  }

  /** Up, and nothing left over from a pause to replay: new deliveries may run at once. */
  get ready(): boolean {
    return this.state === 'up' && this.backlog.length === 0;
  }

  /** A clock for the current incarnation (a program builds itself with fresh I/O on start). */
  clock(): SimClock {
    return new SimClock(this);
  }

  /**
   * Wraps a callback into this host's code. Runs it at once when up; queues it (in call order)
   * while paused; drops it if the process has crashed since the guard was made.
   */
  guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    const inc = this.incarnation;
    return (...args: A) => {
      if (this.incarnation !== inc || this.state === 'down') return;
      // Behind a non-empty backlog even when up: a later call must not overtake earlier ones.
      if (this.state === 'paused' || this.backlog.length > 0) {
        this.backlog.push(() => fn(...args));
        return;
      }
      fn(...args);
    };
  }

  pause(): void {
    if (this.state !== 'up') throw new Error(`cannot pause ${this.name}: it is ${this.state}`);
    this.state = 'paused';
    this.hooks.fire('pause');
  }

  /**
   * Replays what was queued, one scheduler event per call, so the async work each one starts
   * settles before the next (as it would have had the process never stopped).
   */
  resume(): void {
    if (this.state !== 'paused') throw new Error(`cannot resume ${this.name}: it is ${this.state}`);
    this.state = 'up';
    this.replay();
  }

  crash(): void {
    if (this.state === 'down') throw new Error(`cannot crash ${this.name}: it is already down`);
    this.state = 'down';
    this.incarnation++;
    this.backlog = [];
    this.replaying = false;
    this.hooks.fire('crash');
  }

  start(): void {
    if (this.state !== 'down') throw new Error(`cannot start ${this.name}: it is ${this.state}`);
    this.state = 'up';
    this.hooks.fire('start');
  }

  /** Calls queued and not yet replayed. */
  get backlogSize(): number {
    return this.backlog.length;
  }

  private replay(): void {
    if (this.replaying) return;
    if (this.backlog.length === 0) {
      this.hooks.fire('ready');
      return;
    }
    this.replaying = true;
    const inc = this.incarnation;
    const step = (): void => {
      if (this.incarnation !== inc || this.state !== 'up') {
        // Paused again (resume() restarts us) or crashed (backlog is gone).
        if (this.incarnation === inc) this.replaying = false;
        return;
      }
      const next = this.backlog.shift();
      if (this.backlog.length > 0) this.sched.at(this.sched.now, step);
      else this.replaying = false;
      next?.();
      if (!this.replaying && this.backlog.length === 0 && this.state === 'up' && this.incarnation === inc) this.hooks.fire('ready');
    };
    this.sched.at(this.sched.now, step);
  }
}
