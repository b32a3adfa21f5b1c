/**
 * Jute, ZooKeeper's serialization: big-endian int32/int64, one-byte booleans, and
 * int32-length-prefixed byte buffers, UTF-8 strings and vectors, where length -1 means null.
 *
 * The reader is the first thing untrusted bytes meet, so every read is bounds-checked and
 * every length read off the wire is validated before anything is allocated or sliced:
 * malformed input always surfaces as a ProtocolError, never as a RangeError from Buffer.
 */
import { DEFAULT_MAX_FRAME } from './constants.js';

export type ProtocolErrorReason =
  | 'truncated' // a fixed-size field runs past the end of the input
  | 'negative-length' // a length or count below -1
  | 'length-exceeds-remaining' // a length or count claims more bytes than are left
  | 'length-exceeds-max' // a length beyond the configured maximum
  | 'unexpected-null' // -1 where the protocol has no use for null
  | 'trailing-bytes' // bytes left over after a complete record
  | 'invalid-multi-op' // a multi/multiRead sub-op of a type that cannot appear there
  | 'frame-too-large' // a frame length prefix beyond maxFrame
  | 'negative-frame-length'; // a frame length prefix below zero

/** Thrown for any malformed input. `reason` is stable for programs; `message` is for people. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly reason: ProtocolErrorReason;
  /**
   * Set by decodeRequest when the request header was read but the body was not: a server
   * can then answer that xid with MARSHALLINGERROR, as ZooKeeper does, instead of closing.
   */
  header?: { xid: number; type: number };

  constructor(reason: ProtocolErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface JuteReaderOptions {
  /** Largest buffer/string length accepted; defaults to DEFAULT_MAX_FRAME (jute.maxbuffer). */
  maxLength?: number;
}

export class JuteReader {
  private pos = 0;
  private readonly maxLength: number;

  constructor(
    private readonly buf: Buffer,
    options: JuteReaderOptions = {},
  ) {
    this.maxLength = options.maxLength ?? DEFAULT_MAX_FRAME;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.remaining < n) {
      throw new ProtocolError('truncated', `${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
  }

  int(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  long(): bigint {
    this.need(8, 'long');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Any non-zero byte is true, as both Java's readBoolean and the C client treat it. */
  bool(): boolean {
    this.need(1, 'boolean');
    return this.buf[this.pos++] !== 0;
  }

  /** Reads a length prefix; -1 (null) comes back as -1, anything else is validated. */
  private length(what: string, checkMax: boolean): number {
    const at = this.pos;
    const len = this.int();
    if (len === -1) return -1;
    if (len < 0) throw new ProtocolError('negative-length', `${what} length ${len} at offset ${at}`);
    if (checkMax && len > this.maxLength) {
      throw new ProtocolError('length-exceeds-max', `${what} length ${len} at offset ${at} exceeds ${this.maxLength}`);
    }
    if (len > this.remaining) {
      throw new ProtocolError(
        'length-exceeds-remaining',
        `${what} length ${len} at offset ${at} but only ${this.remaining} bytes left`,
      );
    }
    return len;
  }

  /** A copy, so a decoded record never pins (or aliases) the frame it came from. */
  buffer(): Buffer | null {
    const len = this.length('buffer', true);
    if (len === -1) return null;
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return out;
  }

  /** A buffer where the protocol never sends null (e.g. a session password). */
  bytes(): Buffer {
    const at = this.pos;
    const b = this.buffer();
    if (b === null) throw new ProtocolError('unexpected-null', `null buffer at offset ${at}`);
    return b;
  }

  ustring(): string | null {
    const len = this.length('string', true);
    if (len === -1) return null;
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A string where the protocol never sends null (e.g. a path); null is a ProtocolError. */
  string(): string {
    const at = this.pos;
    const s = this.ustring();
    if (s === null) throw new ProtocolError('unexpected-null', `null string at offset ${at}`);
    return s;
  }

  /**
   * A vector. Java writes a null list as count -1 and reads it back as null; every vector in
   * the client protocol means "no items" then, so -1 decodes as []. Each element takes at
   * least one byte, so a count above `remaining` is rejected before looping.
   */
  vector<T>(read: (r: JuteReader) => T): T[] {
    const len = this.length('vector', false);
    const out: T[] = [];
    for (let i = 0; i < len; i++) out.push(read(this));
    return out;
  }

  /** Everything not yet read (a copy), for bodies that are not jute records. */
  rest(): Buffer {
    const out = Buffer.from(this.buf.subarray(this.pos));
    this.pos = this.buf.length;
    return out;
  }

  /** Asserts the input was consumed exactly. */
  end(what = 'record'): void {
    if (this.remaining !== 0) {
      throw new ProtocolError('trailing-bytes', `${this.remaining} trailing bytes after ${what} at offset ${this.pos}`);
    }
  }
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * Growable output buffer. Out-of-range values are programming errors, not protocol errors,
 * so they throw RangeError/TypeError rather than being silently truncated on the wire.
 */
export class JuteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`not an int32: ${v}`);
    this.reserve(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  long(v: bigint | number): this {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
    const big = BigInt(v);
    if (big < INT64_MIN || big > INT64_MAX) throw new RangeError(`not an int64: ${big}`);
    this.reserve(8);
    this.buf.writeBigInt64BE(big, this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    this.reserve(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  buffer(v: Buffer | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    return this.raw(v);
  }

  ustring(v: string | null): this {
    if (v === null) return this.int(-1);
    const len = Buffer.byteLength(v, 'utf8');
    this.int(len);
    this.reserve(len);
    this.buf.write(v, this.pos, len, 'utf8');
    this.pos += len;
    return this;
  }

  vector<T>(items: readonly T[], write: (w: JuteWriter, item: T) => void): this {
    this.int(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  /** Bytes copied verbatim, without a length prefix. */
  raw(v: Buffer): this {
    this.reserve(v.length);
    v.copy(this.buf, this.pos);
    this.pos += v.length;
    return this;
  }

  /** A view of the bytes written so far; later writes never change it. */
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Builds one length-prefixed frame: reserves the 4-byte prefix and fills it in afterwards. */
export function frame(fill: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  w.int(0);
  fill(w);
  const out = w.toBuffer();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}
