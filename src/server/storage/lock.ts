/**
 * The data directory lock: a file `LOCK` holding "<pid> <start time>\n" of the owner.
 *
 * A lock whose owner is gone (kill -9, power cut) must be taken over, or a crashed server
 * could never restart. "Gone" is decided by the pid AND the process start time from
 * /proc/<pid>/stat, so a recycled pid (common in containers, where every server is pid 1)
 * is not mistaken for the old owner. Without /proc we fall back to process.kill(pid, 0).
 *
 * The file is created by link()ing a fully written, synced temp file, so LOCK never exists
 * half-written. Takeover renames the stale file away, and re-reads it to check that it was
 * still the stale one (not a lock another process just took); if not, it is put back.
 * Residual race: three processes starting on one directory at the same instant after a
 * crash could in theory both win; servers are not started that way.
 *
 * Pids and /proc only mean something on the real disk, so this never goes through an injected
 * FileSystem; DataDir takes a replacement lock (`opts.lock`) when it runs on a simulated one.
 */
import { link, open, readdir, readFile, realpath, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { DataDirLockedError } from './errors.js';
import { nodeFileSystem } from './file-system.js';
import { fsyncDir, isErrno, writeFully, type StorageLogger } from './fsutil.js';

const LOCK = 'LOCK';
const CONTENT = /^([1-9][0-9]{0,9}) (\d{1,20}|unknown)\n$/;
/** Attempts to create or take over the lock before giving up (each loses only to a real race). */
const MAX_ATTEMPTS = 5;

/** Directories locked by this process (realpath): a second open here must refuse too. */
const held = new Set<string>();
let seq = 0;

/** Process start time in clock ticks since boot; undefined if there is no such process or no /proc. */
async function startTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall
  } catch {
    return undefined;
  }
}

let procAvailable: Promise<boolean> | undefined;

async function isAlive(pid: number, start: string): Promise<boolean> {
  procAvailable ??= startTime(process.pid).then((s) => s !== undefined);
  if (await procAvailable) {
    const now = await startTime(pid);
    return now !== undefined && (start === 'unknown' || now === start);
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM'); // exists, but belongs to someone else
  }
}

export class DirLock {
  private constructor(
    readonly file: string,
    private readonly key: string,
    private readonly content: string,
  ) {}

  static async acquire(dir: string, logger: StorageLogger): Promise<DirLock> {
    const key = await realpath(dir);
    const file = path.join(dir, LOCK);
    if (held.has(key)) throw new DataDirLockedError(file, process.pid, 'already open in this process');
    const content = `${process.pid} ${(await startTime(process.pid)) ?? 'unknown'}\n`;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const temp = path.join(dir, `${LOCK}.tmp.${process.pid}.${++seq}`);
      const fh = await open(temp, 'w'); // our pid in the name: a leftover is a dead incarnation's
      try {
        await writeFully(fh, Buffer.from(content, 'latin1'), 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await link(temp, file); // atomic: fails with EEXIST if anyone holds (or held) the lock
        await unlink(temp);
        await fsyncDir(dir, { fs: nodeFileSystem });
        held.add(key);
        await removeDebris(dir, logger);
        return new DirLock(file, key, content);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      await takeOverIfStale(dir, file, content, logger);
    }
    throw new DataDirLockedError(file, 0, `could not take the lock in ${MAX_ATTEMPTS} attempts: other processes keep racing for it`);
  }

  /** Removes LOCK if it is still ours. */
  async release(): Promise<void> {
    if (!held.delete(this.key)) return;
    const now = await readFile(this.file, 'latin1').catch(() => undefined);
    if (now !== this.content) return;
    await unlink(this.file);
    await fsyncDir(path.dirname(this.file), { fs: nodeFileSystem });
  }
}

/** Throws if a live process holds the lock; moves a stale lock out of the way. */
async function takeOverIfStale(dir: string, file: string, mine: string, logger: StorageLogger): Promise<void> {
  const seen = await readFile(file, 'latin1').catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) return undefined; // released meanwhile: just try again
    throw err;
  });
  if (seen === undefined) return;
  const m = CONTENT.exec(seen);
  if (!m) throw new DataDirLockedError(file, 0, `unrecognised lock content ${JSON.stringify(seen.slice(0, 40))}; remove the file by hand if no server uses this directory`);
  const pid = Number(m[1]);
  if (seen === mine) throw new DataDirLockedError(file, pid, 'held by this process');
  if (await isAlive(pid, m[2]!)) throw new DataDirLockedError(file, pid, 'that process is running');
  logger.warn('data dir: taking over a stale lock', { file, pid });
  const aside = path.join(dir, `${LOCK}.stale.${process.pid}.${++seq}`);
  try {
    await rename(file, aside);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return; // someone else moved it: race again
    throw err;
  }
  const moved = await readFile(aside, 'latin1');
  if (moved !== seen) await link(aside, file).catch(() => undefined); // it was a fresh lock: put it back
  await unlink(aside);
}

/** Temp and stale-lock files of processes that no longer exist. */
async function removeDebris(dir: string, logger: StorageLogger): Promise<void> {
  for (const name of await readdir(dir)) {
    const m = /^LOCK\.(?:tmp|stale)\.(\d+)\.\d+$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || (await isAlive(pid, 'unknown'))) continue;
    logger.info('data dir: removing lock debris', { file: path.join(dir, name) });
    await unlink(path.join(dir, name)).catch(() => undefined);
  }
}
