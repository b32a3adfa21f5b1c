/**
 * An in-memory FileSystem (src/server/storage/file-system.ts) that the simulator can power-cut.
 *
 * Every call completes from a `schedule(delay, fn)` callback, never by resolving directly, so
 * the simulator owns time and ordering; calls on one handle complete in the order issued.
 *
 * Crash model. Each file has a volatile state (what processes see) and a durable state (what a
 * power cut keeps); so does each directory's set of entries. write/truncate, and creating,
 * renaming, linking and unlinking names, change only volatile state and are queued, in order,
 * as pending ops of the file or of the directory (a cross-directory rename on both).
 * datasync()/sync() of a file makes its pending ops durable; sync() of a directory opened 'r'
 * makes its entries durable. crash() then keeps, independently for each directory and each
 * file, the durable state plus a seeded random prefix of the pending ops:
 *   - a file's first lost write may be torn (cut at any byte, or at a 512-byte sector);
 *   - sometimes (zeroTailProbability) a file's size survives further than its data, the gap
 *     reading as zeros: the inode update committed without the data blocks;
 *   - a file reachable only through entries that were never made durable is gone, however
 *     often its data was synced;
 *   - after a failed sync, the writes pending at that moment never become durable (a later
 *     successful sync covers only later writes: Linux drops the dirty pages and clears the
 *     error), though they stay readable until the crash. A failed directory sync leaves the
 *     entry changes pending: a later sync may still make them durable.
 * Harsher than ext4 (data=ordered) and xfs: those commit metadata through one journal in
 * global order, which this model only respects within a directory, so e.g. a synced file's new
 * name may vanish while a later name in another directory survives; and no heuristic (ext4's
 * auto_da_alloc) rescues a file renamed over another without a sync. Never harsher than POSIX
 * for synced data: data covered by a successful file sync and names covered by a successful
 * directory sync always survive, a rename is atomic across a crash (old or new name, never
 * neither, also between directories: both halves commit together, with the other directory's
 * earlier ops, as one journal transaction would), and a bit flip only ever comes from
 * flipBit().
 * One way real disks are harsher by default: writeback and a volatile device cache can persist
 * a later unsynced sector without an earlier one. That is opt-in (`crash.scatterProbability`):
 * each unsynced sector then survives independently.
 * Not modelled: fsync vs fdatasync (both sync data and size), timestamps, permissions,
 * symlinks, rmdir, partially executed in-flight calls (a call that has not completed when
 * the process dies did nothing).
 */
import type { FileHandle, FileStat, FileSystem, OpenFlags } from '../../../src/server/storage/file-system.js';
import type { Prng } from '../prng.js';
import type { CrashTuning } from './crash.js';
import { fsError } from './errors.js';
import { statOf, type HandleHost } from './handle.js';
import { GatedHandle, SyncGate } from './sync-gate.js';
import { normalize, Volume, type SimFsCounters } from './volume.js';

export type { CrashTuning } from './crash.js';
export type { SimFsCounters } from './volume.js';

export interface LatencyRange {
  min: number;
  max: number;
}

export interface SimFileSystemOptions {
  rng: Prng;
  schedule(delayMs: number, fn: () => void): void;
  /** Latency of every call but syncs. Default 0..1 ms. */
  latencyMs?: LatencyRange;
  /** Latency of datasync()/sync(). Default 1..5 ms. */
  syncLatencyMs?: LatencyRange;
  crash?: CrashTuning;
}

export class SimFileSystem implements FileSystem {
  readonly vol: Volume;
  private readonly rng: Prng;
  private readonly scheduleFn: (delayMs: number, fn: () => void) => void;
  private latency: LatencyRange;
  private syncLatency: LatencyRange;
  private readonly host: HandleHost;
  private readonly gate: SyncGate;

  constructor(o: SimFileSystemOptions) {
    this.rng = o.rng;
    this.scheduleFn = o.schedule;
    this.latency = checkRange(o.latencyMs ?? { min: 0, max: 1 });
    this.syncLatency = checkRange(o.syncLatencyMs ?? { min: 1, max: 5 });
    this.vol = new Volume(o.rng, {
      tearProbability: o.crash?.tearProbability ?? 0.5,
      sectorProbability: o.crash?.sectorProbability ?? 0.5,
      zeroTailProbability: o.crash?.zeroTailProbability ?? 0.05,
      scatterProbability: o.crash?.scatterProbability ?? 0,
    });
    this.host = {
      vol: this.vol,
      schedule: (ms, fn) => this.scheduleFn(ms, fn),
      delay: (kind) => this.delay(kind),
    };
    this.gate = new SyncGate(this.vol);
  }

  // ---- FileSystem ----

  open(path: string, flags: OpenFlags): Promise<FileHandle> {
    return this.run('open', () => {
      const p = normalize(path, 'open');
      const existing = this.vol.lookup(p);
      if (existing) {
        if (flags === 'wx') throw fsError('EEXIST', 'open', p);
        if (existing.kind === 'dir' && flags !== 'r') throw fsError('EISDIR', 'open', p);
        if (existing.kind === 'file' && flags === 'w' && existing.volatile.size > 0) this.vol.truncate(existing, 0);
        return new GatedHandle(this.gate, this.host, existing, p, flags);
      }
      if (flags === 'r' || flags === 'r+') this.vol.need(p, 'open'); // throws ENOENT or ENOTDIR
      return new GatedHandle(this.gate, this.host, this.vol.createFile(p, 'open'), p, flags);
    });
  }

  readFile(path: string): Promise<Buffer> {
    return this.run('open', () => {
      const p = normalize(path, 'open');
      const n = this.vol.need(p, 'open');
      if (n.kind === 'dir') throw fsError('EISDIR', 'read', p);
      return n.volatile.toBuffer();
    });
  }

  readdir(path: string): Promise<string[]> {
    return this.run('scandir', () => {
      const p = normalize(path, 'scandir');
      const n = this.vol.need(p, 'scandir');
      if (n.kind !== 'dir') throw fsError('ENOTDIR', 'scandir', p);
      return [...n.entries.keys()];
    });
  }

  mkdir(path: string, options: { recursive: true }): Promise<void> {
    return this.run('mkdir', () => {
      if (options?.recursive !== true) throw new TypeError('SimFileSystem.mkdir supports only { recursive: true }');
      this.vol.mkdirp(normalize(path, 'mkdir'));
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run('rename', () => this.vol.rename(normalize(from, 'rename'), normalize(to, 'rename')));
  }

  unlink(path: string): Promise<void> {
    return this.run('unlink', () => this.vol.unlink(normalize(path, 'unlink')));
  }

  link(existingPath: string, newPath: string): Promise<void> {
    return this.run('link', () => this.vol.link(normalize(existingPath, 'link'), normalize(newPath, 'link')));
  }

  realpath(path: string): Promise<string> {
    return this.run('realpath', () => {
      const p = normalize(path, 'realpath');
      this.vol.need(p, 'realpath');
      return p;
    });
  }

  stat(path: string): Promise<FileStat> {
    return this.run('stat', () => {
      const p = normalize(path, 'stat');
      return statOf(this.vol.need(p, 'stat'));
    });
  }

  // ---- the world's controls ----

  /** Power loss; see the model above. Handles opened before it are dead (EBADF). */
  crash(): void {
    this.vol.crash();
  }

  /** The next matching datasync()/sync() fails with `code`. No argument: the next one on any path. */
  failNextSync(pathOrPredicate?: string | ((path: string) => boolean), code = 'EIO'): void {
    const match =
      pathOrPredicate === undefined
        ? () => true
        : typeof pathOrPredicate === 'function'
          ? pathOrPredicate
          : ((want: string) => (p: string) => p === want)(normalize(pathOrPredicate, 'fsync'));
    this.vol.faults.push({ match, code });
  }

  /** Writes that would take the files' total volatile size above `n` bytes fail with ENOSPC, after one short write. */
  setSpaceLimitBytes(n: number | undefined): void {
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) throw new RangeError(`bad space limit ${n}`);
    this.vol.spaceLimit = n;
  }

  /** A latent media error: one bit of the stored file changes, in what is on disk and in what is read. */
  flipBit(path: string, byteOffset?: number): { offset: number; bit: number } {
    const p = normalize(path, 'flipBit');
    const n = this.vol.lookup(p);
    if (!n || n.kind !== 'file') throw fsError('ENOENT', 'flipBit', p);
    const size = Math.max(n.durable.size, n.volatile.size);
    if (size === 0) throw new RangeError(`flipBit: ${p} is empty`);
    const offset = byteOffset ?? this.rng.int(0, size - 1);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= size) throw new RangeError(`flipBit: offset ${offset} outside ${p} (${size} bytes)`);
    const bit = this.rng.int(0, 7);
    n.durable.flipBit(offset, bit);
    n.volatile.flipBit(offset, bit);
    return { offset, bit };
  }

  /**
   * A stalled device: while on, datasync()/sync() of a path `match` accepts (default every
   * path) do not even start, so they neither complete nor make anything durable. Turning it
   * off issues them in the order they were called, each then taking its usual latency. Calls
   * of a process that crashed meanwhile are dropped (they never complete). The stall itself
   * outlasts a crash, as a disk's would.
   */
  holdSyncs(on: boolean, match: (path: string) => boolean = () => true): void {
    this.gate.hold(on ? match : undefined);
  }

  /** Syncs waiting for holdSyncs(false). */
  get heldSyncs(): number {
    return this.gate.waiting;
  }

  setLatency(o: { latencyMs?: LatencyRange; syncLatencyMs?: LatencyRange }): void {
    if (o.latencyMs) this.latency = checkRange(o.latencyMs);
    if (o.syncLatencyMs) this.syncLatency = checkRange(o.syncLatencyMs);
  }

  // ---- inspection (synchronous, no scheduling, no randomness) ----

  listFiles(): string[] {
    return this.vol.files('volatile');
  }

  /** Files reachable through durable directory entries alone. */
  listDurableFiles(): string[] {
    return this.vol.files('durable');
  }

  readVolatile(path: string): Buffer | undefined {
    const n = this.vol.lookup(normalize(path, 'readVolatile'));
    return n?.kind === 'file' ? n.volatile.toBuffer() : undefined;
  }

  /** The file's durable data, if its name is durable; a crash keeps at least this. */
  readDurable(path: string): Buffer | undefined {
    const n = this.vol.durableNode(normalize(path, 'readDurable'));
    return n?.kind === 'file' ? n.durable.toBuffer() : undefined;
  }

  get counters(): Readonly<SimFsCounters> {
    return { ...this.vol.counters };
  }

  usedBytes(): number {
    return this.vol.usedBytes();
  }

  // ---- internals ----

  private delay(kind: 'io' | 'sync'): number {
    const r = kind === 'sync' ? this.syncLatency : this.latency;
    return this.rng.int(r.min, r.max);
  }

  /** Runs `fn` from a scheduled callback; a crash in between voids the call. */
  private run<T>(syscall: string, fn: () => T): Promise<T> {
    const gen = this.vol.generation;
    return new Promise<T>((resolve, reject) => {
      this.scheduleFn(this.delay('io'), () => {
        if (gen !== this.vol.generation) return reject(fsError('EIO', syscall));
        try {
          resolve(fn());
        } catch (err) {
          reject(err);
        }
      });
    });
  }
}

function checkRange(r: LatencyRange): LatencyRange {
  if (!Number.isSafeInteger(r.min) || !Number.isSafeInteger(r.max) || r.min < 0 || r.max < r.min) throw new RangeError(`bad latency range ${r.min}..${r.max}`);
  return { ...r };
}
