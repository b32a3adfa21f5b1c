/** TxnLog behaviour: round trips, group commit, segments, truncation, purge, ordering, limits. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { crc32c, LogRangeError, TxnLog, type LogRecord } from '../../src/server/storage/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'zk-storage-txnlog-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Payload derived from the zxid, so any record read back can be checked. */
function payloadFor(zxid: bigint, size = Number(zxid % 97n)): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = Number((zxid * 31n + BigInt(i)) & 0xffn);
  return b;
}

async function collect(it: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

function assertRecords(records: LogRecord[], from: bigint, to: bigint): void {
  assert.equal(records.length, Number(to - from + 1n), `expected zxids ${from}..${to}`);
  records.forEach((r, i) => {
    assert.equal(r.zxid, from + BigInt(i));
    assert.deepEqual(r.payload, payloadFor(r.zxid));
  });
}

async function fill(log: TxnLog, from: bigint, to: bigint, flushEvery = 10): Promise<void> {
  for (let z = from; z <= to; z++) {
    log.append(z, payloadFor(z));
    if ((z - from + 1n) % BigInt(flushEvery) === 0n) await log.flush();
  }
  await log.flush();
}

describe('crc32c', () => {
  test('matches the published check value and chains', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    const b = Buffer.from('hello, durable world');
    assert.equal(crc32c(b.subarray(7), crc32c(b.subarray(0, 7))), crc32c(b));
  });
});

describe('TxnLog', () => {
  test('append, flush, reopen round trip', async () => {
    const dir = await tempDir();
    const { log, records } = await TxnLog.open(dir);
    assert.deepEqual(records, []);
    assert.equal(log.lastZxid, 0n);
    for (let z = 1n; z <= 20n; z++) log.append(z, payloadFor(z));
    assert.equal(log.lastZxid, 20n);
    assert.equal(log.durableZxid, 0n);
    await log.flush();
    assert.equal(log.durableZxid, 20n);
    await log.close();
    const again = await TxnLog.open(dir);
    assertRecords(again.records, 1n, 20n);
    assert.equal(again.log.lastZxid, 20n);
    assert.equal(again.log.durableZxid, 20n);
    again.log.append(21n, payloadFor(21n));
    await again.log.close(); // close flushes
    const third = await TxnLog.open(dir, { afterZxid: 15n });
    assertRecords(third.records, 16n, 21n);
    assertRecords(await collect(third.log.readFrom(18n)), 19n, 21n);
    await third.log.close();
  });

  test('group commit: 1,000 appends and 50 concurrent flushes share few fsyncs', async (t) => {
    const dir = await tempDir();
    const { log } = await TxnLog.open(dir);
    const before = log.stats().fsyncs;
    let next = 1n;
    let flushes = 0;
    // 50 writers, each appending 20 records one event-loop turn apart, then flushing.
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        let mine = 0n;
        for (let i = 0; i < 20; i++) {
          mine = next++;
          log.append(mine, payloadFor(mine));
          await tick();
        }
        flushes++;
        await log.flush();
        assert.ok(log.durableZxid >= mine, 'flush resolved before its records were durable');
      }),
    );
    const fsyncs = log.stats().fsyncs - before;
    t.diagnostic(`50 flush calls, 1000 appends: ${fsyncs} fsyncs`);
    assert.equal(flushes, 50);
    assert.equal(log.durableZxid, 1000n);
    assert.ok(fsyncs >= 1 && fsyncs <= 10, `expected far fewer fsyncs than 50 flush calls, got ${fsyncs}`);
    // Flush calls with nothing new to write cost nothing.
    await Promise.all([log.flush(), log.flush()]);
    assert.equal(log.stats().fsyncs - before, fsyncs);
    await log.close();
    const { records, log: again } = await TxnLog.open(dir);
    assertRecords(records, 1n, 1000n);
    await again.close();
  });

  test('rolls segments named by their first zxid and reads across them', async () => {
    const dir = await tempDir();
    const { log } = await TxnLog.open(dir, { maxSegmentBytes: 1024 });
    await fill(log, 1n, 200n, 7);
    const st = log.stats();
    assert.ok(st.segments >= 8, `expected many segments, got ${st.segments}`);
    const names = (await readdir(dir)).sort();
    assert.equal(names.length, st.segments);
    assert.equal(names[0], 'log.0000000000000001');
    for (const n of names) assert.match(n, /^log\.[0-9a-f]{16}$/);
    assertRecords(await collect(log.readFrom(150n)), 151n, 200n);
    await log.close();
    const again = await TxnLog.open(dir, { maxSegmentBytes: 1024 });
    assertRecords(again.records, 1n, 200n);
    // A record larger than a segment still goes in (alone).
    again.log.append(201n, payloadFor(201n, 3000));
    again.log.append(202n, payloadFor(202n));
    await again.log.flush();
    await again.log.close();
    const third = await TxnLog.open(dir, { maxSegmentBytes: 1024, afterZxid: 200n });
    assert.deepEqual(third.records[0]!.payload, payloadFor(201n, 3000));
    assert.equal(third.records[1]!.zxid, 202n);
    await third.log.close();
  });

  test('truncateAfter drops later records durably, across segments and pending appends', async () => {
    const dir = await tempDir();
    const { log } = await TxnLog.open(dir, { maxSegmentBytes: 600 });
    await fill(log, 1n, 100n);
    const segs = log.stats().segments;
    await log.truncateAfter(37n);
    assert.equal(log.lastZxid, 37n);
    assert.equal(log.durableZxid, 37n);
    assert.ok(log.stats().segments < segs);
    log.append(38n, payloadFor(38n));
    log.append(39n, payloadFor(39n));
    await log.truncateAfter(38n); // 38 pending kept and written, 39 dropped
    assert.equal(log.durableZxid, 38n);
    log.append(39n, payloadFor(39n));
    await log.truncateAfter(1000n); // nothing above it: drops nothing, makes 39 durable
    assert.equal(log.durableZxid, 39n);
    await log.close();
    const again = await TxnLog.open(dir, { maxSegmentBytes: 600 });
    assertRecords(again.records, 1n, 39n);
    await again.log.truncateAfter(0n);
    assert.equal(again.log.lastZxid, 0n);
    again.log.append(5n, payloadFor(5n)); // the now-empty first segment is replaced
    await again.log.close();
    const third = await TxnLog.open(dir);
    assert.deepEqual(third.records.map((r) => r.zxid), [5n]);
    assert.deepEqual(await readdir(dir), ['log.0000000000000005']);
    await third.log.close();
  });

  test('purgeBefore removes whole old segments, never the last, and the log then refuses older reads', async () => {
    const dir = await tempDir();
    const { log } = await TxnLog.open(dir, { maxSegmentBytes: 600 });
    await fill(log, 1n, 100n);
    const segs = log.stats().segments;
    const removed = await log.purgeBefore(60n);
    assert.ok(removed > 0 && removed < segs);
    assert.equal(log.stats().segments, segs - removed);
    assert.ok(log.startZxid < 60n && log.startZxid > 0n, `start ${log.startZxid}`);
    const start = log.startZxid;
    assertRecords(await collect(log.readFrom(start)), start + 1n, 100n);
    await assert.rejects(collect(log.readFrom(0n)), LogRangeError);
    // An iteration started before a purge still reads what it started with.
    const reader = log.readFrom(start)[Symbol.asyncIterator]();
    const firstRead = await reader.next();
    assert.equal(await log.purgeBefore(1_000_000n), segs - removed - 1); // keeps the last segment
    assert.equal(firstRead.value?.zxid, start + 1n);
    let n = 1;
    while (!(await reader.next()).done) n++;
    assert.equal(n, Number(100n - start));
    await log.close();
    await assert.rejects(TxnLog.open(dir, { afterZxid: 0n }), LogRangeError);
    const again = await TxnLog.open(dir);
    assert.ok(again.records.length > 0);
    assert.equal(again.records.at(-1)!.zxid, 100n);
    await again.log.close();
  });

  test('enforces zxid order and record limits', async () => {
    const dir = await tempDir();
    const { log } = await TxnLog.open(dir, { maxRecordBytes: 1000, maxPendingBytes: 5000 });
    log.append(10n, Buffer.alloc(1000));
    assert.throws(() => log.append(10n, Buffer.alloc(1)), RangeError);
    assert.throws(() => log.append(9n, Buffer.alloc(1)), /not above the last appended/);
    assert.throws(() => log.append(11n, Buffer.alloc(1001)), /exceeds maxRecordBytes 1000/);
    assert.throws(() => log.append(1n << 63n, Buffer.alloc(1)), RangeError);
    assert.throws(() => log.append(11 as unknown as bigint, Buffer.alloc(1)), TypeError);
    for (let z = 11n; z <= 14n; z++) log.append(z, Buffer.alloc(900));
    assert.equal(log.congested, false);
    // Past maxPendingBytes the log pushes back (congested) instead of refusing the record.
    log.append(15n, Buffer.alloc(900));
    assert.equal(log.congested, true);
    await log.flush();
    assert.equal(log.congested, false);
    assert.equal(log.pendingByteCount, 0);
    await log.close();
    assert.throws(() => log.append(16n, Buffer.alloc(1)), /closed/);
    await assert.rejects(TxnLog.open(dir, { maxSegmentBytes: 10 }), RangeError);
  });
});
