/** Snapshots and epoch files. (DataDir lock and recovery: storage-datadir.test.ts.) */
import assert from 'node:assert/strict';
import { mkdtemp, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  CorruptEpochError,
  CorruptSnapshotError,
  listSnapshots,
  loadSnapshots,
  purgeSnapshots,
  readEpoch,
  readLatestSnapshot,
  readSnapshotFile,
  streamSnapshotFile,
  VerifiedSnapshots,
  verifySnapshotFile,
  writeEpoch,
  writeSnapshot,
} from '../../src/server/storage/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'zk-storage-snap-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const state = (zxid: bigint): Buffer => Buffer.from(`state as of ${zxid}`.repeat(1 + Number(zxid % 5n)));

function capture(): { warns: Array<{ msg: string; meta?: object }>; warn(msg: string, meta?: object): void; info(): void } {
  const warns: Array<{ msg: string; meta?: object }> = [];
  return { warns, warn: (msg, meta) => warns.push({ msg, meta }), info() {} };
}

async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await open(file, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, offset);
  b[0] = b[0]! ^ 0x01;
  await fh.write(b, 0, 1, offset);
  await fh.close();
}

/** A sink that keeps the chunks it is given, and whether finish() was called. */
function collector(): { push(c: Buffer): void; finish(): Buffer[]; finished: boolean } {
  const chunks: Buffer[] = [];
  return {
    finished: false,
    push(c) {
      chunks.push(Buffer.from(c));
    },
    finish() {
      this.finished = true;
      return chunks;
    },
  };
}

describe('snapshots', () => {
  test('write and read back, newest first', async () => {
    const dir = await tempDir();
    assert.equal(await readLatestSnapshot(dir), undefined);
    const file = await writeSnapshot(dir, 0x100000005n, state(5n));
    assert.equal(path.basename(file), 'snapshot.0000000100000005');
    await writeSnapshot(dir, 0x2n, Buffer.alloc(0));
    assert.deepEqual(
      (await listSnapshots(dir)).map((s) => s.zxid),
      [0x100000005n, 0x2n],
    );
    const latest = await readLatestSnapshot(dir);
    assert.equal(latest?.zxid, 0x100000005n);
    assert.deepEqual(latest?.payload, state(5n));
    assert.deepEqual(latest?.skipped, []);
    assert.deepEqual(await readSnapshotFile({ file: path.join(dir, 'snapshot.0000000000000002'), zxid: 2n }), Buffer.alloc(0));
  });

  test('an invalid newest snapshot is skipped, reported, and the previous one used', async () => {
    const dir = await tempDir();
    for (const z of [10n, 20n, 30n, 40n]) await writeSnapshot(dir, z, state(z));
    const newest = path.join(dir, 'snapshot.0000000000000028');
    await flipByte(newest, 40);
    const second = path.join(dir, 'snapshot.000000000000001e');
    await truncate(second, 50);
    const logger = capture();
    const latest = await readLatestSnapshot(dir, { logger });
    assert.equal(latest?.zxid, 20n);
    assert.deepEqual(latest?.payload, state(20n));
    assert.deepEqual(
      latest?.skipped.map((s) => [s.file, s.zxid]),
      [
        [newest, 40n],
        [second, 30n],
      ],
    );
    assert.match(latest!.skipped[0]!.reason, /checksum mismatch/);
    assert.match(latest!.skipped[1]!.reason, /file is 50 bytes but the header says/);
    assert.equal(logger.warns.length, 2);
    await assert.rejects(readSnapshotFile({ file: newest, zxid: 40n }), (err: unknown) => err instanceof CorruptSnapshotError && err.file === newest && err.offset === 24);
    // A snapshot renamed to another zxid is not believed.
    await writeFile(path.join(dir, 'snapshot.0000000000000063'), await readFile(path.join(dir, 'snapshot.0000000000000014')));
    const again = await readLatestSnapshot(dir);
    assert.equal(again?.zxid, 20n);
    assert.match(again!.skipped[0]!.reason, /does not match the file name/);
  });

  test('temp files left by a crash are ignored and removed', async () => {
    const dir = await tempDir();
    await writeSnapshot(dir, 7n, state(7n));
    const temp = path.join(dir, 'snapshot.0000000000000009.tmp.999999.1');
    await writeFile(temp, 'half a snapshot');
    assert.deepEqual(
      (await listSnapshots(dir)).map((s) => s.zxid),
      [7n],
    );
    assert.equal((await readLatestSnapshot(dir))?.zxid, 7n);
    assert.deepEqual(await readdir(dir), ['snapshot.0000000000000007']);
  });

  test('a chunked payload streams to the same bytes; version 1 files (header checksummed first) still read', async () => {
    const dir = await tempDir();
    const payload = Buffer.from('0123456789abcdef'.repeat(1000));
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < payload.length; i += 777) yield payload.subarray(i, i + 777);
    }
    const file = await writeSnapshot(dir, 7n, chunks());
    assert.deepEqual(await readSnapshotFile({ file, zxid: 7n }), payload);
    // Rewrite it as version 1 did: CRC over header bytes 0..24, then the payload.
    const { crc32c } = await import('../../src/server/storage/crc32c.js');
    const raw = await readFile(file);
    raw.writeUInt16BE(1, 4);
    raw.writeUInt32BE(crc32c(raw.subarray(32), crc32c(raw, 0, 0, 24)), 24);
    await writeFile(file, raw);
    assert.deepEqual(await readSnapshotFile({ file, zxid: 7n }), payload);
    raw.writeUInt16BE(2, 4); // a version-1 checksum under a version-2 header is refused
    await writeFile(file, raw);
    await assert.rejects(readSnapshotFile({ file, zxid: 7n }), CorruptSnapshotError);
  });

  test('version 2 files (CRC-32C) still read; version 3 is zlib CRC-32 over the payload, then the header', async () => {
    const dir = await tempDir();
    const payload = Buffer.from('fedcba9876543210'.repeat(500));
    const file = await writeSnapshot(dir, 8n, payload);
    const raw = await readFile(file);
    assert.equal(raw.readUInt16BE(4), 3);
    assert.equal(raw.readUInt32BE(24), zlibCrc32(raw.subarray(0, 24), zlibCrc32(raw.subarray(32))));
    const { crc32c } = await import('../../src/server/storage/crc32c.js');
    raw.writeUInt16BE(2, 4);
    raw.writeUInt32BE(crc32c(raw, crc32c(raw.subarray(32)), 0, 24), 24);
    await writeFile(file, raw);
    assert.deepEqual(await readSnapshotFile({ file, zxid: 8n }), payload);
    await verifySnapshotFile({ file, zxid: 8n });
    assert.deepEqual(Buffer.concat(await streamSnapshotFile({ file, zxid: 8n }, collector())), payload);
    raw.writeUInt16BE(3, 4); // a CRC-32C under a version-3 header is refused
    await writeFile(file, raw);
    await assert.rejects(readSnapshotFile({ file, zxid: 8n }), /checksum mismatch/);
  });

  test('streaming into a sink: the same chunks as the file, finish() only when the checksum matched', async () => {
    const dir = await tempDir();
    const payload = Buffer.alloc(9 * (1 << 20) + 4_321); // several 4 MiB reads and a partial one
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
    const file = await writeSnapshot(dir, 11n, payload);
    const sink = collector();
    const got = await streamSnapshotFile({ file, zxid: 11n }, sink);
    assert.deepEqual(Buffer.concat(got), payload);
    assert.ok(got.length >= 3, `read in chunks, not whole (${got.length})`);
    for (const offset of [32, 32 + (4 << 20) + 5, 32 + payload.length - 1, 12]) {
      await flipByte(file, offset);
      const s = collector();
      await assert.rejects(streamSnapshotFile({ file, zxid: 11n }, s), CorruptSnapshotError, `flip at ${offset}`);
      assert.equal(s.finished, false, `finish() after a flip at ${offset}`);
      await flipByte(file, offset);
    }
    await truncate(file, 32 + payload.length - 1);
    await assert.rejects(streamSnapshotFile({ file, zxid: 11n }, collector()), CorruptSnapshotError);
  });

  test('loading through a sink: a snapshot the sink cannot load is skipped like a damaged one', async () => {
    const dir = await tempDir();
    for (const z of [10n, 20n, 30n]) await writeSnapshot(dir, z, state(z));
    const logger = capture();
    const refuseNewest = (info: { zxid: bigint }) => {
      const c = collector();
      if (info.zxid === 30n) c.push = () => {
        throw new RangeError('not a tree');
      };
      return c;
    };
    const { latest, skipped } = await loadSnapshots(dir, { logger, sink: refuseNewest });
    assert.equal(latest?.zxid, 20n);
    assert.deepEqual(Buffer.concat(latest!.payload), state(20n));
    assert.deepEqual(skipped.map((s) => s.zxid), [30n]);
    assert.match(skipped[0]!.reason, /could not be loaded: .*not a tree/);
    assert.equal(logger.warns.length, 1);
  });

  test('purge keeps the newest valid snapshots', async () => {
    const dir = await tempDir();
    for (const z of [1n, 2n, 3n, 4n, 5n]) await writeSnapshot(dir, z, state(z));
    await flipByte(path.join(dir, 'snapshot.0000000000000005'), 33);
    const { kept, removed } = await purgeSnapshots(dir, 2);
    assert.deepEqual(
      kept.map((k) => k.zxid),
      [4n, 3n],
    );
    assert.equal(removed.length, 2);
    assert.deepEqual((await readdir(dir)).sort(), ['snapshot.0000000000000003', 'snapshot.0000000000000004', 'snapshot.0000000000000005']);
    assert.deepEqual((await purgeSnapshots(dir, 5)).removed, []); // fewer valid than asked: keep all
    await assert.rejects(purgeSnapshots(dir, 0), RangeError);
  });

  test('verifying in place (1 MiB at a time) agrees with reading: a flipped byte anywhere is found, version 1 too', async () => {
    const dir = await tempDir();
    const payload = Buffer.alloc(3 * (1 << 20) + 12_345, 7); // several chunks and a partial one
    const file = await writeSnapshot(dir, 9n, payload);
    await verifySnapshotFile({ file, zxid: 9n });
    for (const offset of [32, 32 + (1 << 20), 32 + payload.length - 1, 10]) {
      await flipByte(file, offset);
      await assert.rejects(verifySnapshotFile({ file, zxid: 9n }), CorruptSnapshotError, `flip at ${offset}`);
      await assert.rejects(readSnapshotFile({ file, zxid: 9n }), CorruptSnapshotError);
      await flipByte(file, offset);
    }
    await verifySnapshotFile({ file, zxid: 9n });
    const { crc32c } = await import('../../src/server/storage/crc32c.js');
    const raw = await readFile(file);
    raw.writeUInt16BE(1, 4);
    raw.writeUInt32BE(crc32c(raw.subarray(32), crc32c(raw, 0, 0, 24)), 24);
    await writeFile(file, raw);
    await verifySnapshotFile({ file, zxid: 9n });
    await truncate(file, raw.length - 1);
    await assert.rejects(verifySnapshotFile({ file, zxid: 9n }), CorruptSnapshotError);
  });

  test('purge trusts snapshots known whole, verifies the rest, and a known file whose size changed again', async () => {
    const dir = await tempDir();
    for (const z of [1n, 2n, 3n, 4n]) await writeSnapshot(dir, z, state(z));
    const verified = new VerifiedSnapshots();
    const four = { file: path.join(dir, 'snapshot.0000000000000004'), zxid: 4n };
    await verified.add(four);
    // Damage that keeps the size is not seen for a file known whole (it was checksummed when written)...
    await flipByte(four.file, 33);
    assert.deepEqual((await purgeSnapshots(dir, 2, { verified })).kept.map((k) => k.zxid), [4n, 3n]);
    // 3 was read and found whole by that purge (remembered); 2 and 1 went. A known file whose
    // size changed is read again: 4 is now damaged and skipped, and nothing older may go.
    const three = { file: path.join(dir, 'snapshot.0000000000000003'), zxid: 3n };
    assert.equal(await verified.has(three), true, 'verified files are remembered');
    await truncate(four.file, 40);
    const r = await purgeSnapshots(dir, 2, { verified });
    assert.deepEqual(r.kept.map((k) => k.zxid), [3n]);
    assert.deepEqual(r.removed, [], 'nothing is removed while fewer than `keep` snapshots are known whole');
    assert.equal(await verified.has(four), false);
  });
});

describe('epochs', () => {
  test('round trip, missing file is undefined, overwrite is atomic', async () => {
    const dir = await tempDir();
    assert.equal(await readEpoch(dir, 'acceptedEpoch'), undefined);
    await writeEpoch(dir, 'acceptedEpoch', 5n);
    await writeEpoch(dir, 'currentEpoch', 4);
    assert.equal(await readEpoch(dir, 'acceptedEpoch'), 5n);
    assert.equal(await readEpoch(dir, 'currentEpoch'), 4n);
    await writeEpoch(dir, 'acceptedEpoch', 0xffffffffn);
    assert.equal(await readEpoch(dir, 'acceptedEpoch'), 0xffffffffn);
    assert.deepEqual((await readdir(dir)).sort(), ['acceptedEpoch', 'currentEpoch']);
    await assert.rejects(writeEpoch(dir, '../escape', 1n), RangeError);
    await assert.rejects(writeEpoch(dir, 'acceptedEpoch', -1n), RangeError);
  });

  test('a damaged epoch file is refused, naming the file', async () => {
    const dir = await tempDir();
    await writeEpoch(dir, 'currentEpoch', 12n);
    const file = path.join(dir, 'currentEpoch');
    const text = await readFile(file, 'latin1');
    for (const bad of [text.replace(' 12 ', ' 13 '), '', '12\n', text + 'x', text.replace('\n', '')]) {
      await writeFile(file, bad, 'latin1');
      await assert.rejects(readEpoch(dir, 'currentEpoch'), (err: unknown) => {
        assert.ok(err instanceof CorruptEpochError);
        assert.equal(err.file, file);
        assert.ok(err.message.includes(file));
        return true;
      });
    }
  });
});
