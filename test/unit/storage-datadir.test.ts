/** DataDir: the directory lock (with real processes) and recover()'s snapshot + log checks. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DataDir, DataDirLockedError, RecoveryError, writeSnapshot } from '../../src/server/storage/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'zk-storage-datadir-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const payloadFor = (zxid: bigint): Buffer => Buffer.from(`txn ${zxid}`);
const LOG = { maxSegmentBytes: 400 };

function capture(): { warns: string[]; warn(msg: string): void; info(): void } {
  const warns: string[] = [];
  return { warns, warn: (msg) => warns.push(msg), info() {} };
}

/** A data dir whose log holds zxids 1..n (no snapshot). */
async function withLog(n: bigint): Promise<string> {
  const dir = await tempDir();
  const dd = await DataDir.open(dir, { log: LOG });
  const { log } = await dd.recover();
  for (let z = 1n; z <= n; z++) log.append(z, payloadFor(z));
  await dd.close();
  return dir;
}

async function corrupt(file: string): Promise<void> {
  const fh = await open(file, 'r+');
  await fh.write(Buffer.from([0xee]), 0, 1, 35);
  await fh.close();
}

describe('DataDir lock', () => {
  test('a second open in the same process refuses; close releases', async () => {
    const dir = await tempDir();
    const a = await DataDir.open(dir);
    await assert.rejects(DataDir.open(dir), (err: unknown) => err instanceof DataDirLockedError && /this process/.test(err.message) && err.file === path.join(dir, 'LOCK'));
    assert.deepEqual((await readdir(dir)).sort(), ['LOCK', 'log', 'snap']);
    assert.equal(await readFile(path.join(dir, 'LOCK'), 'latin1').then((s) => s.split(' ')[0]), String(process.pid));
    await a.close();
    assert.deepEqual((await readdir(dir)).sort(), ['log', 'snap']);
    const b = await DataDir.open(dir);
    await b.close();
  });

  test('a lock of a dead pid, or of a recycled pid, is taken over; a live owner is refused', async () => {
    const dir = await tempDir();
    const dead = spawn(process.execPath, ['-e', '']);
    await once(dead, 'exit');
    await writeFile(path.join(dir, 'LOCK'), `${dead.pid} 123\n`);
    const logger = capture();
    const a = await DataDir.open(dir, { logger });
    assert.deepEqual(logger.warns, ['data dir: taking over a stale lock']);
    await a.close();

    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await writeFile(path.join(dir, 'LOCK'), `${live.pid} unknown\n`);
      await assert.rejects(DataDir.open(dir), (err: unknown) => err instanceof DataDirLockedError && err.pid === live.pid && /running/.test(err.message));
      // Same pid but another start time: the pid was recycled, the owner is gone.
      await writeFile(path.join(dir, 'LOCK'), `${live.pid} 1\n`);
      const b = await DataDir.open(dir);
      await b.close();
      await writeFile(path.join(dir, 'LOCK'), `${process.pid} 1\n`); // a previous incarnation with our pid
      const c = await DataDir.open(dir);
      await c.close();
    } finally {
      live.kill('SIGKILL');
      await once(live, 'exit');
    }
  });
});

describe('DataDir.recover', () => {
  test('snapshot plus the log after it; purge keeps what the oldest kept snapshot needs', async () => {
    const dir = await withLog(60n);
    const dd = await DataDir.open(dir, { log: LOG });
    const first = await dd.recover();
    assert.equal(first.snapshot, undefined);
    assert.equal(first.records.length, 60);
    await dd.writeSnapshot(20n, Buffer.from('s20'));
    await dd.writeSnapshot(45n, Buffer.from('s45'));
    const { snapshotsRemoved, segmentsRemoved } = await dd.purge(1);
    assert.equal(snapshotsRemoved, 1);
    assert.ok(segmentsRemoved > 0);
    assert.ok(first.log.startZxid <= 45n);
    await dd.writeEpoch('currentEpoch', 3n);
    await dd.close();

    const again = await DataDir.open(dir, { log: LOG });
    const r = await again.recover();
    assert.equal(r.snapshot?.zxid, 45n);
    assert.deepEqual(r.snapshot?.payload, Buffer.from('s45'));
    assert.deepEqual(
      r.records.map((x) => x.zxid),
      Array.from({ length: 15 }, (_, i) => 46n + BigInt(i)),
    );
    assert.equal(await again.readEpoch('currentEpoch'), 3n);
    await assert.rejects(again.recover(), /already called/);
    await again.close();
  });

  test('refuses when the log does not reach back to the snapshot it falls back to', async () => {
    const dir = await withLog(100n);
    const dd = await DataDir.open(dir, { log: LOG });
    await dd.recover();
    await dd.writeSnapshot(80n, Buffer.from('s80'));
    await dd.purge(1); // log now starts somewhere after 20
    await dd.close();
    await writeSnapshot(path.join(dir, 'snap'), 20n, Buffer.from('s20')); // an old snapshot from elsewhere
    await corrupt(path.join(dir, 'snap', 'snapshot.0000000000000050'));
    const again = await DataDir.open(dir, { log: LOG });
    await assert.rejects(again.recover(), (err: unknown) => err instanceof RecoveryError && /gap/.test(err.message) && /snapshot\.0000000000000014/.test(err.message));
    await again.close();
  });

  test('refuses when a skipped snapshot is newer than anything left', async () => {
    const dir = await withLog(100n);
    await writeSnapshot(path.join(dir, 'snap'), 10n, Buffer.from('s10'));
    await writeSnapshot(path.join(dir, 'snap'), 500n, Buffer.from('s500 from a leader'));
    await corrupt(path.join(dir, 'snap', 'snapshot.00000000000001f4'));
    const dd = await DataDir.open(dir, { log: LOG });
    await assert.rejects(dd.recover(), (err: unknown) => err instanceof RecoveryError && /lose acknowledged/.test(err.message));
    await dd.close();
  });

  test('accepts a skipped snapshot the log covers, and reports it', async () => {
    const dir = await withLog(100n);
    await writeSnapshot(path.join(dir, 'snap'), 10n, Buffer.from('s10'));
    await writeSnapshot(path.join(dir, 'snap'), 50n, Buffer.from('s50'));
    await corrupt(path.join(dir, 'snap', 'snapshot.0000000000000032'));
    const dd = await DataDir.open(dir, { log: LOG });
    const r = await dd.recover();
    assert.equal(r.snapshot?.zxid, 10n);
    assert.equal(r.records.length, 90);
    assert.deepEqual(
      r.skippedSnapshots.map((s) => s.zxid),
      [50n],
    );
    await dd.close();
  });

  test('a snapshot ahead of the whole log restarts the log after it', async () => {
    const dir = await withLog(100n);
    await writeSnapshot(path.join(dir, 'snap'), 200n, Buffer.from('s200'));
    const dd = await DataDir.open(dir, { log: LOG });
    const r = await dd.recover();
    assert.deepEqual(r.records, []);
    assert.equal(r.log.lastZxid, 200n);
    assert.equal(r.log.startZxid, 200n);
    r.log.append(201n, payloadFor(201n));
    await dd.close();
    const again = await DataDir.open(dir, { log: LOG });
    const r2 = await again.recover();
    assert.equal(r2.snapshot?.zxid, 200n);
    assert.deepEqual(
      r2.records.map((x) => x.zxid),
      [201n],
    );
    await again.close();
    // Without that snapshot, nothing else holds 1..200 any more: refuse.
    await corrupt(path.join(dir, 'snap', 'snapshot.00000000000000c8'));
    const third = await DataDir.open(dir, { log: LOG });
    await assert.rejects(third.recover(), RecoveryError);
    await third.close();
  });
});
