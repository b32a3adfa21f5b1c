/**
 * Byte strings (znode data, paths) packed into 1 MiB slabs, so a million znodes cost a few
 * hundred slabs instead of a million Buffer objects: the garbage collector has almost nothing
 * to trace, and a value costs its bytes plus at most its size class's rounding.
 *
 * A string is named by a handle (a number): slab * 2^20 + offset for slab space, or a negative
 * number for a string larger than BIG_BYTES, which gets a Buffer of its own (slabs would waste
 * too much on those). Its length is kept by the caller, which passes it back on every call; a
 * length of 0 (or -1, ZooKeeper's null) has no storage and any handle.
 *
 * Freed space goes to a free list per size class and is reused by the next string of that
 * class. Classes step by 8 bytes up to 128, then by quarters of a power of two, so rounding
 * wastes at most a quarter (about an eighth on average).
 */

import type { BlockSource } from './prefault.js';

const SLAB_BITS = 20;
export const SLAB_BYTES = 1 << SLAB_BITS;
/** Strings longer than this get a Buffer of their own. */
export const BIG_BYTES = 16 * 1024;

/** Size class of a length in 1..BIG_BYTES, and the bytes that class reserves. */
export function sizeClass(len: number): { cls: number; bytes: number } {
  if (len <= 128) {
    const cls = ((len + 7) >> 3) - 1;
    return { cls, bytes: (cls + 1) << 3 };
  }
  const p = 31 - Math.clz32(len - 1); // 2^p < len <= 2^(p+1)
  const step = 1 << (p - 2);
  const k = Math.ceil((len - (1 << p)) / step); // 1..4
  return { cls: 16 + (p - 7) * 4 + (k - 1), bytes: (1 << p) + k * step };
}

/**
 * dst[dstStart..] = src[srcStart, srcStart + len). Buffer.copy costs a view allocation and a
 * native call per copy, which dominates for the short strings a tree holds; a loop is faster
 * up to a few dozen bytes.
 */
export function copyBytes(src: Uint8Array, srcStart: number, dst: Uint8Array, dstStart: number, len: number): void {
  if (len <= 48) {
    for (let k = 0; k < len; k++) dst[dstStart + k] = src[srcStart + k] as number;
  } else dst.set(new Uint8Array(src.buffer, src.byteOffset + srcStart, len), dstStart);
}

export class ByteHeap {
  private readonly slabs: Buffer[] = [];
  /** Bump offset in the newest slab. */
  private top = SLAB_BYTES;
  private readonly free: number[][] = [];
  private readonly big = new Map<number, Buffer>();
  private nextBig = -1;
  /** Bytes reserved for live strings (slab classes rounded up, big strings exact). */
  reservedBytes = 0;
  /** Where new slabs come from while set (a snapshot load: memory already faulted in). */
  blocks: BlockSource | undefined;

  /** Slab bytes allocated, used or free, plus big strings: what this heap holds in memory. */
  get footprintBytes(): number {
    let big = 0;
    for (const b of this.big.values()) big += b.length;
    return this.slabs.length * SLAB_BYTES + big;
  }

  /** Copies src[start, end) in and returns its handle (any number when empty). */
  alloc(src: Uint8Array, start = 0, end = src.length): number {
    const len = end - start;
    if (len <= 0) return 0;
    if (len > BIG_BYTES) {
      const b = Buffer.allocUnsafeSlow(len);
      copyBytes(src, start, b, 0, len);
      const h = this.nextBig--;
      this.big.set(h, b);
      this.reservedBytes += len;
      return h;
    }
    const { cls, bytes } = sizeClass(len);
    const list = this.free[cls];
    let h: number;
    if (list !== undefined && list.length > 0) h = list.pop() as number;
    else {
      if (this.top + bytes > SLAB_BYTES) {
        const block = this.blocks?.take(SLAB_BYTES);
        this.slabs.push(block ? Buffer.from(block) : Buffer.allocUnsafeSlow(SLAB_BYTES));
        this.top = 0;
      }
      h = (this.slabs.length - 1) * SLAB_BYTES + this.top;
      this.top += bytes;
    }
    copyBytes(src, start, this.slabs[Math.floor(h / SLAB_BYTES)] as Buffer, h % SLAB_BYTES, len);
    this.reservedBytes += bytes;
    return h;
  }

  /** Returns a string's space; `len` must be what it was allocated with. */
  release(h: number, len: number): void {
    if (len <= 0) return;
    if (h < 0) {
      this.big.delete(h);
      this.reservedBytes -= len;
      return;
    }
    const { cls, bytes } = sizeClass(len);
    (this.free[cls] ??= []).push(h);
    this.reservedBytes -= bytes;
  }

  /** The slab (or big buffer) holding a string. */
  bufOf(h: number): Buffer {
    return h < 0 ? (this.big.get(h) as Buffer) : (this.slabs[Math.floor(h / SLAB_BYTES)] as Buffer);
  }

  /** The string's offset in bufOf(h). */
  offOf(h: number): number {
    return h < 0 ? 0 : h % SLAB_BYTES;
  }

  /**
   * A string's bytes as a Buffer the caller owns: a copy for slab strings (their space is
   * reused once freed), the buffer itself for a big string (never written after alloc).
   */
  read(h: number, len: number): Buffer {
    if (len <= 0) return Buffer.alloc(0);
    if (h < 0) return this.big.get(h) as Buffer;
    const out = Buffer.allocUnsafe(len);
    copyBytes(this.bufOf(h), this.offOf(h), out, 0, len);
    return out;
  }

  /** Copies a string into `dst` at `at`. */
  copyTo(h: number, len: number, dst: Uint8Array, at: number): void {
    if (len <= 0) return;
    copyBytes(this.bufOf(h), this.offOf(h), dst, at, len);
  }

  /** Decodes bytes [from, len) of a string as UTF-8. */
  toString(h: number, len: number, from = 0): string {
    if (len <= from) return '';
    const off = this.offOf(h);
    return this.bufOf(h).toString('utf8', off + from, off + len);
  }

  /** The byte at `i` of a string. */
  byteAt(h: number, i: number): number {
    return this.bufOf(h)[this.offOf(h) + i] as number;
  }
}
