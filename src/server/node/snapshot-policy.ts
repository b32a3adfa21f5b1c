/**
 * When a node writes a snapshot, in one place for both write paths: after `snapCount` applied
 * txns, outside whatever loop applied them (the consensus job loop must not wait on
 * serialisation or on file removal), one at a time. Purging old snapshots and the log segments
 * they cover follows each snapshot.
 */
import type { Logger } from '../../log.js';
import type { DataDir } from '../storage/data-dir.js';
import { openSnapshot, snapshotSlices } from '../tree/snapshot-stream.js';
import type { ZkState } from '../tree/state.js';
import type { Clock } from './clock.js';

export interface SnapshotPolicyOptions {
  snapCount: number;
  snapRetain: number;
  dataDir: DataDir;
  clock: Clock;
  logger: Logger;
  state(): ZkState;
  /** A snapshot of the applied state at `zxid` is durable (the cluster core may compact its log). */
  written?(zxid: bigint): void;
}

export class SnapshotPolicy {
  private sinceLast = 0;
  private running: Promise<void> | undefined;
  /** Snapshots written by this process. */
  count = 0;

  constructor(private readonly o: SnapshotPolicyOptions) {}

  /** `n` more txns were applied. */
  applied(n = 1): void {
    this.sinceLast += n;
    if (this.sinceLast < this.o.snapCount || this.running) return;
    this.o.clock.soon(() => void this.take());
  }

  /** Writes a snapshot now (unless one is running: then waits for that one). */
  take(): Promise<void> {
    this.running ??= this.write().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async write(): Promise<void> {
    this.sinceLast = 0;
    try {
      // A consistent image of the applied state now, written in slices between other work.
      const reader = openSnapshot(this.o.state());
      const zxid = reader.zxid;
      let bytes = 0;
      const started = this.o.clock.monoMs();
      async function* counted(slices: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
        for await (const s of slices) {
          bytes += s.length;
          yield s;
        }
      }
      const file = await this.o.dataDir.writeSnapshot(zxid, counted(snapshotSlices(reader, { clock: this.o.clock })));
      this.count++;
      this.o.written?.(zxid);
      const purged = await this.o.dataDir.purge(this.o.snapRetain);
      this.o.logger.info('snapshot written', { file, zxid, bytes, ms: Math.round(this.o.clock.monoMs() - started), ...purged });
    } catch (e) {
      this.o.logger.error('snapshot failed (the log still holds everything)', { error: (e as Error).message });
    }
  }
}
