/**
 * SnapshotLoader fed a snapshot in chunks of every awkward size: records (and the header) cut
 * anywhere, values larger than a chunk, format 1 cut inside its prefix. Only the part of a record
 * cut at a chunk's end is joined with the next chunk (the rest is parsed in place), so each cut
 * position and record size must come back as the tree it was.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JuteWriter } from '../../src/protocol/jute.js';
import { SnapshotLoader } from '../../src/server/tree/snapshot-codec.js';
import { ZkState } from '../../src/server/tree/state.js';
import { TreeDriver } from '../../src/server/tree/testing.js';
import { mulberry32 } from '../support/prng.js';

/** A tree whose values span 0 bytes to `maxValue` (several 256 KiB chunks at most), at assorted depths. */
function sampleTree(maxValue: number): ZkState {
  const d = new TreeDriver();
  d.openSession(1n);
  const create = (path: string, data: Buffer) => assert.equal(d.create(path, { data }).err, 0, path);
  const sizes = [0, 1, 100, 4095, 4096, 4097, 20_000, 70_000, 300_000, 700_000].filter((n) => n <= maxValue);
  create('/a', Buffer.alloc(0));
  create('/a/b', Buffer.alloc(0));
  sizes.forEach((n, i) => {
    const data = Buffer.alloc(n, (i * 37) & 0xff);
    data.write(`value ${i}`.slice(0, n));
    create(`/a/b/n${i}`, data);
    create(`/a/m${i}`, Buffer.from(`small ${i}`));
  });
  for (let i = 0; i < 300; i++) create(`/c${i % 7 === 0 ? '' : `-${i}`}${i}`, Buffer.alloc(i * 13, i & 0xff));
  return d.state;
}

function loadIn(bytes: Buffer, sizes: () => number): ZkState {
  const loader = new SnapshotLoader();
  for (let at = 0; at < bytes.length; ) {
    const n = sizes();
    loader.push(bytes.subarray(at, at + n));
    at += n;
  }
  return loader.finish();
}

describe('SnapshotLoader: chunked input', () => {
  // Chunks far smaller than a value join it piece by piece (quadratic), so the tiny sizes get a
  // tree of small values and the large values chunks of a page and up.
  const small = sampleTree(5000);
  const big = sampleTree(1 << 20);
  assert.ok(big.serialize().length > 1_100_000, 'the large values are in the image');

  for (const [state, sizes] of [
    [small, [1, 3, 11, 12, 13, 100]],
    [big, [4095, 4096, 4097, 65_536, 262_144, 1 << 20]],
  ] as const) {
    const bytes = state.serialize();
    for (const size of sizes) {
      it(`chunks of ${size} bytes load the same tree (${bytes.length} bytes)`, () => {
        const got = loadIn(bytes, () => size);
        assert.equal(got.digest(), state.digest());
        assert.equal(got.lastProcessedZxid, state.lastProcessedZxid);
        assert.deepEqual([...got.sessions.keys()], [...state.sessions.keys()]);
      });
    }
  }

  const bytes = big.serialize();
  const digest = big.digest();
  it('random chunk sizes (1 byte to 1 MiB, 4 KiB and up in a value) load the same tree, 20 seeds', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = mulberry32(seed);
      const got = loadIn(bytes, () => 1 + Math.floor(rnd() * [16, 5000, 300_000, 1 << 20][Math.floor(rnd() * 4)]!));
      assert.equal(got.digest(), digest, `seed ${seed}`);
    }
  });

  it('a truncated stream and bytes after the end are refused, however cut', () => {
    for (const size of [4096, 262_144]) {
      assert.throws(() => loadIn(bytes.subarray(0, bytes.length - 5), () => size), /incomplete/);
      assert.throws(() => loadIn(Buffer.concat([bytes, Buffer.from([1, 2, 3])]), () => size), /after its end/);
    }
  });

  it('format 1, cut inside its prefix or anywhere, is kept whole and loads the same tree', () => {
    // Format 1: magic, version 1, zxid, sessions, then path, data, ACL, stat per node, ended by "/".
    const w = new JuteWriter();
    w.int(0x5a4b5354).int(1).long(0x500000003n);
    w.vector([[9n, 4000]] as const, (ww, [id, t]) => ww.long(id).int(t));
    const node = (path: string, data: Buffer | null, czxid: bigint) => {
      w.ustring(path).buffer(data);
      w.vector([{ perms: 31, scheme: 'world', id: 'anyone' }], (ww, a) => ww.int(a.perms).ustring(a.scheme).ustring(a.id));
      w.long(czxid).long(czxid).long(1000n).long(2000n).int(0).int(0).int(0).long(0n).long(czxid);
    };
    node('', null, 0n);
    node('/x', Buffer.from('x'), 1n);
    node('/x/y', Buffer.alloc(9000, 7), 2n);
    w.ustring('/');
    const v1 = Buffer.from(w.toBuffer());
    const whole = loadIn(v1, () => v1.length);
    assert.equal(whole.lastProcessedZxid, 0x500000003n);
    for (const size of [1, 5, 11, 12, 13, 4096]) {
      const got = loadIn(v1, () => size);
      assert.equal(got.digest(), whole.digest(), `chunks of ${size}`);
      assert.equal(got.lastProcessedZxid, 0x500000003n);
    }
    // The prefix cut, then the rest in one chunk longer than the first join takes.
    for (const first of [1, 5, 11]) {
      let n = 0;
      const got = loadIn(v1, () => (n++ === 0 ? first : v1.length));
      assert.equal(got.digest(), whole.digest(), `${first} bytes, then the rest`);
    }
  });
});
