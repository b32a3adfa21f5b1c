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
 * Every operation that touches the files (log-files.ts) runs on one promise chain, so a
 * roll, a truncation and a purge never interleave with a round.
 *
 * A TxnLog does not lock its directory: open it through DataDir, or otherwise make sure no
 * other TxnLog (in this or another process) has the same directory open.
 */
import { LogPoisonedError, LogRangeError } from './errors.js';
import { nodeFileSystem, type FileHandle, type FileSystem } from './file-system.js';
import { MAX_ZXID, mkdirDurable, silentLogger, type StorageLogger } from './fsutil.js';
import { SegmentFiles, WriteFailure, type PendingRecord } from './log-files.js';
import { encodeRecord, RECORD_HEADER_BYTES, readSegment } from './log-format.js';
import { loadLogDir, type LogRecord } from './log-recovery.js';

export type { LogRecord } from './log-recovery.js';
export { CorruptLogError } from './errors.js';

export interface TxnLogOptions {
  /** Roll to a new segment once this many bytes would be exceeded. Default 64 MiB, 256 B..1 TiB. */
  maxSegmentBytes?: number;
  /** Largest payload accepted, and trusted when reading. Default 16 MiB, 0..1 GiB. */
  maxRecordBytes?: number;
  /** Appended but not yet durable bytes (waiting for a round, or in the round being written and
   * synced) above which the log reports itself `congested` until they are down to half, so that
   * the server stops reading requests meanwhile. Never a refusal. Default 256 MiB. */
  maxPendingBytes?: number;
  logger?: StorageLogger;
  /** Default true. false skips every fsync: only for benchmarks that say so. */
  fsync?: boolean;
  /** A log fsync slower than this is warned about and counted (ZooKeeper's
   * fsync.warningthresholdms). Default 1000 ms. */
  fsyncWarningThresholdMs?: number;
  /** Default the real disk (nodeFileSystem). */
  fs?: FileSystem;
}

export interface TxnLogStats {
  segments: number;
  bytes: number;
  /** fdatasync/fsync calls made since open, on segment files and on the directory. */
  fsyncs: number;
  /** Segment fsyncs that took longer than fsyncWarningThresholdMs (fsync_threshold_exceed_count). */
  slowFsyncs: number;
  lastFsyncMs: number;
}

const MiB = 1 << 20;
function intOption(name: string, v: number | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  return v;
}

export class TxnLog {
  private pending: PendingRecord[] = [];
  private pendingBytes = 0;
  /** Bytes of the round being written and synced (still in memory, not yet durable). */
  private writingBytes = 0;
  private congestedFlag = false;
  private peakUnsynced = 0;
  private _lastZxid: bigint;
  private _durableZxid: bigint;
  private poison: LogPoisonedError | undefined;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private nextRound: Promise<void> | undefined;
  private currentRound: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly files: SegmentFiles,
    /** Where an empty log starts (the caller's afterZxid), used until the first segment exists. */
    private readonly emptyStart: bigint,
    private readonly o: Required<Omit<TxnLogOptions, 'logger'>> & { logger: StorageLogger },
  ) {
    this._lastZxid = this._durableZxid = files.segments.at(-1)?.last ?? emptyStart;
  }

  /** Opens (creating `dir` if needed), verifies every record, repairs a torn tail, returns the records after `afterZxid`. */
  static async open(dir: string, opts: TxnLogOptions & { afterZxid?: bigint } = {}): Promise<{ log: TxnLog; records: LogRecord[] }> {
    const o = {
      maxSegmentBytes: intOption('maxSegmentBytes', opts.maxSegmentBytes, 64 * MiB, 256, 2 ** 40),
      maxRecordBytes: intOption('maxRecordBytes', opts.maxRecordBytes, 16 * MiB, 0, 1024 * MiB),
      maxPendingBytes: intOption('maxPendingBytes', opts.maxPendingBytes, 256 * MiB, RECORD_HEADER_BYTES, 2 ** 40),
      fsync: opts.fsync ?? true,
      fsyncWarningThresholdMs: intOption('fsyncWarningThresholdMs', opts.fsyncWarningThresholdMs, 1000, 0, 24 * 3600 * 1000),
      logger: opts.logger ?? silentLogger,
      fs: opts.fs ?? nodeFileSystem,
    };
    if (opts.afterZxid !== undefined && (opts.afterZxid < 0n || opts.afterZxid > MAX_ZXID)) throw new RangeError(`afterZxid out of range: ${opts.afterZxid}`);
    await mkdirDurable(dir, { fs: o.fs });
    const loaded = await loadLogDir(dir, { fs: o.fs, maxRecordBytes: o.maxRecordBytes, afterZxid: opts.afterZxid, logger: o.logger });
    // Everything below writes; it runs only once the whole directory has been verified.
    const t = loaded.torn;
    if (t) o.logger.warn('txn log: truncating a torn record at the end of the log', { file: t.file, offset: t.offset, bytesDropped: t.bytes, reason: t.reason });
    for (const temp of loaded.temps) {
      o.logger.info('txn log: removing a temp file left by a crash', { file: temp });
      await o.fs.unlink(temp);
    }
    for (const seg of loaded.emptyNonFinal) {
      o.logger.info('txn log: removing an empty segment left by a crash', { file: seg.file });
      await o.fs.unlink(seg.file);
    }
    const files = new SegmentFiles(
      dir,
      loaded.segments.filter((s) => !loaded.emptyNonFinal.includes(s)),
      o,
    );
    try {
      await files.attachLast(t?.offset);
    } catch (err) {
      await files.closeActive();
      throw err;
    }
    return { log: new TxnLog(dir, files, opts.afterZxid ?? 0n, o), records: loaded.records };
  }

  get lastZxid(): bigint {
    return this._lastZxid;
  }
  /** Bytes appended and not yet durable: waiting for a round or in the one being synced. */
  get pendingByteCount(): number {
    return this.pendingBytes + this.writingBytes;
  }
  /** The most `pendingByteCount` has been since open. */
  get peakPendingByteCount(): number {
    return this.peakUnsynced;
  }
  /** More than maxPendingBytes waits for fsync, and it has not yet come down to half: callers should
   * stop taking new writes (backpressure, never a failure). */
  get congested(): boolean {
    return this.congestedFlag;
  }
  get maxPendingBytes(): number {
    return this.o.maxPendingBytes;
  }
  get durableZxid(): bigint {
    return this._durableZxid;
  }
  /** The log holds every record with a zxid above this (older ones were purged or never here). */
  get startZxid(): bigint {
    return this.files.segments[0]?.prev ?? this.emptyStart;
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
    // Encoding now copies the payload, so the caller may reuse its buffer right away.
    this.pending.push({ zxid, buf: encodeRecord(zxid, payload) });
    this.pendingBytes += size;
    this._lastZxid = zxid;
    this.updateCongestion();
  }

  /** Congested above maxPendingBytes not yet durable; clear again at half (hysteresis, so the
   * server does not flip between reading and not reading on every round). */
  private updateCongestion(): void {
    const unsynced = this.pendingBytes + this.writingBytes;
    if (unsynced > this.peakUnsynced) this.peakUnsynced = unsynced;
    if (unsynced > this.o.maxPendingBytes) this.congestedFlag = true;
    else if (unsynced <= this.o.maxPendingBytes / 2) this.congestedFlag = false;
  }

  /** Resolves once every record appended before this call is on stable storage. */
  flush(): Promise<void> {
    if (this.poison) return Promise.reject(this.poison);
    if (this.closed) return Promise.reject(new Error(`transaction log ${this.dir} is closed`));
    if (this.nextRound) return this.nextRound; // not started yet: it will take our appends too
    if (this.pending.length === 0) return this.currentRound ?? Promise.resolve();
    const round: Promise<void> = this.enqueue(async () => {
      this.nextRound = undefined; // flush() calls from now on need another round
      this.currentRound = round;
      try {
        await this.writePending();
      } finally {
        if (this.currentRound === round) this.currentRound = undefined;
      }
    });
    this.nextRound = round;
    return round;
  }

  /**
   * Removes every record with a zxid above `zxid`; on return the rest, pending appends at or
   * below it included, is durable. Pending appends above it are dropped too (a flush()
   * waiting for them resolves: the caller asked for them to go).
   */
  truncateAfter(zxid: bigint): Promise<void> {
    return this.enqueue(async () => {
      this.assertUsable();
      if (zxid < this._lastZxid && zxid < this.startZxid) {
        throw new LogRangeError(this.dir, `cannot truncate to zxid 0x${zxid.toString(16)}: the log starts after 0x${this.startZxid.toString(16)}`);
      }
      this.pending = this.pending.filter((p) => p.zxid <= zxid);
      this.pendingBytes = this.pending.reduce((n, p) => n + p.buf.length, 0);
      this.updateCongestion();
      this._lastZxid = this.pending.at(-1)?.zxid ?? this._durableZxid;
      await this.writePending();
      if (zxid >= this._durableZxid) return;
      // A failure part-way leaves disk and memory disagreeing on where the log ends: poison.
      const last = await this.files.truncateAfter(zxid).catch((err: unknown) => Promise.reject(this.poisonWith(err)));
      this._lastZxid = this._durableZxid = last;
    });
  }

  /** Deletes whole segments whose records are all below `zxid` (after a snapshot); never the last one. */
  purgeBefore(zxid: bigint): Promise<number> {
    return this.enqueue(async () => {
      if (this.closed) throw new Error(`transaction log ${this.dir} is closed`);
      return this.files.purgeBefore(zxid);
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
      await this.files.resetTo(zxid).catch((err: unknown) => Promise.reject(this.poisonWith(err)));
      this._lastZxid = this._durableZxid = zxid;
    });
  }

  /** The durable records with a zxid above `zxid`, as of the call (later appends are not included). */
  readFrom(zxid: bigint): AsyncIterable<LogRecord> {
    return { [Symbol.asyncIterator]: () => this.iterate(zxid) };
  }

  private async *iterate(zxid: bigint): AsyncGenerator<LogRecord> {
    // Open the files on the chain so no roll or truncation runs meanwhile; an open descriptor
    // keeps a purged file readable, and the captured sizes exclude later appends.
    const opened = await this.enqueue(async () => {
      if (this.closed) throw new Error(`transaction log ${this.dir} is closed`);
      if (zxid < this.startZxid) throw new LogRangeError(this.dir, `records after zxid 0x${zxid.toString(16)} were purged; the log starts after 0x${this.startZxid.toString(16)}`);
      const out: Array<{ fh: FileHandle; file: string; end: number }> = [];
      try {
        for (const s of this.files.segments) if (s.last > zxid) out.push({ fh: await this.o.fs.open(s.file, 'r'), file: s.file, end: s.size });
      } catch (err) {
        await Promise.all(out.map((f) => f.fh.close()));
        throw err;
      }
      return out;
    });
    try {
      for (const f of opened) yield* readSegment(f.fh, f.file, f.end, this.o.maxRecordBytes, zxid);
    } finally {
      await Promise.all(opened.map((f) => f.fh.close()));
    }
  }

  /** Flushes what is pending (unless poisoned) and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    let failure: unknown;
    if (!this.poison && this.pending.length > 0) await this.flush().catch((err: unknown) => (failure = err));
    this.closed = true;
    await this.enqueue(() => this.files.closeActive());
    if (failure !== undefined) throw failure;
  }

  stats(): TxnLogStats {
    return this.files.stats();
  }

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

  private async writePending(): Promise<void> {
    if (this.poison) throw this.poison;
    const batch = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (batch.length === 0) return;
    this.writingBytes += bytes;
    try {
      await this.files.write(batch, this._durableZxid, (z) => (this._durableZxid = z));
    } catch (err) {
      throw this.poisonWith(err);
    } finally {
      this.writingBytes -= bytes;
      this.updateCongestion();
    }
  }

  private poisonWith(err: unknown): LogPoisonedError {
    if (!this.poison) {
      this.poison = err instanceof WriteFailure ? new LogPoisonedError(err.file, err.offset, err.cause) : new LogPoisonedError(this.dir, 0, err);
      this.o.logger.warn('txn log: write failed, log poisoned', { file: this.poison.file, offset: this.poison.offset, error: this.poison.message });
    }
    return this.poison;
  }
}
