/**
 * Simulated time as one host sees it.
 *
 * `HardwareClock` is the machine's oscillator, drawn once per host and kept across process
 * crashes (CLOCK_MONOTONIC does not restart when a process does):
 *   mono(t) = monoOffset + t * (1 + skewPpm / 1e6)
 *   wall(t) = wallBase   + t * (1 + skewPpm / 1e6) + wallJump
 * where t is scheduler time. The offset puts every host's monotonic origin somewhere else
 * (code must not compare monoMs across hosts); the skew (default up to ±100 ppm, about what
 * an undisciplined quartz drifts) keeps hosts out of lock step, so a lease that is "exactly"
 * long enough on one host is a little short on another. Only the wall clock can jump.
 *
 * `SimClock` is the Clock a process incarnation gets. Its timers are host time: `after(ms)`
 * fires when this host's monotonic clock has advanced by ms, so a fast host fires early in
 * scheduler time.
 */
import type { Clock, Timer } from '../../../src/server/node/clock.js';
import type { SimHost } from './host.js';
import type { Scheduler } from './scheduler.js';

/** 2023-11-14: dates the server writes look like real ones. */
export const WALL_EPOCH_MS = 1_700_000_000_000;

export class HardwareClock {
  readonly monoOffsetMs: number;
  readonly skewPpm: number;
  readonly wallBaseMs: number;
  private readonly rate: number;
  private wallJumpMs = 0;

  constructor(
    private readonly sched: Scheduler,
    maxSkewPpm: number,
  ) {
    const rng = sched.rng;
    // Up to ~28 h of uptime: large enough to catch code that assumes a zero origin, small
    // enough that microsecond arithmetic on it stays exact in a double.
    this.monoOffsetMs = rng.int(1_000_000, 100_000_000);
    this.skewPpm = maxSkewPpm > 0 ? rng.int(-maxSkewPpm, maxSkewPpm) : 0;
    this.rate = 1 + this.skewPpm / 1e6;
    // NTP keeps hosts within a few hundred ms of each other.
    this.wallBaseMs = WALL_EPOCH_MS + rng.int(-500, 500);
  }

  monoAt(t: number): number {
    return this.monoOffsetMs + t * this.rate;
  }

  monoMs(): number {
    return this.monoAt(this.sched.now);
  }

  /** Whole milliseconds, as Date.now(): the server serializes it as an int64. */
  wallMs(): number {
    return Math.floor(this.wallBaseMs + this.sched.now * this.rate + this.wallJumpMs);
  }

  /** Steps the wall clock (NTP step, operator); monotonic time is untouched. */
  jumpWall(deltaMs: number): void {
    this.wallJumpMs += deltaMs;
  }

  /**
   * The earliest scheduler time at which this host's monotonic clock reads at least `mono`,
   * rounded up to a microsecond. A timer callback that re-checks its deadline must find it
   * passed, or it would re-arm itself for a rounding error forever.
   */
  simTimeForMono(mono: number): number {
    let t = Math.ceil(((mono - this.monoOffsetMs) / this.rate) * 1000) / 1000;
    if (t < this.sched.now) t = this.sched.now;
    while (this.monoAt(t) < mono) t += 0.001;
    return t;
  }
}

/** setTimeout's rule: anything not in [1, 2^31-1] becomes 1 ms. */
function nodeDelay(ms: number): number {
  return ms >= 1 && ms <= 2_147_483_647 ? ms : 1;
}

const DEAD: Timer = { cancel: () => undefined };

/**
 * The Clock of one incarnation of a host's program. Once the host has crashed, this object
 * is inert: its pending timers never fire and new ones are never armed.
 */
export class SimClock implements Clock {
  readonly incarnation: number;

  constructor(private readonly host: SimHost) {
    this.incarnation = host.incarnation;
  }

  private get stale(): boolean {
    return this.host.incarnation !== this.incarnation || this.host.state === 'down';
  }

  private get sched(): Scheduler {
    return this.host.sched;
  }

  monoMs(): number {
    return this.host.hw.monoMs();
  }

  wallMs(): number {
    return this.host.hw.wallMs();
  }

  /** Steps this host's wall clock (shared by every incarnation: it is the machine's). */
  jumpWall(deltaMs: number): void {
    this.host.hw.jumpWall(deltaMs);
  }

  after(ms: number, fn: () => void): Timer {
    if (this.stale) return DEAD;
    let done = false;
    // `done` is checked when the host actually runs the callback: a timer that came due while
    // the host was paused and was cancelled by an earlier replayed callback must not fire.
    const fire = this.host.guard(() => {
      if (done) return;
      done = true;
      fn();
    });
    const hw = this.host.hw;
    const ev = this.sched.at(hw.simTimeForMono(hw.monoMs() + nodeDelay(ms)), fire);
    return {
      cancel: () => {
        done = true;
        ev.cancel();
      },
    };
  }

  /**
   * Fires on a fixed grid (start + k * period). Ticks that come due while the host is paused
   * collapse into one firing on resume, as a real setInterval does after SIGCONT, and the grid
   * continues from where it was.
   */
  every(ms: number, fn: () => void): Timer {
    if (this.stale) return DEAD;
    const period = nodeDelay(ms);
    const hw = this.host.hw;
    const inc = this.incarnation;
    let cancelled = false;
    let pending = false;
    let nextMono = hw.monoMs() + period;
    const fire = this.host.guard(() => {
      pending = false;
      if (!cancelled) fn();
    });
    const tick = (): void => {
      if (cancelled || this.host.incarnation !== inc) return;
      nextMono += period;
      ev = this.sched.at(hw.simTimeForMono(nextMono), tick);
      if (pending) return;
      pending = true;
      fire();
    };
    let ev = this.sched.at(hw.simTimeForMono(nextMono), tick);
    return {
      cancel: () => {
        cancelled = true;
        ev.cancel();
      },
    };
  }

  soon(fn: () => void): void {
    if (this.stale) return;
    this.sched.at(this.sched.now, this.host.guard(fn));
  }
}
