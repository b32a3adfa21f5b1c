/** TxnLog recovery: torn tails are cut with a warning, any other damage is refused untouched. */
import assert from 'node:assert/strict';
import { appendFile, copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeRecord } from '../../src/server/storage/log-format.js';
import { CorruptLogError, LogPoisonedError, TxnLog } from '../../src/server/storage/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'zk-storage-recovery-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function payloadFor(zxid: bigint): Buffer {
  return Buffer.alloc(20 + Number(zxid % 50n), Number(zxid & 0xffn));
}

function capture(): { warns: Array<{ msg: string; meta?: object }>; warn(msg: string, meta?: object): void; info(): void } {
  const warns: Array<{ msg: string; meta?: object }> = [];
  return { warns, warn: (msg, meta) => warns.push({ msg, meta }), info() {} };
}

const HEADER = 32;
const RECORD_HEADER = 16;

/** A one-segment log of zxids 1..n; returns the segment path and each record's start offset. */
async function makeLog(n: number): Promise<{ dir: string; file: string; offsets: number[]; size: number }> {
  const dir = await tempDir();
  const { log } = await TxnLog.open(dir);
  const offsets: number[] = [];
  let pos = HEADER;
  for (let z = 1n; z <= BigInt(n); z++) {
    log.append(z, payloadFor(z));
    offsets.push(pos);
    pos += RECORD_HEADER + payloadFor(z).length;
  }
  await log.close();
  const file = path.join(dir, 'log.0000000000000001');
  assert.equal((await stat(file)).size, pos);
  return { dir, file, offsets, size: pos };
}

async function snapshotDir(dir: string): Promise<Map<string, Buffer>> {
  const m = new Map<string, Buffer>();
  for (const n of (await readdir(dir)).sort()) m.set(n, await readFile(path.join(dir, n)));
  return m;
}

async function expectRefusal(dir: string, file: string, offset: number, reason: RegExp): Promise<void> {
  const before = await snapshotDir(dir);
  await assert.rejects(TxnLog.open(dir), (err: unknown) => {
    assert.ok(err instanceof CorruptLogError, `expected CorruptLogError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.equal(err.offset, offset);
    assert.match(err.message, reason);
    assert.ok(err.message.includes(file) && err.message.includes(`offset ${offset}`));
    return true;
  });
  assert.deepEqual(await snapshotDir(dir), before, 'a refused open must not modify the directory');
}

describe('TxnLog torn tail', () => {
  test('a cut at every byte inside the last record keeps all earlier records and warns', async () => {
    const { file, offsets, size } = await makeLog(5);
    const original = await readFile(file);
    const last = offsets[4]!;
    for (let cut = last; cut < size; cut++) {
      const dir = await tempDir();
      const copy = path.join(dir, path.basename(file));
      await writeFile(copy, original.subarray(0, cut));
      const logger = capture();
      const { log, records } = await TxnLog.open(dir, { logger });
      assert.deepEqual(records.map((r) => r.zxid), [1n, 2n, 3n, 4n], `cut at ${cut}`);
      assert.deepEqual(records[3]!.payload, payloadFor(4n));
      if (cut === last) assert.equal(logger.warns.length, 0);
      else {
        assert.equal(logger.warns.length, 1, `cut at ${cut}`);
        assert.deepEqual({ ...logger.warns[0]!.meta, reason: undefined }, { file: copy, offset: last, bytesDropped: cut - last, reason: undefined });
      }
      assert.equal((await stat(copy)).size, last);
      assert.equal(log.lastZxid, 4n);
      log.append(5n, payloadFor(5n)); // the log goes on where the torn record was
      await log.close();
      if (cut === last + 7) assert.deepEqual(await readFile(copy), original);
      await rm(dir, { recursive: true });
    }
  });

  test('trailing zero bytes and a last record with a bad checksum are torn tails', async () => {
    const zeros = await makeLog(3);
    await appendFile(zeros.file, Buffer.alloc(4096));
    const l1 = capture();
    const a = await TxnLog.open(zeros.dir, { logger: l1 });
    assert.equal(a.records.length, 3);
    assert.equal(l1.warns[0]!.meta && (l1.warns[0]!.meta as { bytesDropped: number }).bytesDropped, 4096);
    await a.log.close();

    const flipped = await makeLog(3);
    const fh = await open(flipped.file, 'r+');
    await fh.write(Buffer.from([0xff]), 0, 1, flipped.size - 3);
    await fh.close();
    const l2 = capture();
    const b = await TxnLog.open(flipped.dir, { logger: l2 });
    assert.deepEqual(b.records.map((r) => r.zxid), [1n, 2n]);
    assert.equal((l2.warns[0]!.meta as { offset: number }).offset, flipped.offsets[2]);
    await b.log.close();
  });

  test('a crash right after creating a segment leaves an empty one, which is reused or replaced', async () => {
    const { dir } = await makeLog(3);
    // What a roll leaves when the process dies before writing into the new segment.
    const { log } = await TxnLog.open(dir, { maxSegmentBytes: 256 });
    log.append(4n, Buffer.alloc(300));
    await log.flush();
    await log.close();
    const second = path.join(dir, 'log.0000000000000004');
    await truncate(second, HEADER);
    await writeFile(path.join(dir, 'log.0000000000000009.tmp'), 'half a header');
    const again = await TxnLog.open(dir);
    assert.deepEqual(again.records.map((r) => r.zxid), [1n, 2n, 3n]);
    again.log.append(7n, payloadFor(7n));
    await again.log.close();
    assert.deepEqual((await readdir(dir)).sort(), ['log.0000000000000001', 'log.0000000000000007']);
    const third = await TxnLog.open(dir);
    assert.deepEqual(third.records.map((r) => r.zxid), [1n, 2n, 3n, 7n]);
    await third.log.close();
  });
});

describe('TxnLog refuses corruption', () => {
  test('a flipped byte in an early record, with valid records after it', async () => {
    const { dir, file, offsets } = await makeLog(5);
    const fh = await open(file, 'r+');
    await fh.write(Buffer.from([0x5a]), 0, 1, offsets[1]! + RECORD_HEADER + 3);
    await fh.close();
    await expectRefusal(dir, file, offsets[1]!, /checksum mismatch, and a valid record follows/);
  });

  test('bad magic, zxid going backwards, an over-limit record', async () => {
    const magic = await makeLog(2);
    const fh = await open(magic.file, 'r+');
    await fh.write(Buffer.from('XXXX'), 0, 4, 0);
    await fh.close();
    await expectRefusal(magic.dir, magic.file, 0, /bad magic/);

    const back = await makeLog(3);
    await appendFile(back.file, encodeRecord(2n, Buffer.from('replayed')));
    await expectRefusal(back.dir, back.file, back.size, /zxid goes backwards/);

    const big = await makeLog(3);
    const before = await snapshotDir(big.dir);
    // Record 2 (22 bytes) was valid when written under the default limit: refuse, never truncate it.
    await assert.rejects(
      TxnLog.open(big.dir, { maxRecordBytes: 21 }),
      (err: unknown) => err instanceof CorruptLogError && err.offset === big.offsets[1] && /exceeds maxRecordBytes 21/.test(err.message),
    );
    assert.deepEqual(await snapshotDir(big.dir), before);
  });

  test('a non-final segment cut short, and a missing middle segment', async () => {
    const dir = await tempDir();
    const { log } = await TxnLog.open(dir, { maxSegmentBytes: 300 });
    for (let z = 1n; z <= 30n; z++) log.append(z, payloadFor(z));
    await log.close();
    const names = (await readdir(dir)).sort();
    assert.ok(names.length >= 4);
    const backup = await tempDir();
    for (const n of names) await copyFile(path.join(dir, n), path.join(backup, n));

    const first = path.join(dir, names[0]!);
    const size = (await stat(first)).size;
    await truncate(first, size - 5);
    const { records } = await TxnLog.open(backup, { afterZxid: 0n }).then(async (r) => (await r.log.close(), r));
    assert.equal(records.length, 30);
    await assert.rejects(TxnLog.open(dir), (err: unknown) => err instanceof CorruptLogError && err.file === first && /not the last one/.test(err.message));

    await copyFile(path.join(backup, names[0]!), first);
    await unlink(path.join(dir, names[2]!));
    await expectRefusal(dir, path.join(dir, names[3]!), 16, /a segment is missing/);
  });
});

describe('TxnLog write failures', () => {
  test('a failed fdatasync rejects the flush and poisons the log', async () => {
    const dir = await tempDir();
    const { log } = await TxnLog.open(dir);
    log.append(1n, payloadFor(1n));
    await log.flush();
    await mkdir(path.join(dir, 'probe'));
    const probe = await open(path.join(dir, 'probe'), 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    await rm(path.join(dir, 'probe'), { recursive: true });
    const real = proto.datasync;
    proto.datasync = () => Promise.reject(Object.assign(new Error('input/output error'), { code: 'EIO' }));
    try {
      log.append(2n, payloadFor(2n));
      const results = await Promise.allSettled([log.flush(), log.flush()]);
      for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof LogPoisonedError && /EIO/.test(String(r.reason.message)));
      assert.equal(log.durableZxid, 1n);
      assert.throws(() => log.append(3n, payloadFor(3n)), LogPoisonedError);
      await assert.rejects(log.flush(), LogPoisonedError);
    } finally {
      proto.datasync = real;
    }
    await log.close();
    const again = await TxnLog.open(dir);
    assert.equal(again.records[0]!.zxid, 1n);
    await again.log.close();
  });

  test('a write that fails with ENOSPC names the file and offset; a restart recovers the flushed records', async () => {
    const dir = await tempDir();
    const { log } = await TxnLog.open(dir);
    log.append(1n, payloadFor(1n));
    await log.flush();
    const probe = await open(path.join(dir, 'log.0000000000000001'), 'r');
    const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const real = proto.write;
    proto.write = () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    try {
      log.append(2n, payloadFor(2n));
      await assert.rejects(log.flush(), (err: unknown) => {
        assert.ok(err instanceof LogPoisonedError);
        assert.equal(err.file, path.join(dir, 'log.0000000000000001'));
        assert.equal(err.offset, HEADER + RECORD_HEADER + payloadFor(1n).length);
        assert.match(err.message, /ENOSPC/);
        return true;
      });
      await assert.rejects(log.truncateAfter(0n), LogPoisonedError);
    } finally {
      proto.write = real;
    }
    await log.close();
    const again = await TxnLog.open(dir);
    assert.deepEqual(again.records.map((r) => r.zxid), [1n]);
    await again.log.close();
  });
});
