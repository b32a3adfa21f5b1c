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
import path from 'node:path';
import { LogRangeError, RecoveryError } from './errors.js';
import { nodeFileSystem, type FileSystem } from './file-system.js';
import { fsyncDir, mkdirDurable, silentLogger, TempFiles, type StorageLogger } from './fsutil.js';
import { readEpoch, removeEpochTemps, writeEpoch } from './epochs.js';
import { newSessionSecret, readSessionSecret, writeSessionSecret } from './session-secret.js';
import { DirLock } from './lock.js';
import { loadSnapshots, purgeSnapshots, VerifiedSnapshots, writeSnapshot, type SkippedSnapshot, type SnapshotInfo, type SnapshotPayload, type SnapshotReadOptions, type SnapshotSink } from './snapshot.js';
import { TxnLog, type LogRecord, type TxnLogOptions } from './txn-log.js';

export interface DataDirOptions {
  logger?: StorageLogger;
  log?: Omit<TxnLogOptions, 'logger' | 'fs'>;
  /** Snapshots larger than this are treated as invalid. Default 2 GiB. */
  maxSnapshotBytes?: number;
  /** Everything in the directory is read and written through this. Default the real disk (nodeFileSystem). */
  fs?: FileSystem;
  /**
   * Takes exclusive hold of `dir` (which exists by then), or throws. Default DirLock: a LOCK
   * file checked against live processes, which only means something on the real disk, so a
   * custom `fs` needs a custom `lock` too.
   */
  lock?: (dir: string) => Promise<{ release(): Promise<void> }>;
}

export interface Recovered<T = Buffer> {
  /** The newest valid snapshot: its bytes, or what the sink given to recover() made of them. */
  snapshot?: { zxid: bigint; payload: T };
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

  /** Shared by every write and cleanup here, so cleanup never removes a write in progress. */
  private readonly temps: TempFiles;
  /** Snapshots known whole (written or loaded here): purge checks only the others. */
  private readonly verified = new VerifiedSnapshots();

  private constructor(
    readonly dir: string,
    private readonly lock: { release(): Promise<void> },
    private readonly opts: DataDirOptions,
    private readonly logger: StorageLogger,
    private readonly fs: FileSystem,
  ) {
    this.temps = TempFiles.for(fs);
    this.logDir = path.join(dir, 'log');
    this.snapDir = path.join(dir, 'snap');
  }

  /** Locks `dir` (creating it if needed); by default throws DataDirLockedError if a live process holds it. */
  static async open(dir: string, opts: DataDirOptions = {}): Promise<DataDir> {
    const logger = opts.logger ?? silentLogger;
    const fs = opts.fs ?? nodeFileSystem;
    if (fs !== nodeFileSystem && !opts.lock) {
      throw new Error(`DataDir.open(${dir}): a custom fs needs a custom lock too (the default lock is a LOCK file on the real disk, checked against real processes)`);
    }
    await mkdirDurable(dir, { fs });
    const lock = await (opts.lock ?? ((d: string) => DirLock.acquire(d, logger)))(dir);
    try {
      const d = new DataDir(dir, lock, opts, logger, fs);
      await mkdirDurable(d.logDir, { fs });
      await mkdirDurable(d.snapDir, { fs });
      await fsyncDir(dir, { fs });
      await removeEpochTemps(dir, { fs, logger });
      return d;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /**
   * Loads the newest valid snapshot and the log after it; opens the log for appending. Once.
   * With `sink`, the snapshot is streamed into it (see loadSnapshots) rather than read whole.
   */
  async recover(): Promise<Recovered>;
  async recover<T>(sink: (info: SnapshotInfo) => SnapshotSink<T>): Promise<Recovered<T>>;
  async recover<T>(sink?: (info: SnapshotInfo) => SnapshotSink<T>): Promise<Recovered<T | Buffer>> {
    if (this.closed) throw new Error(`data directory ${this.dir} is closed`);
    if (this.log) throw new Error(`recover() was already called on ${this.dir}`);
    const options = { ...this.snapshotOptions(), logger: this.logger };
    const { latest, skipped } = sink ? await loadSnapshots(this.snapDir, { ...options, sink }) : await loadSnapshots(this.snapDir, options);
    if (latest) await this.verified.add(latest, this.fs);
    const base = latest?.zxid ?? 0n;
    let opened: Awaited<ReturnType<typeof TxnLog.open>>;
    try {
      opened = await TxnLog.open(this.logDir, { ...this.opts.log, logger: this.logger, afterZxid: base, fs: this.fs });
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

  async writeSnapshot(zxid: bigint, payload: SnapshotPayload): Promise<string> {
    const file = await writeSnapshot(this.snapDir, zxid, payload, { fs: this.fs, temps: this.temps });
    // Checksummed as it was written, fsynced and renamed into place: whole.
    await this.verified.add({ file, zxid }, this.fs);
    return file;
  }

  /** Keeps the `keepSnapshots` newest valid snapshots and the log segments needed after the oldest of them. */
  async purge(keepSnapshots: number): Promise<{ snapshotsRemoved: number; segmentsRemoved: number }> {
    const { kept, removed } = await purgeSnapshots(this.snapDir, keepSnapshots, { ...this.snapshotOptions(), logger: this.logger, verified: this.verified });
    const oldest = kept.length === keepSnapshots ? kept.at(-1) : undefined;
    const segmentsRemoved = oldest && this.log ? await this.log.purgeBefore(oldest.zxid + 1n) : 0;
    return { snapshotsRemoved: removed.length, segmentsRemoved };
  }

  readEpoch(name: string): Promise<bigint | undefined> {
    return readEpoch(this.dir, name, { fs: this.fs });
  }
  writeEpoch(name: string, value: bigint | number): Promise<void> {
    return writeEpoch(this.dir, name, value, { fs: this.fs, temps: this.temps });
  }

  /** The session secret (see session-secret.ts): made and stored on first use, refused if unsafe or damaged. */
  async sessionSecret(): Promise<Buffer> {
    const stored = await readSessionSecret(this.dir, this.fs);
    if (stored) return stored;
    const secret = newSessionSecret();
    await this.writeSessionSecret(secret);
    return secret;
  }

  writeSessionSecret(secret: Buffer): Promise<void> {
    return writeSessionSecret(this.dir, secret, { fs: this.fs, temps: this.temps });
  }

  private snapshotOptions(): SnapshotReadOptions {
    return { fs: this.fs, temps: this.temps, maxSnapshotBytes: this.opts.maxSnapshotBytes };
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
