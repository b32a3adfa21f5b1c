/** File-system helpers shared by the log, snapshots, epochs and the lock. */
import path from 'node:path';
import { nodeFileSystem, type FileHandle, type FileSystem } from './file-system.js';

export interface StorageLogger {
  warn(msg: string, meta?: object): void;
  info(msg: string, meta?: object): void;
}

export const silentLogger: StorageLogger = { warn() {}, info() {} };

/** Largest zxid we accept: ZooKeeper zxids are Java longs, so the sign bit stays clear. */
export const MAX_ZXID = (1n << 63n) - 1n;

/** 16 lowercase hex digits, so file names sort lexicographically in zxid order. */
export function zxidHex(zxid: bigint): string {
  return zxid.toString(16).padStart(16, '0');
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/**
 * fsync a directory, so that creating, renaming or removing an entry in it survives a power
 * cut (Linux makes the entry durable only when the directory itself is synced).
 */
export async function fsyncDir(dir: string, o: { fs: FileSystem }): Promise<void> {
  const fh = await o.fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * mkdir -p that survives a power cut: each directory it creates becomes durable only once its
 * parent is synced, so the parents of every created directory are synced, deepest first.
 * (Without it a crash right after the first start could lose the whole data directory, and the
 * server would come back empty, as if it had never promised anything.)
 */
export async function mkdirDurable(dir: string, o: { fs: FileSystem }): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const exists = await o.fs.stat(d).then(
      () => true,
      (e: unknown) => (isErrno(e, 'ENOENT') ? false : Promise.reject(e)),
    );
    if (exists || path.dirname(d) === d) break;
    missing.push(d);
  }
  if (missing.length === 0) return;
  await o.fs.mkdir(dir, { recursive: true });
  for (const d of missing) await fsyncDir(path.dirname(d), o);
}

/** write() may write fewer bytes than asked (disk full mid-way, signals); loop until all are written. */
export async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten} bytes`);
    done += bytesWritten;
  }
}

/** Reads exactly `length` bytes at `position`, or fewer only if the file ends first. */
export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  return readInto(fh, Buffer.allocUnsafe(length), position, length);
}

/** readAt into the start of `buf` (reused by the caller); returns the part that was filled. */
export async function readInto(fh: FileHandle, buf: Buffer, position: number, length: number): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === buf.length ? buf : buf.subarray(0, done);
}

/** Gives up creating a temp file after this many names were taken (only a broken fs gets here). */
const MAX_TEMP_ATTEMPTS = 1000;

/**
 * The temp files of one writer (a DataDir, or a single call of a free function): how they are
 * named, and which are still being written, so crash cleanup leaves those alone. State lives
 * here rather than in the module so that a simulator replaying a seed gets the same file
 * names whether or not other seeds ran before it in this process.
 */
export class TempFiles {
  private n = 0;
  private readonly live = new Set<string>();

  /** `pid` goes into the names on the real disk, so a leftover is recognisably a dead incarnation's. */
  private constructor(private readonly pid: number | undefined) {}

  /** Names `<file>.tmp.<pid>.<n>` on the real disk, `<file>.tmp.<n>` on an injected one. */
  static for(fs: FileSystem): TempFiles {
    return new TempFiles(fs === nodeFileSystem ? process.pid : undefined);
  }

  isLive(file: string): boolean {
    return this.live.has(file);
  }

  /**
   * Creates a fresh temp file for `file`. 'wx' plus retry keeps names unique without a
   * process-wide counter: another TempFiles (or a crash's leftover) may hold the next name.
   */
  async create(fs: FileSystem, file: string, mode?: number): Promise<{ temp: string; fh: FileHandle }> {
    for (let attempt = 0; attempt < MAX_TEMP_ATTEMPTS; attempt++) {
      const temp = `${file}.tmp.${this.pid === undefined ? '' : `${this.pid}.`}${++this.n}`;
      this.live.add(temp); // before it exists: a concurrent cleanup must never see it unclaimed
      try {
        return { temp, fh: await (mode === undefined ? fs.open(temp, 'wx') : fs.open(temp, 'wx', mode)) };
      } catch (err) {
        this.live.delete(temp);
        if (!isErrno(err, 'EEXIST')) throw err;
      }
    }
    throw new Error(`could not create a temp file for ${file}: ${MAX_TEMP_ATTEMPTS} names were taken`);
  }

  done(temp: string): void {
    this.live.delete(temp);
  }
}

/** atomicWriteFile syncs what it has written every this many bytes. */
const SYNC_EVERY_BYTES = 32 << 20;
/** atomicWriteFile keeps up to this many writes in flight. */
const WRITES_IN_FLIGHT = 8;

/**
 * Writes at explicit positions, several at a time: a writer fed by a busy event loop (a SNAP
 * parsed as it arrives) waited a turn of it after every write, one 256 KiB write per turn, and
 * fell 150 MB behind the transfer. The first failure is kept and thrown by the next call.
 */
class PositionedWrites {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly max: number,
  ) {}

  /** Starts writing `buf` at `pos`; returns once fewer than `max` writes are running. */
  async add(buf: Buffer, pos: number): Promise<void> {
    this.check();
    const p: Promise<void> = writeFully(this.fh, buf, pos).then(
      () => void this.running.delete(p),
      (error: unknown) => {
        this.running.delete(p);
        this.failure ??= { error };
      },
    );
    this.running.add(p);
    while (this.running.size >= this.max) await Promise.race(this.running);
    this.check();
  }

  /** Every write started has finished (throws the first failure). */
  async drain(): Promise<void> {
    await this.settle();
    this.check();
  }

  /** Waits for the running writes, whatever their outcome. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private check(): void {
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Replaces `file` atomically: write a temp file in the same directory, fsync it, rename it over
 * `file`, fsync the directory. After a crash the file holds either the old or the new bytes,
 * never a mix; a leftover temp file (see TempFiles) is the only debris.
 */
export async function atomicWriteFile(
  file: string,
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
  o: { fs: FileSystem; temps: TempFiles; headerBytes?: number; header?: () => Buffer; mode?: number },
): Promise<void> {
  const { fs, temps } = o;
  const { temp, fh } = await temps.create(fs, file, o.mode);
  try {
    const writes = new PositionedWrites(fh, WRITES_IN_FLIGHT);
    try {
      // With `header`, the first headerBytes are written last: a header that depends on the
      // whole content (length, checksum) can follow a streamed body.
      let pos = o.headerBytes ?? 0;
      let unsynced = 0;
      for await (const c of chunks) {
        await writes.add(c, pos);
        pos += c.length;
        unsynced += c.length;
        // A large file is synced as it is written, so the sync before the rename has little
        // left to do (a SNAP's 188 MB waited for it after the whole transfer).
        if (unsynced >= SYNC_EVERY_BYTES) {
          await writes.drain();
          await fh.datasync();
          unsynced = 0;
        }
      }
      await writes.drain();
      if (o.header) await writeFully(fh, o.header(), 0);
      await fh.sync();
    } finally {
      await writes.settle();
      await fh.close();
    }
    await fs.rename(temp, file);
    await fsyncDir(path.dirname(file), { fs });
  } catch (err) {
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  } finally {
    temps.done(temp);
  }
}
