/** The leader's end of a SNAP stream: an image read out in chunks of a bounded size, the last one marked, the image always released. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SnapshotSource } from '../../src/server/cluster/snapshot-source.js';
import { openSnapshot, serializeState, SnapshotLoader, type SnapshotReader } from '../../src/server/tree/snapshot-stream.js';
import { TreeDriver } from '../../src/server/tree/testing.js';
import { OPEN_ACL_UNSAFE } from '../../src/server/tree/acl.js';
import { OpCode } from '../../src/protocol/index.js';

const clock = { soon: (fn: () => void) => void setImmediate(fn) };

/** A reader over fixed bytes whose slices overshoot what is asked (as a record-aligned reader may), counting closes. */
function fakeReader(bytes: Buffer, overshoot: number): SnapshotReader & { closes: number } {
  let at = 0;
  const r = {
    zxid: 42n,
    closes: 0,
    next(maxBytes: number): Buffer | null {
      if (at >= bytes.length) return null;
      const end = Math.min(bytes.length, at + maxBytes + overshoot);
      const s = bytes.subarray(at, end);
      at = end;
      return s;
    },
    close(): void {
      r.closes++;
    },
  };
  return r;
}

async function drain(source: SnapshotSource, maxBytes: number): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for (;;) {
    const c = await source.take(maxBytes);
    chunks.push(c.bytes);
    if (c.last) return chunks;
    assert.ok(chunks.length < 10_000, 'ends');
  }
}

describe('SnapshotSource', () => {
  test('chunks are at most the size asked, however the reader slices; only the final one is last; together they are the image', async () => {
    const image = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    for (const [slice, overshoot, max] of [[100, 37, 100], [64, 0, 64], [10, 500, 33], [2000, 0, 1000], [999, 1, 1000]] as const) {
      const reader = fakeReader(image, overshoot);
      const source = new SnapshotSource(reader, clock, slice);
      const chunks = await drain(source, max);
      assert.ok(chunks.every((c) => c.length > 0 && c.length <= max), `${slice}/${overshoot}/${max}: ${chunks.map((c) => c.length).join(',')}`);
      assert.deepEqual(Buffer.concat(chunks), image);
      assert.equal(source.chunks, chunks.length);
      assert.equal(source.bytes, image.length);
      assert.equal(reader.closes, 1, 'the reader is closed once the image is read');
      source.close();
      assert.equal(reader.closes, 1);
    }
  });

  test('closing releases the image at once: before the first chunk, mid-stream, and with a chunk being read', async () => {
    const image = Buffer.alloc(5000, 7);
    const early = fakeReader(image, 0);
    new SnapshotSource(early, clock, 100).close();
    assert.equal(early.closes, 1, 'never read');
    const mid = fakeReader(image, 0);
    const s = new SnapshotSource(mid, clock, 100);
    await s.take(100);
    s.close();
    assert.equal(mid.closes, 1, 'after one chunk');
    const busy = fakeReader(image, 0);
    const b = new SnapshotSource(busy, clock, 100);
    await b.take(100);
    const pending = b.take(100);
    b.close();
    assert.equal(busy.closes, 1, 'with a take in flight');
    await pending;
    await new Promise<void>((r) => setImmediate(r));
    assert.equal(busy.closes, 1, 'and only once when the generator ends');
    assert.ok(b.isClosed);
    await assert.rejects(b.take(100), /after close/);
  });

  test('a real image, chunked and loaded back chunk by chunk, is the state it was taken of', async () => {
    const t = new TreeDriver();
    t.openSession(1n);
    for (let i = 1; i <= 300; i++) t.run({ op: OpCode.create, path: `/n${i}`, data: Buffer.alloc(50, i), acl: [...OPEN_ACL_UNSAFE], flags: 0 });
    const state = t.state;
    const whole = serializeState(state);
    const source = new SnapshotSource(openSnapshot(state), clock, 1024);
    assert.equal(source.zxid, 301n);
    const chunks = await drain(source, 1000);
    assert.ok(chunks.length > 10, `${chunks.length} chunks of ${whole.length} bytes`);
    assert.deepEqual(Buffer.concat(chunks), whole);
    const loader = new SnapshotLoader();
    for (const c of chunks) loader.push(c);
    assert.deepEqual(serializeState(loader.finish()), whole);
  });

  test('an image of a live tree: writes between chunks do not show, and closing it (mid-stream or at the end) lets the tree reuse what was freed', async () => {
    const t = new TreeDriver();
    t.openSession(1n);
    for (let i = 0; i < 200; i++) t.create(`/n${i}`, { data: Buffer.alloc(100, i) });
    const before = serializeState(t.state);
    const tree = t.state.tree;

    // Read to the end while the tree changes under the image.
    const whole = new SnapshotSource(openSnapshot(t.state), clock, 512);
    const chunks: Buffer[] = [];
    let i = 0;
    for (;;) {
      const c = await whole.take(500);
      chunks.push(c.bytes);
      if (c.last) break;
      t.delete(`/n${i}`);
      t.create(`/m${i++}`, { data: Buffer.alloc(300, 1) });
    }
    assert.ok(i > 10, `${i} chunks`);
    assert.deepEqual(Buffer.concat(chunks), before, 'the image is the tree as it was when opened');
    assert.equal(tree.images.length, 0, 'read to its end, the image is closed');
    assert.equal(tree.deferredFrees, 0, 'and the frees it held back are done');
    whole.close();

    // Abandoned mid-stream (a follower lost, the leader stepping down).
    const idsBefore = tree.idLimit;
    const half = new SnapshotSource(openSnapshot(t.state), clock, 512);
    await half.take(500);
    for (let k = 0; k < 50; k++) t.delete(`/m${k}`);
    assert.equal(tree.images.length, 1);
    assert.ok(tree.deferredFrees >= 50, `${tree.deferredFrees} frees wait for the image`);
    half.close();
    assert.equal(tree.images.length, 0, 'closed mid-stream, the image is released at once');
    assert.equal(tree.deferredFrees, 0);
    for (let k = 0; k < 50; k++) t.create(`/r${k}`, { data: Buffer.alloc(300, 2) });
    assert.equal(tree.idLimit, idsBefore, 'new nodes reuse the ids freed while the image was open');
  });
});
