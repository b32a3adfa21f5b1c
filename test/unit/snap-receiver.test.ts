/**
 * SnapReceiver, the follower's end of a SNAP, against a real data directory: chunks parsed and
 * written to a temp file as they are taken; the snapshot file appears only once the whole image
 * parsed and the file is committed; an abandoned image, a bad one, or one other than the image
 * installed leaves no file at all, neither the snapshot nor its temp file.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { SnapReceiver } from '../../src/server/cluster/snap-receiver.js';
import { DataDir } from '../../src/server/storage/index.js';
import { PAGE_MASK } from '../../src/server/tree/node-columns.js';
import { PREFAULT_MIN_NODES } from '../../src/server/tree/snapshot-codec.js';
import { deserializeState } from '../../src/server/tree/snapshot-stream.js';
import { TreeDriver } from '../../src/server/tree/testing.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function dataDir(): Promise<{ dd: DataDir; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'zk-snap-receiver-'));
  dirs.push(dir);
  return { dd: await DataDir.open(dir), dir };
}

/** A tree of a few hundred znodes, its serialized image cut in chunks of `size` bytes. */
function image(size: number) {
  const d = new TreeDriver();
  d.openSession(1n);
  assert.equal(d.create('/p').err, 0);
  for (let i = 0; i < 300; i++) assert.equal(d.create(`/p/n${i}`, { data: Buffer.alloc(100 + (i % 7) * 50, i & 0xff) }).err, 0);
  const bytes = d.state.serialize();
  assert.ok(bytes.length > 300 * 100);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(Buffer.from(bytes.subarray(at, at + size)));
  return { state: d.state, bytes, chunks, zxid: Number(d.state.lastProcessedZxid) };
}

const mono = () => performance.now();

describe('SnapReceiver', () => {
  test('chunks taken one by one build the image; the snapshot file appears only at commitFile, and holds the image', async () => {
    const { dd, dir } = await dataDir();
    const img = image(1000);
    const r = new SnapReceiver(img.zxid, {}, dd, mono);
    img.chunks.forEach((c, i) => r.take(i, c));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual((await readdir(path.join(dir, 'snap'))).filter((n) => !n.includes('.tmp.')), [], 'nothing but a temp file before commitFile');
    const state = r.finishParse(img.chunks.length, img.bytes.length);
    assert.equal(state.digest(), img.state.digest());
    const file = await r.commitFile();
    assert.deepEqual(await readdir(path.join(dir, 'snap')), [path.basename(file)]);
    await dd.close();
    const again = await DataDir.open(dir);
    const rec = await again.recover();
    assert.equal(rec.snapshot?.zxid, BigInt(img.zxid));
    assert.equal(deserializeState(rec.snapshot!.payload).digest(), img.state.digest());
    await again.close();
  });

  test('an image abandoned half way leaves no file behind', async () => {
    const { dd, dir } = await dataDir();
    const img = image(700);
    const r = new SnapReceiver(img.zxid, {}, dd, mono);
    for (let i = 0; i < img.chunks.length / 2; i++) r.take(i, img.chunks[i]!);
    r.abort();
    await r.settled();
    assert.deepEqual(await readdir(path.join(dir, 'snap')), []);
    assert.throws(() => r.take(Math.floor(img.chunks.length / 2) + 1, img.chunks[0]!), /finished or dropped/);
    await dd.close();
  });

  test('a bad image is refused at finishParse and leaves no file; so does installing other than what was taken', async () => {
    for (const spoil of ['corrupt', 'short', 'miscounted'] as const) {
      const { dd, dir } = await dataDir();
      const img = image(900);
      const chunks = img.chunks.map((c) => Buffer.from(c));
      if (spoil === 'corrupt') chunks[3]!.fill(0xff, 0, 40); // a record's lengths turn negative
      if (spoil === 'short') chunks.pop();
      const r = new SnapReceiver(img.zxid, {}, dd, mono);
      assert.throws(() => {
        chunks.forEach((c, i) => r.take(i, c));
        r.finishParse(spoil === 'miscounted' ? chunks.length + 1 : chunks.length, chunks.reduce((n, c) => n + c.length, 0));
      }, spoil);
      await assert.rejects(r.commitFile(), /without a successful finishParse/);
      await r.settled();
      assert.deepEqual(await readdir(path.join(dir, 'snap')), [], spoil);
      await dd.close();
    }
  });

  test('a large image has its memory faulted in by a worker thread, planned from its first nodes even behind a header larger than a chunk', async () => {
    const { dd } = await dataDir();
    const d = new TreeDriver();
    d.openSession(1n);
    // 30,000 sessions: a 360 KB header, so the first chunk holds no node at all.
    for (let i = 2; i <= 30_001; i++) d.openSession(BigInt(i));
    const n = PREFAULT_MIN_NODES + 20_000;
    for (let p = 0; p * 200 < n; p++) {
      d.create(`/p${p}`, { data: Buffer.from(`parent ${p}`) });
      for (let c = 0; c < 200 && p * 200 + c < n; c++) d.create(`/p${p}/c${c}`, { data: Buffer.alloc(60 + (c % 80), c) });
    }
    const bytes = d.state.serialize();
    const r = new SnapReceiver(Number(d.state.lastProcessedZxid), {}, dd, mono);
    let seq = 0;
    // 256 KiB chunks a turn of the event loop apart, as from the leader.
    for (let at = 0; at < bytes.length; at += 256 * 1024) {
      r.take(seq++, Buffer.from(bytes.subarray(at, at + 256 * 1024)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const loaded = r.finishParse(seq, bytes.length);
    await r.commitFile();
    assert.equal(loaded.digest(), d.state.digest());
    assert.ok(Math.abs(r.estimatedBytes - bytes.length) < bytes.length * 0.2, `estimated ${r.estimatedBytes} bytes for ${bytes.length}`);
    const late = loaded.tree.idOf(`/p${Math.floor(n / 200) - 1}/c0`);
    assert.ok(loaded.tree.pages.at(-1)!.longs.buffer instanceof SharedArrayBuffer, 'the column pages came from the prefaulted blocks');
    assert.ok(loaded.tree.datas.bufOf(loaded.tree.page(late).dataH[late & PAGE_MASK] as number).buffer instanceof SharedArrayBuffer, 'the slabs came from the prefaulted blocks');
    await dd.close();
  });

  test('chunks must come in order', async () => {
    const { dd } = await dataDir();
    const img = image(1000);
    const r = new SnapReceiver(img.zxid, {}, dd, mono);
    r.take(0, img.chunks[0]!);
    assert.throws(() => r.take(2, img.chunks[2]!), /chunk 2 taken, 1 expected/);
    r.abort();
    await r.settled();
    await dd.close();
  });
});
