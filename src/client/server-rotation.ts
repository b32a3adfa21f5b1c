/**
 * Which server to dial next and how long to wait first. Like the reference clients: a random
 * starting point (so a fleet of clients spreads over the ensemble), then round-robin, moving
 * on after every failure. The pause before an attempt is random (the Java client sleeps up to
 * a second before reconnecting, so clients dropped together do not return together), and
 * after a whole round of failures it has a floor, so an unreachable ensemble is not dialed in
 * a tight loop. Randomness comes only from the injected Rng.
 */

import type { Rng } from './types.js';

export class ServerRotation {
  private nextIndex: number;
  private failedInRound = 0;

  constructor(
    private readonly servers: readonly string[],
    private readonly rng: Rng,
    private readonly reconnectDelayMs: number | undefined,
  ) {
    if (servers.length === 0) throw new Error('a ZooKeeper client needs at least one server');
    this.nextIndex = rng.int(0, servers.length - 1);
  }

  take(): string {
    const server = this.servers[this.nextIndex] as string;
    this.nextIndex = (this.nextIndex + 1) % this.servers.length;
    return server;
  }

  /** A handshake succeeded: the next failure starts a new round. */
  connected(): void {
    this.failedInRound = 0;
  }

  /** An attempt failed before its handshake completed. */
  failed(): void {
    this.failedInRound++;
  }

  /** Milliseconds to wait before the next attempt; `timeoutMs` is the session timeout in force. */
  delayMs(timeoutMs: number): number {
    const jitter = Math.max(0, this.reconnectDelayMs ?? Math.min(1000, Math.floor(timeoutMs / 10)));
    let delay = this.rng.int(0, jitter);
    if (this.failedInRound >= this.servers.length) {
      this.failedInRound = 0;
      delay += Math.max(1, jitter);
    }
    return delay;
  }
}
