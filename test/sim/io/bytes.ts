/** A growable byte array: file contents in the simulated file system. */
export class Bytes {
  // Invariant: every byte of `buf` at or beyond `size` is zero, so growing never exposes stale data.
  private buf: Buffer;
  private len: number;

  constructor(init?: Buffer) {
    this.buf = Buffer.alloc(Math.max(64, init?.length ?? 0));
    this.len = 0;
    if (init) this.write(0, init);
  }

  get size(): number {
    return this.len;
  }

  clone(): Bytes {
    return new Bytes(this.buf.subarray(0, this.len));
  }

  write(pos: number, src: Buffer): void {
    const end = pos + src.length;
    this.reserve(end);
    src.copy(this.buf, pos);
    if (end > this.len) this.len = end;
  }

  /** Shrinks, or grows with zeros (a sparse extension). */
  truncate(size: number): void {
    if (size < this.len) this.buf.fill(0, size, this.len);
    else this.reserve(size);
    this.len = size;
  }

  /** A copy of [pos, pos+length), cut at the end of the data. */
  read(pos: number, length: number): Buffer {
    if (pos >= this.len) return Buffer.alloc(0);
    return Buffer.from(this.buf.subarray(pos, Math.min(this.len, pos + length)));
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  flipBit(offset: number, bit: number): void {
    if (offset >= this.len) return;
    this.buf[offset] = (this.buf[offset] ?? 0) ^ (1 << bit);
  }

  private reserve(size: number): void {
    if (size <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(size, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}
