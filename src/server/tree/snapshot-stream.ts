/**
 * Snapshots as streams, so that no one step — writing a snapshot file, sending a SNAP to a
 * follower, loading one — holds the event loop for the whole tree.
 *
 * `openSnapshot(state)` fixes a consistent image of the applied state at this instant
 * (`zxid` = lastProcessedZxid) and hands it out in slices; the state keeps being mutated
 * between slices and the image does not change. `SnapshotLoader` rebuilds a state from the
 * same bytes fed in chunks of any size.
 *
 * The bytes are exactly those of `serializeState` (snapshot-codec.ts), so a snapshot written
 * in slices loads with `deserializeState` and vice versa.
 */
import type { Clock } from '../../clock.js';
import { deserializeState, serializeState } from './snapshot-codec.js';
import type { ZkState } from './state.js';
import type { ZkStateOptions } from './types.js';

/** A consistent image of the applied state at `zxid`, read out in slices. */
export interface SnapshotReader {
  /** The image is of the state right after this txn. */
  readonly zxid: bigint;
  /**
   * The next slice of the serialized image: about `maxBytes` (it may overshoot by one
   * record), or null once everything was returned. Cheap enough to call on the event loop.
   */
  next(maxBytes: number): Buffer | null;
  /** Stop early (or after the end): releases what the state keeps for this image. */
  close(): void;
}

/** A consistent snapshot of `state` as it is now. */
export function openSnapshot(state: ZkState): SnapshotReader {
  // Interim: serialise at once and slice. The tree's copy-on-write image replaces this.
  const zxid = state.lastProcessedZxid;
  let bytes: Buffer | null = serializeState(state);
  let offset = 0;
  return {
    zxid,
    next(maxBytes) {
      if (bytes === null || offset >= bytes.length) return null;
      const end = Math.min(bytes.length, offset + Math.max(1, maxBytes));
      const slice = bytes.subarray(offset, end);
      offset = end;
      return slice;
    },
    close() {
      bytes = null;
    },
  };
}

/** Rebuilds a ZkState from a snapshot's bytes, pushed in order in chunks of any size. */
export class SnapshotLoader {
  private readonly chunks: Buffer[] = [];
  private finished = false;

  constructor(private readonly options: ZkStateOptions = {}) {}

  push(chunk: Buffer): void {
    if (this.finished) throw new Error('SnapshotLoader: push after finish');
    if (chunk.length > 0) this.chunks.push(chunk);
  }

  /** The state; throws RangeError if the bytes are incomplete or not a snapshot. */
  finish(): ZkState {
    this.finished = true;
    return deserializeState(Buffer.concat(this.chunks), this.options);
  }
}

export interface SliceOptions {
  /** Bytes per slice (default 256 KiB). */
  sliceBytes?: number;
  /** Yields to other work between slices. */
  clock: Pick<Clock, 'soon'>;
}

/**
 * The reader's slices, with a turn of the event loop (clock.soon) before each one after the
 * first, so reads and writes keep being served meanwhile. The consumer pulls: a slow disk or
 * peer slows the reading down and nothing piles up. The reader is closed when the iteration
 * ends, also on error or an early `return`.
 */
export async function* snapshotSlices(reader: SnapshotReader, o: SliceOptions): AsyncGenerator<Buffer> {
  const sliceBytes = o.sliceBytes ?? 256 * 1024;
  try {
    for (let first = true; ; first = false) {
      if (!first) await new Promise<void>((resolve) => o.clock.soon(resolve));
      const slice = reader.next(sliceBytes);
      if (slice === null) return;
      yield slice;
    }
  } finally {
    reader.close();
  }
}
