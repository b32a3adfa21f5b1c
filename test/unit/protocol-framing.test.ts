import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeConnectRequest, decodeRequest, DEFAULT_MAX_FRAME, encodeConnectRequest, encodeRequest, FOUR_LETTER_WORDS,
  fourLetterWordOf, FrameDecoder, OpCode, ProtocolError, type Frame, type ProtocolErrorReason,
} from '../../src/protocol/index.js';

const connect = encodeConnectRequest({
  protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false,
});
const exists = encodeRequest({ kind: 'exists', xid: 1, type: OpCode.exists, body: { path: '/a', watch: true } });
const ping = encodeRequest({ kind: 'ping', xid: -2, type: OpCode.ping });
const empty = Buffer.from([0, 0, 0, 0]);
const stream = Buffer.concat([connect, exists, empty, ping]);
const expected: Frame[] = [connect, exists, empty, ping].map((f) => ({ kind: 'frame', payload: f.subarray(4) }));

function feed(decoder: FrameDecoder, chunks: Buffer[]): Frame[] {
  return chunks.flatMap((c) => decoder.push(c));
}

function rejectsWith(fn: () => unknown, reason: ProtocolErrorReason): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolError && e.reason === reason);
}

test('coalesced frames come out whole and in order', () => {
  const d = new FrameDecoder();
  assert.deepEqual(d.push(stream), expected);
  assert.equal(d.buffered, 0);
  assert.equal(d.finished, false);
});

test('every single split point of a stream of frames', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder();
    assert.deepEqual(feed(d, [stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut ${cut}`);
    assert.equal(d.buffered, 0);
  }
});

test('every pair of split points (three chunks)', () => {
  const small = Buffer.concat([exists, empty, ping]);
  const want = expected.slice(1);
  for (let i = 0; i <= small.length; i++) {
    for (let j = i; j <= small.length; j++) {
      const d = new FrameDecoder({ fourLetterWords: false });
      const chunks = [small.subarray(0, i), small.subarray(i, j), small.subarray(j)];
      assert.deepEqual(feed(d, chunks), want, `cuts ${i}, ${j}`);
    }
  }
});

test('one byte at a time, with the decoded frames still parseable', () => {
  const d = new FrameDecoder();
  const frames: Frame[] = [];
  for (let i = 0; i < stream.length; i++) {
    frames.push(...d.push(stream.subarray(i, i + 1)));
    assert.ok(d.buffered <= connect.length);
  }
  assert.deepEqual(frames, expected);
  const [first, second] = frames;
  assert.equal(first?.kind === 'frame' && decodeConnectRequest(first.payload).timeOut, 4000);
  assert.equal(second?.kind === 'frame' && decodeRequest(second.payload).kind, 'exists');
});

test('a partial tail stays buffered until completed', () => {
  const d = new FrameDecoder();
  assert.deepEqual(d.push(Buffer.concat([connect, exists.subarray(0, 6)])), expected.slice(0, 1));
  assert.equal(d.buffered, 6);
  assert.deepEqual(d.push(exists.subarray(6)), expected.slice(1, 2));
  assert.equal(d.buffered, 0);
});

test('a frame wholly inside one chunk is a view; one spanning chunks is a fresh copy', () => {
  const d = new FrameDecoder();
  const chunk = Buffer.from(exists);
  const [f] = d.push(chunk);
  assert.ok(f?.kind === 'frame' && f.payload.buffer === chunk.buffer);
  const d2 = new FrameDecoder();
  const [g] = feed(d2, [exists.subarray(0, 5), exists.subarray(5)]);
  assert.ok(g?.kind === 'frame' && g.payload.buffer !== exists.buffer);
});

test('every four-letter word is recognised at the start of a connection', () => {
  for (const word of FOUR_LETTER_WORDS) {
    if (word === 'stmk') continue;
    const d = new FrameDecoder();
    const bytes = Buffer.from(`${word}\n`, 'latin1');
    assert.deepEqual(feed(d, [bytes.subarray(0, 2), bytes.subarray(2)]), [{ kind: 'fourLetter', word }], word);
    assert.equal(d.finished, true);
    assert.deepEqual(d.push(Buffer.from('more junk')), []);
    assert.equal(d.buffered, 0);
    assert.equal(fourLetterWordOf(Buffer.from(word).readInt32BE(0)), word);
  }
  assert.equal(fourLetterWordOf(0x2d), undefined);
});

test('stmk carries the 8-byte trace mask that follows it', () => {
  const bytes = Buffer.concat([Buffer.from('stmk'), Buffer.from('00000000000001f2', 'hex')]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new FrameDecoder();
    const out = feed(d, [bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(out, [{ kind: 'fourLetter', word: 'stmk', traceMask: 0x1f2n }], `cut ${cut}`);
  }
});

test('a four-letter word is only a word as the first thing on a connection', () => {
  const d = new FrameDecoder();
  assert.deepEqual(d.push(connect), expected.slice(0, 1));
  rejectsWith(() => d.push(Buffer.from('ruok')), 'frame-too-large');
  rejectsWith(() => new FrameDecoder({ fourLetterWords: false }).push(Buffer.from('srvr')), 'frame-too-large');
});

test('oversized and negative lengths are rejected as soon as the prefix arrives', () => {
  const big = Buffer.alloc(4);
  big.writeInt32BE(DEFAULT_MAX_FRAME + 1);
  const d = new FrameDecoder();
  rejectsWith(() => d.push(big), 'frame-too-large');
  // The error is sticky: the connection must be closed.
  rejectsWith(() => d.push(exists), 'frame-too-large');

  rejectsWith(() => new FrameDecoder().push(Buffer.from('ffffffff', 'hex')), 'negative-frame-length');
  // Telnet's interrupt, which ZooKeeper treats as "close", is a negative length here.
  rejectsWith(() => new FrameDecoder().push(Buffer.from('fff4fffd', 'hex')), 'negative-frame-length');

  // Split across chunks, after good frames, with a custom limit.
  const small = new FrameDecoder({ maxFrame: 10, fourLetterWords: false });
  assert.deepEqual(small.push(Buffer.concat([ping, Buffer.from([0, 0])])), expected.slice(3));
  rejectsWith(() => small.push(Buffer.from([0, 11])), 'frame-too-large');
});

test('exactly maxFrame is accepted, and only the frame itself is buffered', () => {
  const max = 1000;
  const payload = Buffer.alloc(max, 0xab);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(max);
  const d = new FrameDecoder({ maxFrame: max });
  assert.deepEqual(d.push(prefix), []);
  assert.equal(d.buffered, 4);
  const frames: Frame[] = [];
  for (let i = 0; i < max; i += 7) {
    frames.push(...d.push(payload.subarray(i, i + 7)));
    assert.ok(d.buffered <= 4 + max);
  }
  assert.deepEqual(frames, [{ kind: 'frame', payload }]);
});

test('a chunk with a complete frame followed by a bad length throws', () => {
  const bad = Buffer.concat([exists, Buffer.from('80000000', 'hex')]);
  rejectsWith(() => new FrameDecoder().push(bad), 'negative-frame-length');
});

test('empty chunks are harmless', () => {
  const d = new FrameDecoder();
  assert.deepEqual(d.push(Buffer.alloc(0)), []);
  assert.deepEqual(feed(d, [Buffer.alloc(0), exists, Buffer.alloc(0)]), expected.slice(1, 2));
});

test('fuzz: random byte streams in random chunks yield frames or a ProtocolError, never more memory', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let i = 0; i < 500; i++) {
    const maxFrame = 1 + rand(64);
    const d = new FrameDecoder({ maxFrame, fourLetterWords: rand(2) === 0 });
    // Mostly small lengths so that real frames occur, with random bytes in between.
    const bytes = Buffer.from(Array.from({ length: 1 + rand(200) }, () => (rand(4) === 0 ? rand(256) : rand(8))));
    try {
      for (let off = 0; off < bytes.length;) {
        const n = 1 + rand(16);
        for (const f of d.push(bytes.subarray(off, off + n))) {
          if (f.kind === 'frame') assert.ok(f.payload.length <= maxFrame);
        }
        assert.ok(d.buffered <= 4 + maxFrame);
        off += n;
      }
    } catch (e) {
      assert.ok(e instanceof ProtocolError, String(e));
    }
  }
});
