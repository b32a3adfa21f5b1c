/**
 * Request counts and latency histograms per operation, for /metrics. The server calls
 * `record(op, ms)` when it answers a request; nothing here allocates per request beyond the
 * first sighting of an op name.
 */

/** Upper bounds (ms) of the latency buckets; +Inf is implied. */
export const LATENCY_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Op names come from the protocol decoder, but keep label cardinality bounded anyway. */
const MAX_OPS = 64;

export interface OpStats {
  count: number;
  sumMs: number;
  /** Per bucket (same index as LATENCY_BUCKETS_MS), not cumulative; the last slot is +Inf. */
  buckets: number[];
}

export class RequestMetrics {
  private readonly ops = new Map<string, OpStats>();

  record(op: string, ms: number): void {
    let s = this.ops.get(op);
    if (!s) {
      if (this.ops.size >= MAX_OPS) op = 'other';
      s = this.ops.get(op);
      if (!s) this.ops.set(op, (s = { count: 0, sumMs: 0, buckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0) }));
    }
    const v = ms > 0 && Number.isFinite(ms) ? ms : 0;
    s.count++;
    s.sumMs += v;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && v > (LATENCY_BUCKETS_MS[i] as number)) i++;
    (s.buckets[i] as number)++;
  }

  /** A copy, ops sorted by name. */
  snapshot(): Array<[string, OpStats]> {
    return [...this.ops]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([op, s]) => [op, { count: s.count, sumMs: s.sumMs, buckets: [...s.buckets] }]);
  }

  reset(): void {
    this.ops.clear();
  }
}
