/**
 * atomicWriteFile with a streamed body: its writes overlap (a bounded number at a time, each at
 * its own position), a large file is synced as it goes, and a write that fails leaves neither the
 * file nor its temp file, with no write still running once the call has returned.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeFileSystem, type FileHandle, type FileSystem } from '../../src/server/storage/file-system.js';
import { atomicWriteFile, TempFiles } from '../../src/server/storage/fsutil.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'zk-atomic-write-'));
  dirs.push(d);
  return d;
}

/** The real disk, each write held for a few ms, counting writes in flight; `failAt` fails that write (0-based) with EIO. */
function slowDisk(failAt = -1) {
  const seen = { running: 0, maxRunning: 0, writes: 0, datasyncs: 0, runningAtDatasync: [] as number[], runningAtSync: [] as number[] };
  const wrap = (fh: FileHandle): FileHandle => ({
    ...fh,
    read: (...a) => fh.read(...a),
    truncate: (n) => fh.truncate(n),
    sync: () => {
      seen.runningAtSync.push(seen.running);
      return fh.sync();
    },
    stat: () => fh.stat(),
    close: () => fh.close(),
    datasync: () => {
      seen.datasyncs++;
      seen.runningAtDatasync.push(seen.running);
      return fh.datasync();
    },
    write: async (buf, off, len, pos) => {
      const n = seen.writes++;
      seen.running++;
      seen.maxRunning = Math.max(seen.maxRunning, seen.running);
      try {
        // Writes after a failing one are slow: they must still be waited for (their fd is closed after).
        await sleep(failAt >= 0 && n > failAt ? 30 : 2 + (n % 3));
        if (n === failAt) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
        return await fh.write(buf, off, len, pos);
      } finally {
        seen.running--;
      }
    },
  });
  const fs: FileSystem = { ...nodeFileSystem, open: async (p, flags, mode) => wrap(await nodeFileSystem.open(p, flags, mode)) };
  return { fs, seen };
}

/** `n` chunks of `size` bytes, all there at once (a writer that is behind). */
function chunks(n: number, size: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(size, i & 0xff));
}

describe('atomicWriteFile', () => {
  test('a streamed body is written with overlapping writes, at most 8 at a time, byte for byte', async () => {
    const dir = await tempDir();
    const { fs, seen } = slowDisk();
    const body = chunks(40, 3000);
    async function* slowly() {
      for (const [i, c] of body.entries()) {
        if (i % 10 === 0) await sleep(5);
        yield c;
      }
    }
    const file = path.join(dir, 'f');
    await atomicWriteFile(file, slowly(), { fs, temps: TempFiles.for(fs) });
    assert.ok((await readFile(file)).equals(Buffer.concat(body)));
    assert.ok(seen.maxRunning > 1, `writes overlapped (at most ${seen.maxRunning} at once)`);
    assert.ok(seen.maxRunning <= 8, `${seen.maxRunning} writes at once`);
    assert.equal(seen.running, 0);
    assert.deepEqual(await readdir(dir), ['f']);
  });

  test('a large file is synced as it is written, with no write running during any sync', async () => {
    const dir = await tempDir();
    const { fs, seen } = slowDisk();
    const body = chunks(80, 1 << 20); // 80 MiB: two syncs on the way, one at the end
    await atomicWriteFile(path.join(dir, 'big'), body, { fs, temps: TempFiles.for(fs) });
    assert.equal(seen.datasyncs, 2);
    assert.deepEqual(seen.runningAtDatasync, [0, 0]);
    // The file's sync before the rename, then the directory's after it.
    assert.deepEqual(seen.runningAtSync, [0, 0], 'the final sync waits for every write');
    const back = await readFile(path.join(dir, 'big'));
    assert.equal(back.length, 80 << 20);
    for (let i = 0; i < 80; i++) assert.equal(back[(i << 20) + 12345], i & 0xff, `chunk ${i}`);
  });

  test('a failed write: the error is thrown, nothing is left behind, no write outlives the call', async () => {
    const dir = await tempDir();
    const { fs, seen } = slowDisk(5);
    const file = path.join(dir, 'f');
    await assert.rejects(atomicWriteFile(file, chunks(30, 1000), { fs, temps: TempFiles.for(fs) }), /EIO: injected/);
    assert.equal(seen.running, 0, 'no write still running');
    assert.deepEqual(await readdir(dir), [], 'neither the file nor its temp file');
    await sleep(20);
    assert.deepEqual(await readdir(dir), [], 'and no late write recreated it');
  });
});
