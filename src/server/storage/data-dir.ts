/**
 * A server's data directory:
 *   <dir>/LOCK            owner pid (lock.ts)
 *   <dir>/log/            transaction log segments (txn-log.ts)
 *   <dir>/snap/           snapshots (snapshot.ts)
 *   <dir>/acceptedEpoch, <dir>/currentEpoch   (epochs.ts)
 *
 * recover() joins the newest valid snapshot with the log records after it and refuses,
 * rather than starting with less than was durably acknowledged, when:
 *   - the log does not reach back to the snapshot (its first segment starts after it), or
 *   - a newer snapshot was skipped as invalid and the log does not reach its zxid.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { LogRangeError, RecoveryError } from './errors.js';
import { fsyncDir, silentLogger, type StorageLogger } from './fsutil.js';
import { readEpoch, removeEpochTemps, writeEpoch } from './epochs.js';
import { DirLock } from './lock.js';
import { loadSnapshots, purgeSnapshots, writeSnapshot, type SkippedSnapshot } from './snapshot.js';
import { TxnLog, type LogRecord, type TxnLogOptions } from './txn-log.js';

export interface DataDirOptions {
  logger?: StorageLogger;
  log?: Omit<TxnLogOptions, 'logger'>;
  /** Snapshots larger than this are treated as invalid. Default 2 GiB. */
  maxSnapshotBytes?: number;
}

export interface Recovered {
  snapshot?: { zxid: bigint; payload: Buffer };
  /** Log records after the snapshot (all of them without one), in zxid order. */
  records: LogRecord[];
  log: TxnLog;
  /** Newer snapshots that were invalid; the log covered them, or recover() would have thrown. */
  skippedSnapshots: SkippedSnapshot[];
}

const hex = (z: bigint): string => `0x${z.toString(16)}`;

export class DataDir {
  readonly logDir: string;
  readonly snapDir: string;
  private log: TxnLog | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly lock: DirLock,
    private readonly opts: DataDirOptions,
    private readonly logger: StorageLogger,
  ) {
    this.logDir = path.join(dir, 'log');
    this.snapDir = path.join(dir, 'snap');
  }

  /** Locks `dir` (creating it if needed); throws DataDirLockedError if a live process holds it. */
  static async open(dir: string, opts: DataDirOptions = {}): Promise<DataDir> {
    const logger = opts.logger ?? silentLogger;
    await mkdir(dir, { recursive: true });
    const lock = await DirLock.acquire(dir, logger);
    try {
      const d = new DataDir(dir, lock, opts, logger);
      await mkdir(d.logDir, { recursive: true });
      await mkdir(d.snapDir, { recursive: true });
      await fsyncDir(dir);
      await removeEpochTemps(dir, logger);
      return d;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Loads the newest valid snapshot and the log after it; opens the log for appending. Once. */
  async recover(): Promise<Recovered> {
    if (this.closed) throw new Error(`data directory ${this.dir} is closed`);
    if (this.log) throw new Error(`recover() was already called on ${this.dir}`);
    const { latest, skipped } = await loadSnapshots(this.snapDir, { logger: this.logger, maxSnapshotBytes: this.opts.maxSnapshotBytes });
    const base = latest?.zxid ?? 0n;
    let opened: Awaited<ReturnType<typeof TxnLog.open>>;
    try {
      opened = await TxnLog.open(this.logDir, { ...this.opts.log, logger: this.logger, afterZxid: base });
    } catch (err) {
      if (!(err instanceof LogRangeError)) throw err;
      const from = latest ? `snapshot ${latest.file} (zxid ${hex(latest.zxid)})` : 'no valid snapshot (so from zxid 0)';
      throw new RecoveryError(this.dir, `recovery needs the log from ${from}, but there is a gap: ${err.message}`);
    }
    const { log, records } = opened;
    try {
      const reached = log.lastZxid > base ? log.lastZxid : base;
      const lost = skipped.find((s) => s.zxid > reached);
      if (lost) {
        throw new RecoveryError(
          this.dir,
          `snapshot ${lost.file} (zxid ${hex(lost.zxid)}) is invalid (${lost.reason}), and the older snapshot plus the log only reach ${hex(reached)}: starting would lose acknowledged transactions`,
        );
      }
      // A snapshot ahead of the whole log (e.g. received from a leader): the log must restart
      // after it, or it would claim to be continuous across the zxids only the snapshot holds.
      if (latest && (log.lastZxid < latest.zxid || log.stats().segments === 0)) {
        this.logger.info('data dir: the log ends before the snapshot; restarting the log after it', { snapshot: latest.file, logEnd: hex(log.lastZxid) });
        await log.resetTo(latest.zxid);
      }
    } catch (err) {
      await log.close().catch(() => undefined);
      throw err;
    }
    this.log = log;
    return { snapshot: latest && { zxid: latest.zxid, payload: latest.payload }, records, log, skippedSnapshots: skipped };
  }

  writeSnapshot(zxid: bigint, payload: Buffer): Promise<string> {
    return writeSnapshot(this.snapDir, zxid, payload);
  }

  /** Keeps the `keepSnapshots` newest valid snapshots and the log segments needed after the oldest of them. */
  async purge(keepSnapshots: number): Promise<{ snapshotsRemoved: number; segmentsRemoved: number }> {
    const { kept, removed } = await purgeSnapshots(this.snapDir, keepSnapshots, { logger: this.logger, maxSnapshotBytes: this.opts.maxSnapshotBytes });
    const oldest = kept.length === keepSnapshots ? kept.at(-1) : undefined;
    const segmentsRemoved = oldest && this.log ? await this.log.purgeBefore(oldest.zxid + 1n) : 0;
    return { snapshotsRemoved: removed.length, segmentsRemoved };
  }

  readEpoch(name: string): Promise<bigint | undefined> {
    return readEpoch(this.dir, name);
  }
  writeEpoch(name: string, value: bigint | number): Promise<void> {
    return writeEpoch(this.dir, name, value);
  }

  /** Closes the log (flushing what is pending) and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.log?.close();
    } finally {
      await this.lock.release();
    }
  }
}
