/**
 * Snapshots as streams, so that no one step — writing a snapshot file, sending a SNAP to a
 * follower, loading one — holds the event loop for the whole tree.
 *
 * `openSnapshot(state)` fixes a consistent image of the applied state at this instant
 * (`zxid` = lastProcessedZxid) and hands it out in slices; the state keeps being mutated
 * between slices and the image does not change. `SnapshotLoader` rebuilds a state from the
 * same bytes fed in chunks of any size.
 *
 * The bytes are snapshot-codec.ts format 2 whether produced at once (`serializeState`) or in
 * slices, and load with `deserializeState` or chunk by chunk with `SnapshotLoader`.
 */
import type { Clock } from '../../clock.js';
import { SnapshotLoader } from './snapshot-codec.js';
import type { ZkState } from './state.js';
import { TreeImage } from './tree-image.js';
import type { ZkStateOptions } from './types.js';

export { SnapshotLoader };

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

/** A consistent snapshot of `state` as it is now (copy-on-write: see tree-image.ts). */
export function openSnapshot(state: ZkState): SnapshotReader {
  return new TreeImage(state.tree, state.lastProcessedZxid, [...state.sessions].map(([id, s]) => [id, s.timeoutMs] as const));
}

/** The whole image at once (tests, small trees). */
export function serializeState(state: ZkState): Buffer {
  const reader = openSnapshot(state);
  const parts: Buffer[] = [];
  try {
    for (let s = reader.next(1 << 20); s !== null; s = reader.next(1 << 20)) parts.push(s);
  } finally {
    reader.close();
  }
  return Buffer.concat(parts);
}

export function deserializeState(buf: Buffer, options: ZkStateOptions = {}): ZkState {
  const loader = new SnapshotLoader(options);
  loader.push(buf);
  return loader.finish();
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
