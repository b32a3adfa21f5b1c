/**
 * The segment files of one log directory and every change made to them: appending a batch,
 * rolling, truncating, purging, restarting. Each method leaves the directory a valid log at
 * every step, so a crash anywhere in it is recovered by log-recovery.ts:
 *   - new segments appear by rename, header already synced, then the directory is synced;
 *   - a segment is created only after the previous one's data is synced, so its `prev`
 *     never names records that could still be lost;
 *   - segments are removed newest first when truncating and oldest first when purging, so
 *     what remains is always a contiguous chain.
 * TxnLog serialises calls; errors are thrown as WriteFailure naming the file and offset.
 */
import path from 'node:path';
import type { FileHandle, FileSystem } from './file-system.js';
import { fsyncDir, writeFully, type StorageLogger } from './fsutil.js';
import { encodeSegmentHeader, scanSegment, SEGMENT_HEADER_BYTES, segmentName } from './log-format.js';
import type { Segment } from './log-recovery.js';

export interface PendingRecord {
  zxid: bigint;
  /** The encoded record (header + payload). */
  buf: Buffer;
}

export class WriteFailure extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    override readonly cause: unknown,
  ) {
    super(`write failed at ${file} offset ${offset}`);
  }
}

async function at<T>(file: string, offset: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof WriteFailure ? err : new WriteFailure(file, offset, err);
  }
}

export class SegmentFiles {
  active: { seg: Segment; fh: FileHandle } | undefined;
  fsyncs = 0;
  slowFsyncs = 0;
  lastFsyncMs = 0;

  constructor(
    readonly dir: string,
    readonly segments: Segment[],
    private readonly o: { fs: FileSystem; maxSegmentBytes: number; maxRecordBytes: number; fsync: boolean; fsyncWarningThresholdMs: number; logger: StorageLogger },
  ) {}

  /** Opens the last segment for appending, cutting it at `cutAt` (a torn tail) first; syncs it. */
  async attachLast(cutAt: number | undefined): Promise<void> {
    const last = this.segments.at(-1);
    if (last) {
      const fh = await this.o.fs.open(last.file, 'r+');
      this.active = { seg: last, fh };
      if (cutAt !== undefined) await fh.truncate(cutAt);
      // The previous process may have died between write and fdatasync: what was just read
      // may sit only in the page cache. Make it durable before anyone acts on it.
      await this.sync(fh);
    }
    await this.syncDir();
  }

  /** Appends the batch, rolling as needed: one write and one fdatasync per segment touched. */
  async write(batch: PendingRecord[], durableBefore: bigint, onDurable: (zxid: bigint) => void): Promise<void> {
    for (let i = 0; i < batch.length; ) {
      const act = await this.segmentFor(batch[i]!, durableBefore);
      let j = i;
      let bytes = 0;
      while (j < batch.length && (j === i || act.seg.size + bytes + batch[j]!.buf.length <= this.o.maxSegmentBytes)) bytes += batch[j++]!.buf.length;
      const slice = batch.slice(i, j);
      const buf = slice.length === 1 ? slice[0]!.buf : Buffer.concat(slice.map((p) => p.buf), bytes);
      await at(act.seg.file, act.seg.size, async () => {
        await writeFully(act.fh, buf, act.seg.size);
        await this.sync(act.fh);
      });
      act.seg.size += bytes;
      act.seg.count += slice.length;
      act.seg.last = slice.at(-1)!.zxid;
      onDurable(act.seg.last);
      i = j;
    }
  }

  /** The segment the next record goes to: the active one, a new one after a roll, or a replacement. */
  private async segmentFor(first: PendingRecord, durableBefore: bigint): Promise<{ seg: Segment; fh: FileHandle }> {
    const act = this.active;
    if (!act) {
      this.active = await this.create(first.zxid, durableBefore);
      this.segments.push(this.active.seg);
    } else if (act.seg.count > 0 && act.seg.size + first.buf.length > this.o.maxSegmentBytes) {
      this.active = await this.create(first.zxid, act.seg.last);
      this.segments.push(this.active.seg);
      await act.fh.close();
    } else if (act.seg.count === 0 && act.seg.base !== first.zxid) {
      // An empty segment (left by a crash, a truncation or a reset) named for another zxid.
      // Both are empty with the same `prev`, so a crash between these steps is harmless.
      const next = await this.create(first.zxid, act.seg.prev);
      await act.fh.close();
      await at(act.seg.file, 0, () => this.o.fs.unlink(act.seg.file));
      await this.syncDir();
      this.segments.splice(this.segments.indexOf(act.seg), 1, next.seg);
      this.active = next;
    }
    return this.active!;
  }

  /** Creates `log.<base>`: header written and synced under a temp name, renamed, directory synced. */
  private async create(base: bigint, prev: bigint): Promise<{ seg: Segment; fh: FileHandle }> {
    const file = path.join(this.dir, segmentName(base));
    return at(file, 0, async () => {
      const temp = `${file}.tmp`;
      const t = await this.o.fs.open(temp, 'w');
      try {
        await writeFully(t, encodeSegmentHeader({ base, prev }), 0);
        await this.sync(t);
      } finally {
        await t.close();
      }
      await this.o.fs.rename(temp, file);
      await this.syncDir();
      return { seg: { file, base, prev, last: prev, count: 0, size: SEGMENT_HEADER_BYTES }, fh: await this.o.fs.open(file, 'r+') };
    });
  }

  /** Drops every record above `zxid` (which must be at or after the log start); returns the new last zxid. */
  async truncateAfter(zxid: bigint): Promise<bigint> {
    let removed = false;
    while (this.segments.length > 1 && this.segments.at(-1)!.prev >= zxid) {
      const seg = this.segments.at(-1)!;
      if (this.active?.seg === seg) await this.closeActive();
      await at(seg.file, 0, () => this.o.fs.unlink(seg.file));
      this.segments.pop();
      removed = true;
    }
    if (removed) await this.syncDir();
    const seg = this.segments.at(-1)!;
    const scan = await scanSegment(seg.file, { fs: this.o.fs, base: seg.base, final: true, maxRecordBytes: this.o.maxRecordBytes, upTo: zxid });
    if (this.active?.seg !== seg) this.active = { seg, fh: await this.o.fs.open(seg.file, 'r+') };
    const fh = this.active.fh;
    await at(seg.file, scan.validEnd, async () => {
      await fh.truncate(scan.validEnd);
      await this.sync(fh);
    });
    Object.assign(seg, { size: scan.validEnd, count: scan.count, last: scan.lastZxid });
    return seg.last;
  }

  /** Deletes the oldest segments whose records are all below `zxid`, never the last; returns how many. */
  async purgeBefore(zxid: bigint): Promise<number> {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[0]!.last < zxid) {
      await this.o.fs.unlink(this.segments[0]!.file);
      this.segments.shift();
      removed++;
    }
    if (removed > 0) await this.syncDir();
    return removed;
  }

  /** Removes every segment and leaves one empty segment that starts after `zxid`. */
  async resetTo(zxid: bigint): Promise<void> {
    await this.closeActive();
    while (this.segments.length > 0) {
      const seg = this.segments.at(-1)!;
      await at(seg.file, 0, () => this.o.fs.unlink(seg.file));
      this.segments.pop();
    }
    await this.syncDir();
    this.active = await this.create(zxid + 1n, zxid);
    this.segments.push(this.active.seg);
  }

  async closeActive(): Promise<void> {
    const a = this.active;
    this.active = undefined;
    await a?.fh.close();
  }

  stats(): { segments: number; bytes: number; fsyncs: number; slowFsyncs: number; lastFsyncMs: number } {
    return { segments: this.segments.length, bytes: this.segments.reduce((n, s) => n + s.size, 0), fsyncs: this.fsyncs, slowFsyncs: this.slowFsyncs, lastFsyncMs: this.lastFsyncMs };
  }

  private async sync(fh: FileHandle): Promise<void> {
    if (!this.o.fsync) return;
    const t0 = performance.now();
    await fh.datasync();
    this.fsyncs++;
    this.lastFsyncMs = performance.now() - t0;
    if (this.lastFsyncMs > this.o.fsyncWarningThresholdMs) {
      // FileTxnLog.commit: slow disks delay every acknowledged write; say so and count it.
      this.slowFsyncs++;
      this.o.logger.warn('txn log: fsync took longer than the warning threshold; every write waits for it', { ms: Math.round(this.lastFsyncMs), thresholdMs: this.o.fsyncWarningThresholdMs });
    }
  }

  private async syncDir(): Promise<void> {
    if (!this.o.fsync) return;
    await at(this.dir, 0, () => fsyncDir(this.dir, { fs: this.o.fs }));
    this.fsyncs++;
  }
}
