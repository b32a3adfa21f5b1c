/**
 * The leader's end of one SNAP stream: a consistent image of the applied state
 * (`openSnapshot`, tree/snapshot-stream.ts) read out in chunks of at most `maxBytes`, each
 * produced after a turn of the event loop (`snapshotSlices`), so clients and the other
 * followers are served between chunks.
 *
 * The core asks for one chunk at a time (`readSnapshot`) and only when its window for that
 * follower has room, so this holds at most about two slices: the one being cut and the one read
 * ahead to tell whether the chunk handed out is the last. The reader's slices may overshoot the
 * size asked for by one record; chunks never do (they are byte ranges of the image, cut
 * wherever the size falls: the follower's SnapshotLoader takes chunks of any size).
 */
import type { Clock } from '../node/clock.js';
import { snapshotSlices, type SnapshotReader } from '../tree/snapshot-stream.js';

export interface SnapshotChunk {
  readonly bytes: Buffer;
  /** Nothing of the image follows. */
  readonly last: boolean;
}

export class SnapshotSource {
  readonly zxid: bigint;
  private readonly slices: AsyncGenerator<Buffer>;
  private readonly buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private closed = false;
  private taking = false;
  /** Handed out so far. */
  chunks = 0;
  bytes = 0;

  private readonly reader: SnapshotReader;

  constructor(reader: SnapshotReader, clock: Pick<Clock, 'soon'>, sliceBytes: number) {
    this.zxid = reader.zxid;
    // Closed exactly once, by whichever comes first: the generator's end or our close().
    let open = true;
    this.reader = {
      zxid: reader.zxid,
      next: (maxBytes) => (open ? reader.next(maxBytes) : null),
      close: () => {
        if (open) reader.close();
        open = false;
      },
    };
    this.slices = snapshotSlices(this.reader, { clock, sliceBytes });
  }

  /** The next chunk: at most `maxBytes`, empty only if the image is (it never is: it has a header). */
  async take(maxBytes: number): Promise<SnapshotChunk> {
    if (this.closed) throw new Error('SnapshotSource: take after close');
    if (this.taking) throw new Error('SnapshotSource: one take at a time');
    if (!(maxBytes >= 1)) throw new RangeError(`chunk size ${maxBytes}`);
    this.taking = true;
    try {
      // Read until more than a chunk is here (so we know whether another follows) or the image ends.
      while (!this.ended && this.bufferedBytes <= maxBytes) {
        const r = await this.slices.next();
        if (r.done === true) this.ended = true;
        else if (r.value.length > 0) {
          this.buffered.push(r.value);
          this.bufferedBytes += r.value.length;
        }
      }
      const parts: Buffer[] = [];
      let n = 0;
      while (n < maxBytes && this.buffered.length > 0) {
        const head = this.buffered[0]!;
        const take = Math.min(head.length, maxBytes - n);
        parts.push(head.subarray(0, take));
        if (take === head.length) this.buffered.shift();
        else this.buffered[0] = head.subarray(take);
        n += take;
      }
      this.bufferedBytes -= n;
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
      this.chunks++;
      this.bytes += n;
      return { bytes, last: this.ended && this.bufferedBytes === 0 };
    } finally {
      this.taking = false;
    }
  }

  /** Releases the image (also mid-stream, also while a take is pending: its result is then stale). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffered.length = 0;
    this.bufferedBytes = 0;
    // Released now, not when the generator gets round to its `finally` (it may be waiting for a
    // turn of the event loop, and one that never ran never will): an open image keeps the tree
    // copying nodes before changes and holding back every free (DataTree.deferredFrees).
    this.reader.close();
    void this.slices.return(undefined);
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
