import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FrameLengthError,
  FrameSplitter,
  MAX_FRAME_BYTES,
  looksLikeFourLetterWord,
  readReplyHeader,
  readRequestHeader,
  splitFrames,
} from '../support/zk-frames.js';

function frame(payload: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(payload.length);
  return Buffer.concat([len, payload]);
}

// A realistic post-handshake request: xid 7, opcode 3 (exists), path "/a", watch false.
const existsReq = frame(Buffer.from([0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 2, 0x2f, 0x61, 0]));
// A ping reply: xid -2, zxid 0x100000005, err 0.
const pingReply = frame(Buffer.from([0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 0]));

test('one whole frame comes back verbatim, prefix included', () => {
  const s = new FrameSplitter();
  const out = s.push(existsReq);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0], existsReq);
  assert.equal(s.buffered, 0);
  assert.deepEqual(readRequestHeader(out[0]!), { xid: 7, opcode: 3 });
});

test('a frame split at every possible byte boundary is reassembled', () => {
  for (let cut = 1; cut < existsReq.length; cut++) {
    const s = new FrameSplitter();
    assert.deepEqual(s.push(existsReq.subarray(0, cut)), []);
    assert.equal(s.buffered, cut);
    const out = s.push(existsReq.subarray(cut));
    assert.equal(out.length, 1, `cut at ${cut}`);
    assert.deepEqual(out[0], existsReq);
  }
});

test('a frame delivered one byte at a time', () => {
  const s = new FrameSplitter();
  const out: Buffer[] = [];
  for (const b of pingReply) out.push(...s.push(Buffer.from([b])));
  assert.equal(out.length, 1);
  assert.deepEqual(readReplyHeader(out[0]!), { xid: -2, zxid: 0x100000005n, err: 0 });
});

test('coalesced frames plus a partial tail', () => {
  const empty = frame(Buffer.alloc(0));
  const bytes = Buffer.concat([existsReq, pingReply, empty, existsReq.subarray(0, 6)]);
  const s = new FrameSplitter();
  const out = s.push(bytes);
  assert.deepEqual(out, [existsReq, pingReply, empty]);
  assert.equal(s.buffered, 6);
  assert.deepEqual(s.push(existsReq.subarray(6)), [existsReq]);
  assert.deepEqual(splitFrames(bytes).rest, 6);
});

test('oversized and negative lengths are rejected before buffering the body', () => {
  const tooBig = Buffer.alloc(8);
  tooBig.writeInt32BE(MAX_FRAME_BYTES + 1);
  assert.throws(() => new FrameSplitter().push(tooBig), (e: unknown) => e instanceof FrameLengthError && e.length === MAX_FRAME_BYTES + 1);

  const negative = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => new FrameSplitter().push(negative), (e: unknown) => e instanceof FrameLengthError && e.length === -1);

  // Exactly the limit is fine (only the header is looked at until the body arrives).
  const atLimit = Buffer.alloc(4);
  atLimit.writeInt32BE(MAX_FRAME_BYTES);
  const s = new FrameSplitter();
  assert.deepEqual(s.push(atLimit), []);
  assert.equal(s.buffered, 4);

  // A custom small limit, with the bad header split across chunks.
  const small = new FrameSplitter(10);
  assert.deepEqual(small.push(Buffer.from([0, 0])), []);
  assert.throws(() => small.push(Buffer.from([0, 11])), FrameLengthError);
});

test('a four-letter word is recognised from its would-be length bytes', () => {
  let header: Buffer = Buffer.alloc(0);
  try {
    new FrameSplitter().push(Buffer.from('srvr'));
  } catch (e) {
    assert.ok(e instanceof FrameLengthError);
    header = e.header;
  }
  assert.equal(header.toString('latin1'), 'srvr');
  assert.equal(looksLikeFourLetterWord(header), true);
  assert.equal(looksLikeFourLetterWord(Buffer.from([0x7f, 0, 0, 0])), false);
});

test('drain hands back the partial bytes and empties the splitter', () => {
  const s = new FrameSplitter();
  s.push(existsReq.subarray(0, 3));
  s.push(existsReq.subarray(3, 9));
  assert.deepEqual(s.drain(), existsReq.subarray(0, 9));
  assert.equal(s.buffered, 0);
});
