/** File-system helpers shared by the log, snapshots, epochs and the lock. */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

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
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
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
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

let tempCounter = 0;

/**
 * Replaces `file` atomically: write a temp file in the same directory, fsync it, rename it over
 * `file`, fsync the directory. After a crash the file holds either the old or the new bytes,
 * never a mix; a leftover temp file (`<file>.tmp.<pid>.<n>`) is the only debris.
 */
export async function atomicWriteFile(file: string, chunks: Buffer[], onTemp?: (temp: string) => void, onDone?: (temp: string) => void): Promise<void> {
  const temp = `${file}.tmp.${process.pid}.${++tempCounter}`;
  onTemp?.(temp);
  try {
    const fh = await open(temp, 'w'); // our pid in the name: a leftover is a dead incarnation's
    try {
      let pos = 0;
      for (const c of chunks) {
        await writeFully(fh, c, pos);
        pos += c.length;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
    await fsyncDir(path.dirname(file));
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  } finally {
    onDone?.(temp);
  }
}
