/**
 * The compact tree's parts (byte slabs, the int path index, HashSet order from insertion
 * lists) against straightforward models, and the copy-on-write snapshot image: whatever the
 * tree does between slices, the image loads as the tree was when it was opened.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpCode } from '../../src/protocol/constants.js';
import { ByteHeap, BIG_BYTES, sizeClass } from '../../src/server/tree/byte-heap.js';
import { DataTree } from '../../src/server/tree/data-tree.js';
import { JavaHashSet } from '../../src/server/tree/java-hash-set.js';
import { PathIndex } from '../../src/server/tree/path-index.js';
import { PREFAULT_MIN_NODES, SnapshotLoader } from '../../src/server/tree/snapshot-codec.js';
import { PAGE_SIZE } from '../../src/server/tree/node-columns.js';
import { openSnapshot, serializeState } from '../../src/server/tree/snapshot-stream.js';
import { ZkState } from '../../src/server/tree/state.js';
import { TreeDriver } from '../../src/server/tree/testing.js';
import type { ACL } from '../../src/server/tree/types.js';
import { mulberry32 } from '../support/prng.js';

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

describe('byte heap', () => {
  it('size classes cover every length with at most a quarter wasted, and grow with the length', () => {
    let prev = -1;
    for (let len = 1; len <= BIG_BYTES; len++) {
      const { cls, bytes } = sizeClass(len);
      assert.ok(bytes >= len && bytes <= Math.max(len + 7, Math.ceil(len * 1.25)), `len ${len} → ${bytes}`);
      assert.ok(cls >= prev);
      prev = cls;
    }
  });
  it('strings read back as written; freed space is reused by the same class; big strings stand alone', () => {
    const heap = new ByteHeap();
    const rnd = mulberry32(3);
    const live = new Map<number, Buffer>();
    for (let i = 0; i < 5000; i++) {
      if (live.size > 0 && rnd() < 0.4) {
        const [h, b] = [...live][Math.floor(rnd() * live.size)]!;
        heap.release(h, b.length);
        live.delete(h);
        continue;
      }
      const len = rnd() < 0.02 ? BIG_BYTES + Math.floor(rnd() * 5000) : Math.floor(rnd() * 300);
      const b = Buffer.alloc(len, i & 0xff);
      const h = heap.alloc(b);
      if (len > 0) {
        assert.ok(!live.has(h), 'a live handle was handed out again');
        live.set(h, b);
      }
    }
    for (const [h, b] of live) assert.deepEqual(heap.read(h, b.length), b);
    const before = heap.footprintBytes;
    const h = heap.alloc(Buffer.alloc(100, 1));
    heap.release(h, 100);
    assert.equal(heap.alloc(Buffer.alloc(97, 2)), h, 'same class reuses the freed slot');
    assert.equal(heap.footprintBytes, before);
  });
});

describe('path index', () => {
  it('finds, inserts and removes like a Map, with heavy hash collisions', () => {
    const keys: string[] = [];
    const hashes: number[] = [];
    // Only 64 distinct hashes, all in one shard: long probe runs and wrap-around.
    const index = new PathIndex<string>({ matches: (id, key) => keys[id] === key });
    const model = new Map<string, number>();
    const rnd = mulberry32(11);
    for (let i = 0; i < 20000; i++) {
      const key = `k${Math.floor(rnd() * 3000)}`;
      const hash = (Math.floor(rnd() * 64) * 0x9e3779b1) & 0x00ffffff;
      const have = model.get(key);
      if (have === undefined) {
        const id = keys.length;
        keys.push(key);
        hashes.push(hash);
        index.insert(hash, id);
        model.set(key, id);
      } else {
        index.remove(hashes[have]!, have);
        model.delete(key);
      }
      if (i % 997 === 0) for (const [k, id] of model) assert.equal(index.find(hashes[id]!, k), id, k);
    }
    for (const [k, id] of model) assert.equal(index.find(hashes[id]!, k), id);
    assert.equal(index.size, model.size);
    for (let k = 0; k < 3000; k++) if (!model.has(`k${k}`)) assert.equal(index.find(0, `k${k}`), -1);
  });
});

describe('children order', () => {
  // "Aa" and "BB" have the same String.hashCode, so names built from them all collide: one bin
  // of 16 keys, which makes a small HashMap resize instead of treeifying (JavaHashSet models it).
  const colliding = ['Aa', 'BB'].flatMap((a) => ['Aa', 'BB'].flatMap((b) => ['Aa', 'BB'].flatMap((c) => ['Aa', 'BB'].map((d) => a + b + c + d))));
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: getChildren order equals java.util.HashSet's through adds and deletes`, () => {
      const rnd = mulberry32(seed);
      const tree = new DataTree(false);
      const out: never[] = [];
      tree.createNode('/p', null, OPEN, 0n, -1, 1n, 1n, out);
      const model = new JavaHashSet(8);
      let zxid = 2n;
      for (let i = 0; i < 1500; i++) {
        const name = rnd() < 0.3 ? colliding[Math.floor(rnd() * colliding.length)]! : `n${Math.floor(rnd() * (seed * 40))}`;
        const path = `/p/${name}`;
        if (model.has(name)) {
          if (rnd() < 0.5) {
            tree.deleteNode(path, zxid++, out);
            model.delete(name);
          }
        } else {
          tree.createNode(path, null, OPEN, 0n, -1, zxid++, 1n, out);
          model.add(name);
        }
        if (i % 50 === 0) assert.deepEqual(tree.childrenOf(tree.idOf('/p')), model.toArray(), `step ${i}`);
      }
      assert.deepEqual(tree.childrenOf(tree.idOf('/p')), model.toArray());
    });
  }
});

/** A random write through the real prep/apply pipeline. */
function randomWrite(d: TreeDriver, rnd: () => number, i: number): void {
  const paths = [...d.state.tree.walk()].map(([p]) => p).filter((p) => p !== '' && !p.startsWith('/zookeeper'));
  const pick = (): string => paths[Math.floor(rnd() * paths.length)] ?? '/';
  const r = rnd();
  if (r < 0.4) {
    const base = pick();
    const data = rnd() < 0.1 ? null : Buffer.alloc(Math.floor(rnd() * (rnd() < 0.05 ? 40000 : 200)), i & 0xff);
    d.create(`${base === '/' ? '' : base}/n${Math.floor(rnd() * 30)}`, { data, flags: rnd() < 0.2 ? 2 : 0, acl: rnd() < 0.2 ? READ : OPEN });
  } else if (r < 0.65) d.delete(pick());
  else if (r < 0.9) d.setData(pick(), Buffer.from(`v${i}`.repeat(Math.floor(rnd() * 20))));
  else d.run({ op: OpCode.setACL, path: pick(), acl: rnd() < 0.5 ? READ : OPEN, version: -1 });
}

function loadChunked(bytes: Buffer, rnd: () => number): ZkState {
  const loader = new SnapshotLoader();
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 16 : 5000));
    loader.push(bytes.subarray(at, at + n));
    at += n;
  }
  return loader.finish();
}

describe('copy-on-write snapshot image', () => {
  for (let seed = 1; seed <= 16; seed++) {
    it(`seed ${seed}: slices taken while the tree changes load as the tree was at open`, () => {
      const rnd = mulberry32(seed);
      const d = new TreeDriver();
      d.openSession(1n);
      for (let i = 0; i < 300; i++) randomWrite(d, rnd, i);
      const atOpen = d.state.digest();
      const zxid = d.state.lastProcessedZxid;
      const first = openSnapshot(d.state);
      let second: ReturnType<typeof openSnapshot> | null = null;
      let secondDigest = '';
      const parts: Buffer[] = [];
      const parts2: Buffer[] = [];
      for (let i = 0; ; i++) {
        const slice = first.next(1 + Math.floor(rnd() * 600));
        if (slice === null) break;
        parts.push(slice);
        for (let k = Math.floor(rnd() * 7); k > 0; k--) randomWrite(d, rnd, 1000 + i * 10 + k);
        if (i === 5) {
          second = openSnapshot(d.state); // a second image, overlapping the first
          secondDigest = d.state.digest();
        }
        const s2 = second?.next(1 + Math.floor(rnd() * 900));
        if (s2) parts2.push(s2);
      }
      first.close();
      for (let s = second?.next(1000); s; s = second!.next(1000)) parts2.push(s);
      second?.close();
      assert.equal(d.state.tree.images.length, 0);
      const loaded = loadChunked(Buffer.concat(parts), rnd);
      assert.equal(loaded.digest(), atOpen);
      assert.equal(loaded.lastProcessedZxid, zxid);
      if (second) assert.equal(loadChunked(Buffer.concat(parts2), rnd).digest(), secondDigest);
      // The tree itself still equals a replay: the image changed nothing.
      assert.equal(ZkState.deserialize(serializeState(d.state)).digest(), d.state.digest());
    });
  }
  it('a large snapshot loads the same with its memory faulted in by a worker thread (prefault)', async () => {
    const d = new TreeDriver();
    d.openSession(1n);
    const n = PREFAULT_MIN_NODES + 20_000;
    for (let p = 0; p * 200 < n; p++) {
      d.create(`/p${p}`, { data: Buffer.from(`parent ${p}`) });
      for (let c = 0; c < 200 && p * 200 + c < n; c++) d.create(`/p${p}/c${c}`, { data: Buffer.alloc(40 + (c % 90), c), flags: c % 17 === 0 ? 1 : 0, session: 1n });
    }
    const bytes = serializeState(d.state);
    const loader = new SnapshotLoader({}, { prefault: true });
    loader.expect(bytes.length);
    // Pushed a turn of the event loop apart, as from disk, so the worker really runs alongside.
    for (let at = 0; at < bytes.length; at += 1 << 20) {
      loader.push(Buffer.from(bytes.subarray(at, at + (1 << 20))));
      await new Promise((r) => setImmediate(r));
    }
    const loaded = loader.finish();
    assert.equal(loaded.digest(), d.state.digest());
    assert.ok(loaded.tree.pages[0]!.longs.buffer instanceof SharedArrayBuffer, 'the column pages came from the prefaulted blocks');
    assert.ok(loaded.tree.datas.bufOf(loaded.tree.page(5).dataH[5] as number).buffer instanceof SharedArrayBuffer, 'the slabs came from the prefaulted blocks');
    // After the load the tree allocates as before.
    const more = new TreeDriver({}, loaded);
    for (let i = 0; i < PAGE_SIZE; i++) more.create(`/after${i}`);
    assert.ok(!(loaded.tree.pages.at(-1)!.longs.buffer instanceof SharedArrayBuffer));
  });
  it('a damaged node count in the header plans no more memory than the payload can hold', async () => {
    const d = new TreeDriver();
    d.openSession(1n);
    for (let i = 0; i < 50; i++) d.create(`/n${i}`, { data: Buffer.alloc(10, i) });
    const bytes = serializeState(d.state);
    const headerLength = bytes.readInt32BE(8);
    bytes.writeBigInt64BE(BigInt(2 ** 31 - 1), 12 + headerLength - 8); // the count, read before any checksum
    const before = process.memoryUsage().arrayBuffers;
    const loader = new SnapshotLoader({}, { prefault: true });
    loader.expect(bytes.length);
    loader.push(bytes);
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < 64 * 1024 * 1024, `planned ${grew} bytes for a ${bytes.length}-byte payload`);
    // Only a hint: the records and the trailer's count decide, and the tree loads whole.
    assert.equal(loader.finish().digest(), d.state.digest());
  });
  it('ids and bytes freed while an image is open are reused only after it closes', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    d.create('/a', { data: Buffer.from('x') });
    const img = openSnapshot(d.state);
    const idA = d.state.tree.idOf('/a');
    d.delete('/a');
    d.create('/b', { data: Buffer.from('y') });
    assert.notEqual(d.state.tree.idOf('/b'), idA, 'a freed id was reused under an open image');
    img.close();
    d.create('/c');
    assert.equal(d.state.tree.idOf('/c'), idA, 'the freed id is reused once the image is closed');
  });
  it('refuses truncated, extended or reordered streams', () => {
    const d = new TreeDriver();
    d.openSession(1n);
    for (const p of ['/a', '/a/b', '/c']) d.create(p, { data: Buffer.from(p) });
    const bytes = serializeState(d.state);
    assert.equal(ZkState.deserialize(bytes).digest(), d.state.digest());
    assert.throws(() => ZkState.deserialize(bytes.subarray(0, bytes.length - 1)), /incomplete/);
    assert.throws(() => ZkState.deserialize(Buffer.concat([bytes, Buffer.from([0])])), /after its end/);
    const count = Buffer.from(bytes);
    count.writeBigInt64BE(99n, count.length - 8);
    assert.throws(() => ZkState.deserialize(count), /trailer says 99 nodes/);
    // "/a/b" renamed "/x/b": its parent is not on the path the depth-first order allows.
    const moved = Buffer.from(bytes);
    moved.write('/x/b', moved.indexOf('/a/b'), 'latin1');
    assert.throws(() => ZkState.deserialize(moved), /unable to find parent of path \/x\/b/);
    assert.throws(() => ZkState.deserialize(Buffer.from('nonsense, not a snapshot')), /not a zk-elect tree snapshot/);
  });
});
