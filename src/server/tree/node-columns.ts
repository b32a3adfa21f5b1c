/**
 * Per-znode fields as columns of typed arrays, in pages of 16,384 nodes. A node is an int id;
 * its fields are page.field[id & PAGE_MASK] of pages[id >>> PAGE_BITS]. There is no object
 * per znode: a million znodes are ~60 pages of flat arrays, and adding one never copies the
 * others (a page is added instead of growing one array, which would stall at a million).
 */

import os from 'node:os';

export const PAGE_BITS = 14;
export const PAGE_SIZE = 1 << PAGE_BITS;
export const PAGE_MASK = PAGE_SIZE - 1;

if (os.endianness() !== 'LE') throw new Error('zk-elect server: the tree layout assumes a little-endian host');

/** Index of each long column in Page.longs. */
export const LONG_COLUMN = { czxid: 0, mzxid: 1, ctime: 2, mtime: 3, pzxid: 4, owner: 5 } as const;

/** Bytes per node across all columns. */
const NODE_BYTES = 6 * 8 + 2 * 8 + 15 * 4 + 2;

export class Page {
  /** The buffer the next Page is carved from (see Page.of): fields initialise before a constructor's parameters could be used. */
  private static supplied: ArrayBufferLike | undefined;

  /** A page over `buf` (Page.bytes long), e.g. memory already faulted in; a fresh buffer without. */
  static of(buf: ArrayBufferLike | undefined): Page {
    if (buf === undefined) return new Page();
    if (buf.byteLength !== Page.bytes) throw new RangeError(`a page needs ${Page.bytes} bytes, got ${buf.byteLength}`);
    Page.supplied = buf;
    try {
      return new Page();
    } finally {
      Page.supplied = undefined;
    }
  }

  /** All columns live in one buffer: one allocation per page, not one per column. */
  private static carve(): { buf: ArrayBufferLike; take<T>(ctor: new (b: ArrayBufferLike, o: number, n: number) => T, width: number): T } {
    const buf = Page.supplied ?? new ArrayBuffer(PAGE_SIZE * NODE_BYTES);
    let at = 0;
    return {
      buf,
      take(ctor, width) {
        const a = new ctor(buf, at, PAGE_SIZE);
        at += PAGE_SIZE * width;
        return a;
      },
    };
  }
  private readonly c = Page.carve();
  // StatPersisted (longs as BigInt64: a zxid or session id needs all 64 bits). 8-byte columns
  // first, so each stays aligned.
  readonly czxid = this.c.take(BigInt64Array, 8);
  readonly mzxid = this.c.take(BigInt64Array, 8);
  readonly ctime = this.c.take(BigInt64Array, 8);
  readonly mtime = this.c.take(BigInt64Array, 8);
  readonly pzxid = this.c.take(BigInt64Array, 8);
  readonly owner = this.c.take(BigInt64Array, 8);
  /**
   * The six long columns above as 32-bit words: word (LONG_COLUMN * PAGE_SIZE + i) * 2 is the
   * low half (the host is little-endian, checked below), + 1 the high half. Copying longs to
   * and from snapshots through these allocates no BigInt.
   */
  readonly longs = new Uint32Array(this.c.buf, 0, PAGE_SIZE * 6 * 2);
  // Byte strings in the ByteHeaps: handle and length (data length -1 is ZooKeeper's null).
  readonly pathH = this.c.take(Float64Array, 8);
  readonly dataH = this.c.take(Float64Array, 8);
  readonly version = this.c.take(Int32Array, 4);
  readonly cversion = this.c.take(Int32Array, 4);
  readonly aversion = this.c.take(Int32Array, 4);
  // Tree links: children form a list in insertion order (the HashSet model needs it).
  readonly parent = this.c.take(Int32Array, 4);
  readonly first = this.c.take(Int32Array, 4);
  readonly last = this.c.take(Int32Array, 4);
  readonly next = this.c.take(Int32Array, 4);
  readonly prev = this.c.take(Int32Array, 4);
  readonly kids = this.c.take(Int32Array, 4);
  /** java.lang.String.hashCode of the node's name (its last path segment). */
  readonly nameHash = this.c.take(Int32Array, 4);
  /** pathHash(path), the PathIndex key hash. */
  readonly pathHash = this.c.take(Int32Array, 4);
  readonly acl = this.c.take(Int32Array, 4);
  readonly pathLen = this.c.take(Int32Array, 4);
  /** The path's length in UTF-16 units (approximateDataSize counts String.length()). */
  readonly pathChars = this.c.take(Int32Array, 4);
  readonly dataLen = this.c.take(Int32Array, 4);
  /** log2 of the children HashSet's table length; 0 while the node never had a child. */
  readonly capLog2 = this.c.take(Uint8Array, 1);
  /** 1 while the node exists. */
  readonly live = this.c.take(Uint8Array, 1);

  static readonly bytes = PAGE_SIZE * NODE_BYTES;
}
