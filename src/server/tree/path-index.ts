/**
 * Path → node id, as open-addressing hash tables of plain int32s: no per-entry objects, so a
 * million paths cost 8–16 MB and nothing for the garbage collector to trace.
 *
 * The table is split into 256 shards by the hash's top byte, and each shard grows on its own.
 * A single table would have to rehash all million entries at once when it doubles — tens of
 * milliseconds with every request waiting — while a shard's growth moves a few thousand.
 *
 * Keys are not stored here: the owner answers `matches(id, key)`. Deletion uses backward
 * shifting, so there are no tombstones and probe runs stay short.
 */

const SHARD_BITS = 8;
const SHARDS = 1 << SHARD_BITS;
const MIN_SLOTS = 16;

/** FNV-1a over UTF-16 code units, finished with murmur3's fmix32: paths differ in their tails. */
export function pathHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** The same hash over bytes that are ASCII (for which bytes and code units coincide). */
export function pathHashOfAscii(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return fmix32(h);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export interface PathIndexOwner<K> {
  matches(id: number, key: K): boolean;
}

/**
 * Slots are pairs of int32s: id + 1 (0: empty) and the key's hash, so probing, growing and
 * deleting never ask the owner for a hash, and `matches` runs only on equal hashes.
 */
export class PathIndex<K> {
  private readonly shards: Int32Array[] = Array.from({ length: SHARDS }, () => new Int32Array(2 * MIN_SLOTS));
  private readonly counts = new Int32Array(SHARDS);
  size = 0;

  constructor(private readonly owner: PathIndexOwner<K>) {}

  /** The id stored under `key` (whose hash is `hash`), or -1. */
  find(hash: number, key: K): number {
    const table = this.shards[hash >>> (32 - SHARD_BITS)] as Int32Array;
    const mask = (table.length >> 1) - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const v = table[2 * i] as number;
      if (v === 0) return -1;
      if (table[2 * i + 1] === hash && this.owner.matches(v - 1, key)) return v - 1;
    }
  }

  /** Adds id under `hash`; the caller has checked the key is absent. */
  insert(hash: number, id: number): void {
    const s = hash >>> (32 - SHARD_BITS);
    let table = this.shards[s] as Int32Array;
    if ((this.counts[s] as number) + 1 > table.length >> 2) table = this.grow(s);
    place(table, hash, id + 1);
    this.counts[s]!++;
    this.size++;
  }

  /**
   * Sizes every shard for `n` entries in all (hashes spread evenly over the shards), so adding
   * them grows nothing: a loader knows the count up front and saves the rehashing.
   */
  reserve(n: number): void {
    let slots = MIN_SLOTS;
    while (slots < (2 * n) / SHARDS + 2 * 64) slots *= 2;
    for (let s = 0; s < SHARDS; s++) {
      const table = this.shards[s] as Int32Array;
      if (table.length >= 2 * slots) continue;
      const grown = new Int32Array(2 * slots);
      for (let k = 0; k < table.length; k += 2) if (table[k] !== 0) place(grown, table[k + 1] as number, table[k] as number);
      this.shards[s] = grown;
    }
  }

  /** Removes id, stored under `hash`. */
  remove(hash: number, id: number): void {
    const s = hash >>> (32 - SHARD_BITS);
    const table = this.shards[s] as Int32Array;
    const mask = (table.length >> 1) - 1;
    let i = hash & mask;
    while (table[2 * i] !== id + 1) {
      if (table[2 * i] === 0) return;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: pull later entries of the run into the hole when their home
    // slot is at or before it (cyclically), so every entry stays reachable from its home.
    for (let j = (i + 1) & mask; table[2 * j] !== 0; j = (j + 1) & mask) {
      const home = (table[2 * j + 1] as number) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        table[2 * i] = table[2 * j] as number;
        table[2 * i + 1] = table[2 * j + 1] as number;
        i = j;
      }
    }
    table[2 * i] = 0;
    this.counts[s]!--;
    this.size--;
  }

  /** Memory held by the tables. */
  get bytes(): number {
    let n = 0;
    for (const t of this.shards) n += t.byteLength;
    return n;
  }

  private grow(s: number): Int32Array {
    const old = this.shards[s] as Int32Array;
    const table = new Int32Array(old.length * 2);

    for (let k = 0; k < old.length; k += 2) if (old[k] !== 0) place(table, old[k + 1] as number, old[k] as number);
    this.shards[s] = table;
    return table;
  }
}

function place(table: Int32Array, hash: number, v: number): void {
  const mask = (table.length >> 1) - 1;
  let i = hash & mask;
  while (table[2 * i] !== 0) i = (i + 1) & mask;
  table[2 * i] = v;
  table[2 * i + 1] = hash;
}
