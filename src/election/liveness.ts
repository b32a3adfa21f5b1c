/**
 * The bounded loss deadline, as pure logic over a monotonic clock reading.
 *
 * "Confirmed contact" is the *send* time of the newest request that got a reply from a
 * server: the server touched our session no earlier than that, so the session cannot
 * expire before `contact + sessionTimeout`. A leader that has not confirmed contact for
 * `lossRatio * sessionTimeout` must stop, which leaves `(1 - lossRatio) * sessionTimeout`
 * of margin for scheduling delay and for the application to actually stop acting.
 *
 * Nothing here waits on the network: the owner feeds it readings from a timer, so a
 * request that hangs forever cannot hold the deadline back.
 */
export type Liveness = 'confirmed' | 'suspended' | 'lost';

export interface LivenessThresholds {
  /** No confirmed contact for this long: suspended (a leader must pause). */
  readonly suspendAfterMs: number;
  /** No confirmed contact for this long: lost (a leader must stop for good). */
  readonly loseAfterMs: number;
}

export function thresholdsFor(sessionTimeoutMs: number, lossRatio: number): LivenessThresholds {
  const loseAfterMs = Math.max(1, Math.floor(sessionTimeoutMs * lossRatio));
  // The C client pings every timeout/3 when idle and our own probe runs every timeout/6,
  // so a healthy session confirms contact well within timeout/3. Never suspend later than half the loss deadline.
  const suspendAfterMs = Math.min(Math.floor(sessionTimeoutMs / 3), Math.floor(loseAfterMs / 2));
  return { suspendAfterMs, loseAfterMs };
}

export class LivenessMonitor {
  private lastContactMs: number;

  constructor(
    private thresholds: LivenessThresholds,
    nowMs: number,
  ) {
    this.lastContactMs = nowMs;
  }

  /** A reply arrived for a request sent at `sentAtMs`. Replies may arrive out of order. */
  confirm(sentAtMs: number): void {
    if (sentAtMs > this.lastContactMs) this.lastContactMs = sentAtMs;
  }

  /** After a new session is established, contact counts from the connect itself. */
  reset(nowMs: number, thresholds?: LivenessThresholds): void {
    this.lastContactMs = nowMs;
    if (thresholds) this.thresholds = thresholds;
  }

  sinceContactMs(nowMs: number): number {
    return nowMs - this.lastContactMs;
  }

  /** When the leader will be declared lost unless contact is confirmed first. */
  deadlineMs(): number {
    return this.lastContactMs + this.thresholds.loseAfterMs;
  }

  evaluate(nowMs: number): Liveness {
    const since = nowMs - this.lastContactMs;
    if (since >= this.thresholds.loseAfterMs) return 'lost';
    if (since >= this.thresholds.suspendAfterMs) return 'suspended';
    return 'confirmed';
  }
}
