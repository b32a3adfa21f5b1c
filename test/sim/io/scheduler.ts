/**
 * The simulator's one clock and one event queue. Every simulated host, socket and disk
 * schedules here, and `rng` is the only randomness, so a seed replays a run bit for bit.
 *
 * Production code is promise-based: an event (a timer, a socket read) usually resumes a chain
 * of awaits. `run()` lets that chain run to quiescence (one real macrotask turn drains every
 * microtask) before it takes the next event, so the interleaving of async work with simulated
 * time never depends on the host machine's speed.
 */
import { Prng } from '../prng.js';

export interface Scheduled {
  /** Idempotent; a cancelled event is skipped and does not count as run. */
  cancel(): void;
}

export interface RunOptions {
  /** Stop before the first event later than this (and advance `now` to it). */
  untilMs?: number;
  /** Checked before every event (after the previous one's async work settled). */
  stop?: () => boolean;
  /** Events to run in this call at most. */
  maxEvents?: number;
}

export interface RunResult {
  reason: 'until' | 'stop' | 'idle' | 'maxEvents';
  /** Events run by this call. */
  events: number;
}

interface Entry {
  readonly at: number;
  readonly seq: number;
  fn: (() => void) | null;
}

const drain = (): Promise<void> => new Promise((r) => setImmediate(r));

export class Scheduler {
  /** Simulated milliseconds since the start of the run. May be fractional (skewed host clocks). */
  now = 0;
  readonly rng: Prng;
  /** Events run so far, over all run() calls. */
  eventsRun = 0;
  /**
   * FNV-1a over (time, insertion number) of every event run: two runs that scheduled and ran
   * the same events in the same order agree on it, which makes a cheap determinism check.
   */
  fingerprint = 0x811c9dc5;
  private readonly heap: Entry[] = [];
  private seq = 0;
  private running = false;

  constructor(seed: number | Prng) {
    this.rng = typeof seed === 'number' ? new Prng(seed) : seed;
  }

  /** Events waiting (cancelled ones included until they reach the top). */
  get queued(): number {
    return this.heap.length;
  }

  /** Time of the next live event, if any. */
  peekTime(): number | undefined {
    return this.top()?.at;
  }

  at(timeMs: number, fn: () => void): Scheduled {
    if (!Number.isFinite(timeMs)) throw new Error(`cannot schedule at ${timeMs}`);
    // A past time is a simulator bug; clamping would hide it and reorder events silently.
    if (timeMs < this.now) throw new Error(`cannot schedule at ${timeMs} ms, before now (${this.now} ms)`);
    const e: Entry = { at: timeMs, seq: this.seq++, fn };
    this.push(e);
    return {
      cancel: () => {
        e.fn = null;
      },
    };
  }

  after(delayMs: number, fn: () => void): Scheduled {
    return this.at(this.now + Math.max(0, delayMs), fn);
  }

  async run(opts: RunOptions = {}): Promise<RunResult> {
    if (this.running) throw new Error('Scheduler.run() is already running');
    this.running = true;
    let events = 0;
    try {
      // Whatever the test set up synchronously may have started async work: settle it first.
      await drain();
      for (;;) {
        if (opts.stop?.()) return { reason: 'stop', events };
        if (opts.maxEvents !== undefined && events >= opts.maxEvents) return { reason: 'maxEvents', events };
        const next = this.top();
        if (!next) return { reason: 'idle', events };
        if (opts.untilMs !== undefined && next.at > opts.untilMs) {
          this.now = Math.max(this.now, opts.untilMs);
          return { reason: 'until', events };
        }
        this.pop();
        const fn = next.fn as () => void;
        next.fn = null;
        this.now = next.at;
        events++;
        this.eventsRun++;
        this.mix(Math.floor(next.at * 1000) >>> 0);
        this.mix(next.seq >>> 0);
        try {
          fn();
        } catch (e) {
          throw annotate(e, this.now);
        }
        await drain();
      }
    } finally {
      this.running = false;
    }
  }

  private mix(x: number): void {
    let h = this.fingerprint;
    for (let i = 0; i < 4; i++) {
      h = Math.imul(h ^ ((x >>> (8 * i)) & 0xff), 0x01000193) >>> 0;
    }
    this.fingerprint = h;
  }

  /** The earliest live entry; cancelled ones are discarded on the way. */
  private top(): Entry | undefined {
    for (;;) {
      const e = this.heap[0];
      if (!e || e.fn) return e;
      this.pop();
    }
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = h[p] as Entry;
      if (!before(e, pe)) break;
      h[i] = pe;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mv = last;
      if (l < h.length && before(h[l] as Entry, mv)) {
        m = l;
        mv = h[l] as Entry;
      }
      if (r < h.length && before(h[r] as Entry, mv)) m = r;
      if (m === i) break;
      h[i] = h[m] as Entry;
      i = m;
    }
    h[i] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function annotate(e: unknown, now: number): Error {
  if (e instanceof Error) {
    // Keep the original error (its type and stack); only say when it happened.
    e.message = `[sim t=${now} ms] ${e.message}`;
    return e;
  }
  return new Error(`[sim t=${now} ms] event threw ${String(e)}`, { cause: e });
}
