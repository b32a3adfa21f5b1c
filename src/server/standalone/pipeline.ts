/**
 * The request pipeline between prep and apply: prepared txns are appended to the log, one
 * fsync covers every txn queued while the previous one ran (group commit), and only then
 * are they applied, in order, and answered. Reads and syncs of a session that still has
 * writes in the queue wait behind them, so a client always reads its own writes.
 *
 * `apply` is the only stage that changes the state; it runs here and nowhere else.
 */
import type { Clock } from '../node/clock.js';
import type { ApplyResult, Txn } from '../tree/types.js';

export interface DurableLog {
  append(zxid: bigint, payload: Buffer): void;
  flush(): Promise<void>;
}

interface Entry {
  sessionId: bigint;
  txn: Txn | undefined;
  done: (result: ApplyResult | undefined) => void;
}

export class Pipeline {
  private readonly queue: Entry[] = [];
  private readonly pendingPerSession = new Map<bigint, number>();
  private draining = false;
  private failed: Error | undefined;

  constructor(
    private readonly log: DurableLog,
    private readonly encode: (txn: Txn) => Buffer,
    private readonly apply: (txn: Txn) => ApplyResult,
    private readonly clock: Clock,
    private readonly onFatal: (e: Error) => void,
    /** After each flush: the log may have room again. */
    private readonly flushed: () => void = () => undefined,
  ) {}

  get depth(): number {
    return this.queue.length;
  }

  hasPending(sessionId: bigint): boolean {
    return (this.pendingPerSession.get(sessionId) ?? 0) > 0;
  }

  /** Log, then apply `txn`; `done` gets the result once it is durable and applied. */
  write(txn: Txn, done: (result: ApplyResult) => void): void {
    if (this.failed) throw this.failed;
    this.log.append(txn.zxid, this.encode(txn));
    this.enqueue({ sessionId: txn.sessionId, txn, done: (r) => done(r!) });
  }

  /** Runs `fn` after every queued write of this session has been applied. */
  after(sessionId: bigint, fn: () => void): void {
    if (!this.hasPending(sessionId)) {
      fn();
      return;
    }
    this.enqueue({ sessionId, txn: undefined, done: () => fn() });
  }

  private enqueue(e: Entry): void {
    this.queue.push(e);
    this.pendingPerSession.set(e.sessionId, (this.pendingPerSession.get(e.sessionId) ?? 0) + 1);
    if (!this.draining) {
      this.draining = true;
      // Let the current burst of requests (one socket read may carry many) queue up first.
      this.clock.soon(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.length;
        if (this.queue.slice(0, batch).some((e) => e.txn)) {
          await this.log.flush();
          this.flushed();
        }
        for (const e of this.queue.splice(0, batch)) {
          const left = (this.pendingPerSession.get(e.sessionId) ?? 1) - 1;
          if (left <= 0) this.pendingPerSession.delete(e.sessionId);
          else this.pendingPerSession.set(e.sessionId, left);
          if (e.txn) {
            const result = this.apply(e.txn);
            e.done(result);
          } else {
            e.done(undefined);
          }
        }
      }
    } catch (e) {
      // A failed fsync means nothing after it may be acknowledged: stop the server.
      this.failed = e as Error;
      this.onFatal(e as Error);
    } finally {
      this.draining = false;
    }
  }
}
