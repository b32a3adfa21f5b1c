/**
 * Turns the core's tick-counted leases into monotonic deadlines. The core counts ticks; the
 * driver records when (monotonic ms) it fed each tick, so a lease anchored on tick k ends at
 * `fedAt(k) + ticks x tickMs` of real time even if ticks ran late (a stalled event loop must
 * shorten a lease, never stretch it).
 */
const KEEP_TICKS = 1024;

export class LeaseClock {
  private readonly fedAt = new Map<number, number>();
  private leaseEndMono = -Infinity;
  /** Monotonic end of the lease granted to each follower (leader side). */
  private readonly granted = new Map<number, number>();

  constructor(private readonly tickMs: number) {}

  /** The core's tick counter after a tick (or at start) was fed at `mono`. */
  fed(tick: number, mono: number): void {
    this.fedAt.set(tick, mono);
    this.fedAt.delete(tick - KEEP_TICKS);
  }

  /** A `lease` action: returns its end (monotonic), -Infinity if the anchor tick is unknown. */
  lease(anchorTick: number, ticks: number): number {
    const at = this.fedAt.get(anchorTick);
    this.leaseEndMono = at === undefined ? -Infinity : at + ticks * this.tickMs;
    return this.leaseEndMono;
  }

  /** A role change ends any lease. */
  endLease(): void {
    this.leaseEndMono = -Infinity;
  }

  holds(nowMono: number): boolean {
    return nowMono < this.leaseEndMono;
  }

  get leaseEnd(): number {
    return this.leaseEndMono;
  }

  /** A `leaseGranted` action: `peer` may serve until `ticks` ticks from `nowMono`. */
  grant(peer: number, ticks: number, nowMono: number): void {
    this.granted.set(peer, Math.max(this.granted.get(peer) ?? -Infinity, nowMono + ticks * this.tickMs));
  }

  /** Until when `peer` may be answering clients on a lease from us (-Infinity: never granted). */
  grantedUntil(peer: number): number {
    return this.granted.get(peer) ?? -Infinity;
  }

  /** A new leadership starts with no grants. */
  clearGrants(): void {
    this.granted.clear();
  }
}
