/**
 * The transaction log: durable, checksummed, segmented storage of (zxid, payload) records.
 * The on-disk format is described in log-format.ts; opening and repair in log-recovery.ts.
 *
 * Durability model: append() only buffers. flush() is a group commit: one write and one
 * fdatasync cover every append made before the round started, and flush() calls that arrive
 * while a round is running share one next round. A promise from flush() resolves only after
 * the fdatasync of the data it covers returned. If a write or sync fails, the log is poisoned
 * (after a failed fsync Linux may have dropped the dirty pages, so nothing can be assumed);
 * only a restart, which re-verifies the files, recovers from that.
 *
 * Every operation that touches the files runs on one promise chain, so a roll, a truncation
 * and a purge never interleave with a round.
 */
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { LogPoisonedError, LogRangeError } from './errors.js';
import { fsyncDir, MAX_ZXID, silentLogger, writeFully, type StorageLogger } from './fsutil.js';
import { encodeRecord, encodeSegmentHeader, RECORD_HEADER_BYTES, readSegment, scanSegment, SEGMENT_HEADER_BYTES, segmentName } from './log-format.js';
import { loadLogDir, type LogRecord, type Segment } from './log-recovery.js';

export type { LogRecord } from './log-recovery.js';
export { CorruptLogError } from './errors.js';

export interface TxnLogOptions {
  /** Roll to a new segment once this many bytes would be exceeded. Default 64 MiB, 256 B..1 TiB. */
  maxSegmentBytes?: number;
  /** Largest payload accepted, and trusted when reading. Default 16 MiB, 0..1 GiB. */
  maxRecordBytes?: number;
  /** Appended but not yet flushed bytes above which append() throws. Default 256 MiB. */
  maxPendingBytes?: number;
  logger?: StorageLogger;
  /** Default true. false skips every fsync: only for benchmarks that say so. */
  fsync?: boolean;
}

export interface TxnLogStats {
  segments: number;
  bytes: number;
  /** fdatasync/fsync calls made since open, on segment files and on the directory. */
  fsyncs: number;
  lastFsyncMs: number;
}

const MiB = 1 << 20;
function intOption(name: string, v: number | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

interface Pending {
  zxid: bigint;
  buf: Buffer;
}

export class TxnLog {
  private active: { seg: Segment; fh: FileHandle } | undefined;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private _lastZxid: bigint;
  private _durableZxid: bigint;
  private poison: LogPoisonedError | undefined;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private nextRound: Promise<void> | undefined;
  private currentRound: Promise<void> | undefined;
  private fsyncs = 0;
  private lastFsyncMs = 0;

  private constructor(
    readonly dir: string,
    private readonly segments: Segment[],
    /** Where an empty log starts (the caller's afterZxid), used until the first segment exists. */
    private readonly emptyStart: bigint,
    private readonly o: Required<Omit<TxnLogOptions, 'logger'>> & { logger: StorageLogger },
  ) {
    this._lastZxid = this._durableZxid = segments.at(-1)?.last ?? emptyStart;
  }

  /** Opens (creating `dir` if needed), verifies every record, repairs a torn tail, returns the records after `afterZxid`. */
  static async open(dir: string, opts: TxnLogOptions & { afterZxid?: bigint } = {}): Promise<{ log: TxnLog; records: LogRecord[] }> {
    const o = {
      maxSegmentBytes: intOption('maxSegmentBytes', opts.maxSegmentBytes, 64 * MiB, 256, 2 ** 40),
      maxRecordBytes: intOption('maxRecordBytes', opts.maxRecordBytes, 16 * MiB, 0, 1024 * MiB),
      maxPendingBytes: intOption('maxPendingBytes', opts.maxPendingBytes, 256 * MiB, 0, 2 ** 40),
      fsync: opts.fsync ?? true,
      logger: opts.logger ?? silentLogger,
    };
    if (opts.afterZxid !== undefined && (opts.afterZxid < 0n || opts.afterZxid > MAX_ZXID)) throw new RangeError(`afterZxid out of range: ${opts.afterZxid}`);
    await mkdir(dir, { recursive: true });
    const loaded = await loadLogDir(dir, { maxRecordBytes: o.maxRecordBytes, afterZxid: opts.afterZxid, logger: o.logger });
    // Everything below writes; it runs only once the whole directory has been verified.
    if (loaded.torn) {
      const t = loaded.torn;
      o.logger.warn('txn log: truncating a torn record at the end of the log', { file: t.file, offset: t.offset, bytesDropped: t.bytes, reason: t.reason });
    }
    for (const temp of loaded.temps) {
      o.logger.info('txn log: removing a temp file left by a crash', { file: temp });
      await unlink(temp);
    }
    for (const seg of loaded.emptyNonFinal) {
      o.logger.info('txn log: removing an empty segment left by a crash', { file: seg.file });
      await unlink(seg.file);
    }
    const segments = loaded.segments.filter((s) => !loaded.emptyNonFinal.includes(s));
    const log = new TxnLog(dir, segments, opts.afterZxid ?? 0n, o);
    const last = segments.at(-1);
    if (last) {
      const fh = await open(last.file, 'r+');
      log.active = { seg: last, fh };
      try {
        if (loaded.torn) await fh.truncate(last.size);
        // The previous process may have died between write and fdatasync: the records just
        // read may sit only in the page cache. Sync them before anyone acts on them.
        await log.sync(fh);
      } catch (err) {
        await fh.close();
        throw err;
      }
    }
    await log.syncDir();
    return { log, records: loaded.records };
  }

  get lastZxid(): bigint {
    return this._lastZxid;
  }
  get durableZxid(): bigint {
    return this._durableZxid;
  }
  /** The log holds every record with a zxid above this (older ones were purged or never here). */
  get startZxid(): bigint {
    return this.segments[0]?.prev ?? this.emptyStart;
  }

  /** Buffers a record; it is durable once a flush() started after this call resolves. */
  append(zxid: bigint, payload: Buffer): void {
    this.assertUsable();
    if (typeof zxid !== 'bigint') throw new TypeError('zxid must be a bigint');
    if (zxid <= this._lastZxid) throw new RangeError(`zxid 0x${zxid.toString(16)} is not above the last appended 0x${this._lastZxid.toString(16)} (log ${this.dir})`);
    if (zxid > MAX_ZXID) throw new RangeError(`zxid 0x${zxid.toString(16)} exceeds the largest zxid 0x${MAX_ZXID.toString(16)}`);
    if (!Buffer.isBuffer(payload)) throw new TypeError('payload must be a Buffer');
    if (payload.length > this.o.maxRecordBytes) throw new RangeError(`payload of ${payload.length} bytes exceeds maxRecordBytes ${this.o.maxRecordBytes}`);
    const size = RECORD_HEADER_BYTES + payload.length;
    if (this.pendingBytes + size > this.o.maxPendingBytes) throw new RangeError(`${this.pendingBytes} bytes await flush(); maxPendingBytes is ${this.o.maxPendingBytes}`);
    // Encoding now copies the payload, so the caller may reuse its buffer right away.
    this.pending.push({ zxid, buf: encodeRecord(zxid, payload) });
    this.pendingBytes += size;
    this._lastZxid = zxid;
  }

  /** Resolves once every record appended before this call is on stable storage. */
  flush(): Promise<void> {
    if (this.poison) return Promise.reject(this.poison);
    if (this.closed) return Promise.reject(new Error(`transaction log ${this.dir} is closed`));
    if (this.nextRound) return this.nextRound; // not started yet: it will take our appends too
    if (this.pending.length === 0) return this.currentRound ?? Promise.resolve();
    return this.scheduleRound();
  }

  /** Removes every record with a zxid above `zxid`, durably (pending ones included). */
  truncateAfter(zxid: bigint): Promise<void> {
    return this.enqueue(async () => {
      this.assertUsable();
      if (zxid >= this._lastZxid) return;
      if (zxid < this.startZxid) throw new LogRangeError(this.dir, `cannot truncate to zxid 0x${zxid.toString(16)}: the log starts after 0x${this.startZxid.toString(16)}`);
      this.pending = this.pending.filter((p) => p.zxid <= zxid);
      this.pendingBytes = this.pending.reduce((n, p) => n + p.buf.length, 0);
      this._lastZxid = this.pending.at(-1)?.zxid ?? this._durableZxid;
      await this.writeBatch();
      if (zxid >= this._durableZxid) return;
      try {
        // Newest segments first: after each unlink the directory still holds a valid, shorter log.
        let removed = false;
        while (this.segments.length > 1 && this.segments.at(-1)!.prev >= zxid) {
          const seg = this.segments.at(-1)!;
          if (this.active?.seg === seg) await this.closeActive();
          await unlink(seg.file);
          this.segments.pop();
          removed = true;
        }
        if (removed) await this.syncDir();
        const seg = this.segments.at(-1)!;
        const scan = await scanSegment(seg.file, { base: seg.base, final: true, maxRecordBytes: this.o.maxRecordBytes, upTo: zxid });
        if (this.active?.seg !== seg) this.active = { seg, fh: await open(seg.file, 'r+') };
        await this.active.fh.truncate(scan.validEnd);
        await this.sync(this.active.fh);
        Object.assign(seg, { size: scan.validEnd, count: scan.count, last: scan.lastZxid });
        this._lastZxid = this._durableZxid = seg.last;
      } catch (err) {
        // Disk and memory may now disagree about where the log ends: stop trusting either.
        throw this.poisonWith(err, this.segments.at(-1)?.file ?? this.dir, 0);
      }
    });
  }

  /** Deletes whole segments whose records are all below `zxid`; never the last segment. */
  purgeBefore(zxid: bigint): Promise<number> {
    return this.enqueue(async () => {
      if (this.closed) throw new Error(`transaction log ${this.dir} is closed`);
      let removed = 0;
      // Oldest first: the directory always holds a contiguous suffix of the log.
      while (this.segments.length > 1 && this.segments[0]!.last < zxid) {
        await unlink(this.segments[0]!.file);
        this.segments.shift();
        removed++;
      }
      if (removed > 0) await this.syncDir();
      return removed;
    });
  }

  /**
   * Discards every record and continues the log after `zxid`, for when a snapshot at `zxid`
   * is ahead of the whole log. Leaves an empty segment whose header records the new start, so
   * that a later recovery from an older snapshot sees the gap and refuses.
   */
  resetTo(zxid: bigint): Promise<void> {
    return this.enqueue(async () => {
      this.assertUsable();
      if (this.pending.length > 0) throw new Error(`resetTo with ${this.pending.length} unflushed appends in ${this.dir}`);
      if (zxid < this._lastZxid || zxid >= MAX_ZXID) throw new RangeError(`resetTo(0x${zxid.toString(16)}) must not go below the last zxid 0x${this._lastZxid.toString(16)}`);
      try {
        await this.closeActive();
        while (this.segments.length > 0) {
          await unlink(this.segments.at(-1)!.file);
          this.segments.pop();
        }
        await this.syncDir();
        this.active = await this.createSegment(zxid + 1n, zxid);
        this.segments.push(this.active.seg);
        this._lastZxid = this._durableZxid = zxid;
      } catch (err) {
        throw this.poisonWith(err, this.dir, 0);
      }
    });
  }

  /** The durable records with a zxid above `zxid`, as of the call (later appends are not included). */
  readFrom(zxid: bigint): AsyncIterable<LogRecord> {
    return { [Symbol.asyncIterator]: () => this.iterate(zxid) };
  }

  private async *iterate(zxid: bigint): AsyncGenerator<LogRecord> {
    // Open the files on the chain so no roll or truncation runs meanwhile; an open descriptor
    // keeps a purged file readable, and the captured sizes exclude later appends.
    const files = await this.enqueue(async () => {
      if (this.closed) throw new Error(`transaction log ${this.dir} is closed`);
      if (zxid < this.startZxid) throw new LogRangeError(this.dir, `records after zxid 0x${zxid.toString(16)} were purged; the log starts after 0x${this.startZxid.toString(16)}`);
      const out: Array<{ fh: FileHandle; file: string; end: number }> = [];
      try {
        for (const s of this.segments) if (s.last > zxid) out.push({ fh: await open(s.file, 'r'), file: s.file, end: s.size });
      } catch (err) {
        await Promise.all(out.map((f) => f.fh.close()));
        throw err;
      }
      return out;
    });
    try {
      for (const f of files) yield* readSegment(f.fh, f.file, f.end, this.o.maxRecordBytes, zxid);
    } finally {
      await Promise.all(files.map((f) => f.fh.close()));
    }
  }

  /** Flushes what is pending (unless poisoned) and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    let failure: unknown;
    if (!this.poison && this.pending.length > 0) await this.flush().catch((err: unknown) => (failure = err));
    this.closed = true;
    await this.enqueue(() => this.closeActive());
    if (failure !== undefined) throw failure;
  }

  stats(): TxnLogStats {
    return { segments: this.segments.length, bytes: this.segments.reduce((n, s) => n + s.size, 0), fsyncs: this.fsyncs, lastFsyncMs: this.lastFsyncMs };
  }

  // ---- internals -------------------------------------------------------------------------

  private assertUsable(): void {
    if (this.closed) throw new Error(`transaction log ${this.dir} is closed`);
    if (this.poison) throw this.poison;
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private scheduleRound(): Promise<void> {
    const round: Promise<void> = this.enqueue(async () => {
      if (this.nextRound === round) this.nextRound = undefined; // later flush() calls need a new round
      this.currentRound = round;
      try {
        await this.writeBatch();
      } finally {
        if (this.currentRound === round) this.currentRound = undefined;
      }
    });
    this.nextRound = round;
    return round;
  }

  /** Writes everything pending, rolling segments as needed; one write + one sync per segment touched. */
  private async writeBatch(): Promise<void> {
    if (this.poison) throw this.poison;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      for (let i = 0; i < batch.length; ) {
        const first = batch[i]!.zxid;
        let act = this.active;
        if (!act) {
          act = await this.createSegment(first, this._durableZxid);
          this.segments.push(act.seg);
        } else if (act.seg.count > 0 && act.seg.size + batch[i]!.buf.length > this.o.maxSegmentBytes) {
          // Roll. The old segment's data was synced by the previous step, so the new header's
          // `prev` never points at records that could still be lost.
          const next = await this.createSegment(first, act.seg.last);
          this.segments.push(next.seg);
          await act.fh.close();
          act = next;
        } else if (act.seg.count === 0 && act.seg.base !== first) {
          // An empty segment (after a crash, truncation or reset) named for another zxid: replace
          // it. Both are empty with the same `prev`, so a crash in between leaves a valid chain.
          const next = await this.createSegment(first, act.seg.prev);
          await act.fh.close();
          await unlink(act.seg.file);
          await this.syncDir();
          this.segments.splice(this.segments.indexOf(act.seg), 1, next.seg);
          act = next;
        }
        this.active = act;
        let j = i;
        let bytes = 0;
        while (j < batch.length && (j === i || act.seg.size + bytes + batch[j]!.buf.length <= this.o.maxSegmentBytes)) bytes += batch[j++]!.buf.length;
        const slice = batch.slice(i, j);
        const buf = slice.length === 1 ? slice[0]!.buf : Buffer.concat(slice.map((p) => p.buf), bytes);
        const at = act.seg.size;
        try {
          await writeFully(act.fh, buf, at);
          await this.sync(act.fh);
        } catch (err) {
          throw this.poisonWith(err, act.seg.file, at);
        }
        act.seg.size += bytes;
        act.seg.count += slice.length;
        act.seg.last = this._durableZxid = slice.at(-1)!.zxid;
        i = j;
      }
    } catch (err) {
      throw this.poisonWith(err, this.active?.seg.file ?? this.dir, this.active?.seg.size ?? 0);
    }
  }

  /** Creates `log.<base>` atomically: header written and synced under a temp name, then renamed. */
  private async createSegment(base: bigint, prev: bigint): Promise<{ seg: Segment; fh: FileHandle }> {
    const file = path.join(this.dir, segmentName(base));
    const temp = `${file}.tmp`;
    const t = await open(temp, 'w');
    try {
      await writeFully(t, encodeSegmentHeader({ base, prev }), 0);
      await this.sync(t);
    } finally {
      await t.close();
    }
    await rename(temp, file);
    await this.syncDir();
    return { seg: { file, base, prev, last: prev, count: 0, size: SEGMENT_HEADER_BYTES }, fh: await open(file, 'r+') };
  }

  private async closeActive(): Promise<void> {
    const a = this.active;
    this.active = undefined;
    await a?.fh.close();
  }

  private poisonWith(err: unknown, file: string, offset: number): LogPoisonedError {
    if (!this.poison) {
      this.poison = err instanceof LogPoisonedError ? err : new LogPoisonedError(file, offset, err);
      this.o.logger.warn('txn log: write failed, log poisoned', { file: this.poison.file, offset: this.poison.offset, error: this.poison.message });
    }
    return this.poison;
  }

  private async sync(fh: FileHandle): Promise<void> {
    if (!this.o.fsync) return;
    const t0 = performance.now();
    await fh.datasync();
    this.fsyncs++;
    this.lastFsyncMs = performance.now() - t0;
  }

  private async syncDir(): Promise<void> {
    if (!this.o.fsync) return;
    await fsyncDir(this.dir);
    this.fsyncs++;
  }
}
