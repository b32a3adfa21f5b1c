/**
 * Time, as the server and the election library see it. Everything a node or a session
 * schedules or measures goes through a Clock,
 * so the same node code runs on the real clock in `zk-elect server` and on simulated time in
 * test/sim, where one seed replays a whole run.
 *
 * Two readings, on purpose: `monoMs` never jumps and is what every timeout and lease is
 * measured on (ZOOKEEPER-1366: a wall-clock step must not expire every session at once);
 * `wallMs` is only for what users read as dates (znode ctime/mtime, TTLs, logs).
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds from an arbitrary origin. Never decreases, never jumps. */
  monoMs(): number;
  /** Milliseconds since the Unix epoch. May jump (NTP steps, an operator): never time anything with it. */
  wallMs(): number;
  /** Runs `fn` once, `ms` from now (monotonic). Never keeps the process alive. */
  after(ms: number, fn: () => void): Timer;
  /** Runs `fn` every `ms` (monotonic) until cancelled. Never keeps the process alive. */
  every(ms: number, fn: () => void): Timer;
  /** Runs `fn` after the current batch of I/O callbacks (setImmediate). */
  soon(fn: () => void): void;
}

/** The process's clocks: performance.now() (monotonic) and Date.now() (wall). */
export const systemClock: Clock = {
  monoMs: () => performance.now(),
  wallMs: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
  soon(fn) {
    setImmediate(fn);
  },
};
