import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frame, JuteReader, JuteWriter, ProtocolError, type ProtocolErrorReason } from '../../src/protocol/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Asserts a ProtocolError with the given reason, and in particular never a RangeError. */
function rejects(fn: () => unknown, reason: ProtocolErrorReason): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    return true;
  });
}

test('primitives are written big-endian, byte for byte', () => {
  const w = new JuteWriter(1);
  w.int(1).int(-1).long(0x0102030405060708n).long(-2).bool(true).bool(false);
  w.buffer(null).buffer(Buffer.from([0xaa])).ustring(null).ustring('é');
  w.vector(['a', 'b'], (x, s) => x.ustring(s));
  assert.deepEqual(
    w.toBuffer(),
    hex(`00000001 ffffffff 0102030405060708 fffffffffffffffe 01 00
         ffffffff 00000001aa ffffffff 00000002c3a9
         00000002 0000000161 0000000162`),
  );
});

test('primitives round-trip at their extremes', () => {
  const ints = [0, 1, -1, 0x7fffffff, -0x80000000];
  const longs = [0n, -1n, (1n << 63n) - 1n, -(1n << 63n), 0x1234_5678_9abc_def0n];
  const w = new JuteWriter();
  for (const i of ints) w.int(i);
  for (const l of longs) w.long(l);
  w.long(Number.MAX_SAFE_INTEGER).long(-42);
  w.bool(true).bool(false);
  const bufs = [null, Buffer.alloc(0), Buffer.from('data'), Buffer.alloc(300, 7)];
  for (const b of bufs) w.buffer(b);
  const strs = [null, '', '/', '/zoo/ключ/🦓', 'x'.repeat(1000)];
  for (const s of strs) w.ustring(s);
  w.vector([[1, 2], [], [3]], (x, v) => x.vector(v, (y, n) => y.int(n)));

  const r = new JuteReader(w.toBuffer());
  assert.equal(r.offset, 0);
  for (const i of ints) assert.equal(r.int(), i);
  for (const l of longs) assert.equal(r.long(), l);
  assert.equal(r.long(), BigInt(Number.MAX_SAFE_INTEGER));
  assert.equal(r.long(), -42n);
  assert.equal(r.bool(), true);
  assert.equal(r.bool(), false);
  for (const b of bufs) assert.deepEqual(r.buffer(), b);
  for (const s of strs) assert.equal(r.ustring(), s);
  assert.deepEqual(r.vector((x) => x.vector((y) => y.int())), [[1, 2], [], [3]]);
  assert.equal(r.remaining, 0);
  r.end();
});

test('any non-zero byte reads as true, as in Java and the C client', () => {
  const r = new JuteReader(Buffer.from([2, 0xff, 0]));
  assert.deepEqual([r.bool(), r.bool(), r.bool()], [true, true, false]);
});

test('a vector count of -1 (a Java null list) reads as empty', () => {
  assert.deepEqual(new JuteReader(hex('ffffffff')).vector((x) => x.int()), []);
});

test('decoded buffers are copies, not views of the frame', () => {
  const input = hex('00000002 abcd');
  const got = new JuteReader(input).buffer()!;
  input[4] = 0;
  assert.deepEqual(got, hex('abcd'));
});

test('fixed-size reads past the end are ProtocolError(truncated)', () => {
  rejects(() => new JuteReader(hex('000000')).int(), 'truncated');
  rejects(() => new JuteReader(hex('00000000000000')).long(), 'truncated');
  rejects(() => new JuteReader(Buffer.alloc(0)).bool(), 'truncated');
  rejects(() => new JuteReader(hex('0000')).buffer(), 'truncated');
  const r = new JuteReader(hex('00000001'));
  r.int();
  rejects(() => r.int(), 'truncated');
});

test('lengths are validated before anything is sliced or allocated', () => {
  // Negative other than -1.
  rejects(() => new JuteReader(hex('fffffffe')).buffer(), 'negative-length');
  rejects(() => new JuteReader(hex('80000000')).ustring(), 'negative-length');
  rejects(() => new JuteReader(hex('fffffff0')).vector((x) => x.int()), 'negative-length');
  // Claims more than remains.
  rejects(() => new JuteReader(hex('00000005 616263')).ustring(), 'length-exceeds-remaining');
  rejects(() => new JuteReader(hex('00000004 616263')).buffer(), 'length-exceeds-remaining');
  rejects(() => new JuteReader(hex('7fffffff 00000000')).vector((x) => x.int()), 'length-exceeds-remaining');
  // Beyond the configured maximum (checked even if the bytes were there).
  rejects(() => new JuteReader(hex('7fffffff')).buffer(), 'length-exceeds-max');
  rejects(() => new JuteReader(hex('00000003 616263'), { maxLength: 2 }).ustring(), 'length-exceeds-max');
  assert.equal(new JuteReader(hex('00000002 6162'), { maxLength: 2 }).ustring(), 'ab');
  // A vector whose elements run out part way.
  rejects(() => new JuteReader(hex('00000003 00000001 00000002')).vector((x) => x.int()), 'truncated');
});

test('string() and bytes() refuse null where the protocol has no null', () => {
  rejects(() => new JuteReader(hex('ffffffff')).string(), 'unexpected-null');
  rejects(() => new JuteReader(hex('ffffffff')).bytes(), 'unexpected-null');
  assert.equal(new JuteReader(hex('00000000')).string(), '');
});

test('end() rejects trailing bytes; rest() takes them', () => {
  const r = new JuteReader(hex('00000001 0203'));
  r.int();
  rejects(() => r.end(), 'trailing-bytes');
  assert.equal(r.offset, 4);
  assert.deepEqual(r.rest(), hex('0203'));
  r.end();
});

test('the writer refuses values that do not fit, instead of truncating them', () => {
  const w = new JuteWriter();
  assert.throws(() => w.int(0x80000000), RangeError);
  assert.throws(() => w.int(1.5), RangeError);
  assert.throws(() => w.long(1n << 63n), RangeError);
  assert.throws(() => w.long(2 ** 60), RangeError);
  assert.throws(() => w.long(0.5), RangeError);
  assert.equal(w.length, 0);
});

test('the writer grows, and earlier views stay intact', () => {
  const w = new JuteWriter(16);
  w.int(7);
  const early = w.toBuffer();
  const big = Buffer.alloc(100_000, 0x5a);
  w.buffer(big);
  assert.deepEqual(early, hex('00000007'));
  const r = new JuteReader(w.toBuffer(), { maxLength: 200_000 });
  assert.equal(r.int(), 7);
  assert.deepEqual(r.buffer(), big);
});

test('frame() prefixes the payload length', () => {
  assert.deepEqual(frame((w) => w.int(1).bool(true)), hex('00000005 00000001 01'));
  assert.deepEqual(frame(() => undefined), hex('00000000'));
});

test('ProtocolError carries a stable reason and is an Error', () => {
  const e = new ProtocolError('truncated', 'x');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'ProtocolError');
  assert.equal(e.reason, 'truncated');
  assert.equal(e.header, undefined);
});
