/** Quorum message codec: round trips of every type; malformed input gives ZabCodecError only. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CODEC_VERSION, decodeMessage, encodeMessage, makeZxid, MAX_MESSAGE_BYTES, MAX_PAYLOAD_BYTES, MAX_SNAP_CHUNK_BYTES, ZabCodecError, type ZabMessage } from '../../src/server/zab/index.js';
import { Prng } from '../sim/prng.js';

const z = makeZxid(0x1fffff, 0xfffffffe);
const SAMPLES: ZabMessage[] = [
  { type: 'notification', state: 'looking', leader: 3, zxid: z, peerEpoch: 7, round: 0xffffffff },
  { type: 'notification', state: 'leading', leader: 0, zxid: 0, peerEpoch: 0, round: 1 },
  { type: 'followerinfo', attempt: 9, acceptedEpoch: 4, lastZxid: makeZxid(3, 2) },
  { type: 'leaderinfo', attempt: 9, epoch: 5, session: 77 },
  { type: 'ackepoch', epoch: 5, session: 77, currentEpoch: 3, lastZxid: makeZxid(3, 2), acceptedNow: true },
  { type: 'ackepoch', epoch: 5, session: 77, currentEpoch: 3, lastZxid: 0, acceptedNow: false },
  { type: 'diff', epoch: 5, session: 1 },
  { type: 'trunc', epoch: 5, session: 1, zxid: makeZxid(2, 9) },
  { type: 'snapchunk', epoch: 5, session: 1, zxid: makeZxid(2, 9), seq: 0, last: false, bytes: Buffer.from('snapshot-bytes') },
  { type: 'snapchunk', epoch: 5, session: 1, zxid: makeZxid(2, 9), seq: 0xffffffff, last: true, bytes: Buffer.alloc(0) },
  { type: 'snapack', epoch: 5, session: 1, seq: 12 },
  { type: 'proposal', epoch: 5, session: 1, prevZxid: makeZxid(4, 1), zxid: makeZxid(5, 1), payload: Buffer.from([0, 1, 2, 255]) },
  { type: 'proposal', epoch: 5, session: 1, prevZxid: 0, zxid: makeZxid(5, 1), payload: Buffer.alloc(0) },
  { type: 'commit', epoch: 5, session: 1, zxid: makeZxid(5, 1) },
  { type: 'newleader', epoch: 5, session: 1, zxid: makeZxid(5, 0) },
  { type: 'ack', epoch: 5, session: 1, zxid: makeZxid(5, 1), newLeader: true },
  { type: 'uptodate', epoch: 5, session: 1, commitZxid: makeZxid(5, 1) },
  { type: 'ping', epoch: 5, session: 1, commitZxid: makeZxid(5, 1), lastZxid: makeZxid(5, 3), upToDate: false, tick: 17, grant: -1 },
  { type: 'ping', epoch: 5, session: 1, commitZxid: makeZxid(5, 1), lastZxid: makeZxid(5, 3), upToDate: true, tick: 18, grant: 9 },
  { type: 'pong', epoch: 5, session: 1, synced: true, zxid: makeZxid(5, 1), pingTick: 17, tick: 9 },
  { type: 'request', epoch: 5, payload: Buffer.from('req') },
  { type: 'opaque', epoch: 5, payload: Buffer.from('reply') },
  { type: 'stale', epoch: 8 },
];

describe('quorum message codec', () => {
  test('every message type round-trips', () => {
    const seen = new Set<string>();
    for (const m of SAMPLES) {
      const back = decodeMessage(encodeMessage(m));
      assert.deepEqual(back, m);
      seen.add(m.type);
    }
    assert.equal(seen.size, 18, 'all 18 types covered');
  });

  test('every truncation of every message is a ZabCodecError', () => {
    for (const m of SAMPLES) {
      const buf = encodeMessage(m);
      for (let n = 0; n < buf.length; n++) assert.throws(() => decodeMessage(buf.subarray(0, n)), ZabCodecError, `${m.type} cut at ${n}`);
    }
  });

  test('bad version, type, state, boolean, epoch, length and trailing bytes are refused', () => {
    const ack = encodeMessage({ type: 'ack', epoch: 1, session: 1, zxid: 5, newLeader: false });
    const bad = (mut: (b: Buffer) => Buffer, why: string): void => {
      assert.throws(() => decodeMessage(mut(Buffer.from(ack))), ZabCodecError, why);
    };
    bad((b) => { b[0] = CODEC_VERSION + 1; return b; }, 'version');
    bad((b) => { b[0] = CODEC_VERSION - 1; return b; }, 'an older version');
    bad((b) => { b[1] = 0; return b; }, 'type 0');
    bad((b) => { b[1] = 200; return b; }, 'type 200');
    bad((b) => { b[b.length - 1] = 2; return b; }, 'bool 2');
    bad((b) => { b.writeUInt32BE(0xffffffff, 2); return b; }, 'epoch beyond MAX_EPOCH');
    bad((b) => Buffer.concat([b, Buffer.from([0])]), 'trailing byte');
    const notif = encodeMessage({ type: 'notification', state: 'looking', leader: 1, zxid: 0, peerEpoch: 0, round: 1 });
    notif[2] = 3;
    assert.throws(() => decodeMessage(notif), ZabCodecError, 'state 3');
    const req = encodeMessage({ type: 'request', epoch: 1, payload: Buffer.from('x') });
    req.writeUInt32BE(MAX_PAYLOAD_BYTES + 1, 6);
    assert.throws(() => decodeMessage(req), /exceeds/);
    assert.throws(() => decodeMessage('nope' as unknown as Buffer), ZabCodecError);
    // A SNAP chunk is bounded on its own: no message carries a whole tree.
    const chunk = encodeMessage({ type: 'snapchunk', epoch: 1, session: 1, zxid: 5, seq: 0, last: false, bytes: Buffer.from('x') });
    chunk.writeUInt32BE(MAX_SNAP_CHUNK_BYTES + 1, 23);
    assert.throws(() => decodeMessage(chunk), /chunk: length \d+ exceeds/);
    const last = encodeMessage({ type: 'snapchunk', epoch: 1, session: 1, zxid: 5, seq: 0, last: true, bytes: Buffer.from('x') });
    last[22] = 2;
    assert.throws(() => decodeMessage(last), /last: boolean byte 2/);
  });

  test('version 3: SNAP is gone, its type code carries SNAPCHUNK; a version-2 SNAP is refused', () => {
    assert.equal(CODEC_VERSION, 3);
    const v2snap = Buffer.concat([Buffer.from([2, 7]), Buffer.alloc(16), Buffer.from([0, 0, 0, 1, 0x41])]);
    assert.throws(() => decodeMessage(v2snap), /unsupported codec version 2/);
    const chunk = encodeMessage({ type: 'snapchunk', epoch: 1, session: 1, zxid: 5, seq: 3, last: false, bytes: Buffer.alloc(MAX_SNAP_CHUNK_BYTES) });
    assert.equal(chunk[1], 7);
    assert.ok(chunk.length <= MAX_MESSAGE_BYTES);
    assert.ok(encodeMessage({ type: 'proposal', epoch: 1, session: 1, prevZxid: 0, zxid: 1, payload: Buffer.alloc(MAX_PAYLOAD_BYTES) }).length <= MAX_MESSAGE_BYTES);
  });

  test('encoding refuses out-of-range fields instead of writing garbage', () => {
    assert.throws(() => encodeMessage({ type: 'stale', epoch: -1 }), RangeError);
    assert.throws(() => encodeMessage({ type: 'request', epoch: 1, payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1) }), RangeError);
    assert.throws(() => encodeMessage({ type: 'snapchunk', epoch: 1, session: 1, zxid: 1, seq: 0, last: true, bytes: Buffer.alloc(MAX_SNAP_CHUNK_BYTES + 1) }), RangeError);
    assert.throws(() => encodeMessage({ type: 'snapack', epoch: 1, session: 1, seq: -1 }), RangeError);
  });

  test('seeded fuzz: random bytes and mutations never throw anything but ZabCodecError', () => {
    const rng = new Prng(42);
    for (let i = 0; i < 20000; i++) {
      let buf: Buffer;
      if (i % 2 === 0) {
        buf = Buffer.from(Array.from({ length: rng.int(0, 40) }, () => rng.int(0, 255)));
        if (buf.length > 1 && rng.chance(0.7)) { buf[0] = CODEC_VERSION; buf[1] = rng.int(1, 18); }
      } else {
        buf = Buffer.from(encodeMessage(rng.pick(SAMPLES)));
        for (let k = rng.int(1, 3); k > 0; k--) buf[rng.int(0, buf.length - 1)] = rng.int(0, 255);
      }
      try {
        const m = decodeMessage(buf);
        assert.deepEqual(decodeMessage(encodeMessage(m)), m, 'whatever decodes re-encodes');
      } catch (err) {
        assert.ok(err instanceof ZabCodecError, `unexpected ${String(err)}`);
      }
    }
  });
});
