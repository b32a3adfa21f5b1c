/**
 * ByteQueue, the peer links' receive buffer: length-prefixed frames written as one stream and
 * read back through arbitrary read boundaries come out byte for byte; a frame within one read is
 * a view of it (no copy), one spanning reads a single joined copy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteQueue } from '../../src/server/net/byte-queue.js';
import { mulberry32 } from '../support/prng.js';

describe('ByteQueue', () => {
  for (let seed = 1; seed <= 12; seed++) {
    it(`seed ${seed}: frames cut at random read boundaries come back whole and in order`, () => {
      const rnd = mulberry32(seed);
      const frames = Array.from({ length: 60 }, (_, i) => {
        const len = [0, 1, 3, 4, 5, 100, 65_536, 300_000][Math.floor(rnd() * 8)]!;
        const b = Buffer.alloc(len);
        for (let k = 0; k < len; k += 97) b[k] = (i * 31 + k) & 0xff;
        return b;
      });
      const stream = Buffer.concat(frames.flatMap((f) => [Buffer.from([f.length >>> 24, (f.length >>> 16) & 0xff, (f.length >>> 8) & 0xff, f.length & 0xff]), f]));
      const q = new ByteQueue();
      const out: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = 1 + Math.floor(rnd() * [3, 70_000, 400_000][Math.floor(rnd() * 3)]!);
        q.add(Buffer.from(stream.subarray(at, at + n)));
        at += n;
        while (q.bytes >= 4) {
          const len = q.peekUInt32BE();
          if (q.bytes < 4 + len) break;
          assert.equal(q.take(4).readUInt32BE(0), len);
          out.push(Buffer.from(q.take(len)));
        }
      }
      assert.equal(q.bytes, 0);
      assert.equal(out.length, frames.length);
      out.forEach((f, i) => assert.ok(f.equals(frames[i]!), `frame ${i} (${frames[i]!.length} bytes)`));
    });
  }

  it('a frame within one read is a view of it; one spanning reads is joined once', () => {
    const q = new ByteQueue();
    const read1 = Buffer.from('abcdefgh');
    const read2 = Buffer.from('ijkl');
    q.add(read1);
    q.add(read2);
    const inOne = q.take(3);
    const spanning = q.take(7);
    assert.equal(inOne.toString(), 'abc');
    assert.equal(spanning.toString(), 'defghij');
    // A view sees later changes to the read's bytes; a copy does not.
    read1.write('ABCDEFGH');
    assert.equal(inOne.toString(), 'ABC', 'a view of the read');
    assert.equal(spanning.toString(), 'defghij', 'a copy');
    assert.equal(q.bytes, 2);
    assert.throws(() => q.take(3), RangeError);
    assert.throws(() => q.peekUInt32BE(), RangeError);
    assert.equal(q.take(2).toString(), 'kl');
  });
});
