/**
 * A faithful model of java.util.HashSet<String> iteration order (JDK 11/17 HashMap).
 *
 * ZooKeeper returns getChildren() in DataNode's HashSet<String> iteration order, lists a
 * session's ephemerals (getEphemerals, closeSession's paths2Delete) in HashSet order, and the
 * container reaper walks a HashSet of candidates. To answer byte-for-byte like ZooKeeper we
 * reproduce HashMap's layout: String.hashCode over UTF-16 units, hash spreading (h ^ h>>>16),
 * power-of-two tables with load factor 0.75, bins as insertion-ordered lists, resize splitting
 * each bin into lo/hi lists preserving order, and treeifyBin's "resize instead of treeify while
 * the table is smaller than 64".
 *
 * Not modelled: real treeification (a single bin holding >= 9 entries in a table of >= 64),
 * whose TreeNode ordering differs. That needs 9 colliding hashes in one bucket; with ordinary
 * znode names it does not happen in practice.
 */

const MAXIMUM_CAPACITY = 1 << 30;
const TREEIFY_THRESHOLD = 8;
const MIN_TREEIFY_CAPACITY = 64;

/** java.lang.String.hashCode(). */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** HashMap.hash: the bucket of a key is spread(hashCode) & (capacity - 1). */
export function spread(h: number): number {
  return (h ^ (h >>> 16)) | 0;
}

/**
 * The same model for a set kept as an insertion-ordered list (DataTree's children): the
 * iteration order is by bucket, and within a bucket by insertion, because bins append and a
 * resize splits each bin keeping relative order. The table length only grows, so the whole
 * history that matters is log2 of it, which `grownCapLog2` advances per insertion.
 */

/**
 * log2 of the table length after adding one key to a set of `sizeBefore` keys whose table
 * was 2^capLog2 long (0: no table yet, which `new HashSet<>(8)` makes 8 long), given how many
 * keys already sat in the new key's bucket. Mirrors JavaHashSet.add.
 */
export function grownCapLog2(capLog2: number, sizeBefore: number, binBefore: number): number {
  let c = capLog2 === 0 ? 3 : capLog2;
  if (binBefore >= TREEIFY_THRESHOLD && 1 << c < MIN_TREEIFY_CAPACITY) c++;
  if (sizeBefore + 1 > (3 << c) >> 2) c++;
  return c;
}

/** HashMap.tableSizeFor. */
function tableSizeFor(cap: number): number {
  let n = 1;
  while (n < cap) n *= 2;
  return Math.min(Math.max(n, 1), MAXIMUM_CAPACITY);
}

interface Entry {
  readonly hash: number;
  readonly key: string;
}

export class JavaHashSet implements Iterable<string> {
  private table: Entry[][] | null = null;
  private threshold: number;
  private count = 0;

  /** `new HashSet<>()` (no argument) or `new HashSet<>(initialCapacity)`. */
  constructor(initialCapacity?: number) {
    this.threshold = initialCapacity === undefined ? 0 : tableSizeFor(initialCapacity);
  }

  /** `new HashSet<>(collection)` as JDK 11/17 define it. */
  static copyOf(source: Iterable<string> & { readonly size: number }): JavaHashSet {
    const set = new JavaHashSet(Math.max(Math.trunc(source.size / 0.75) + 1, 16));
    for (const k of source) set.add(k);
    return set;
  }

  /** `((HashSet) set).clone()`: HashMap.clone re-puts the entries into a pre-sized empty map. */
  clone(): JavaHashSet {
    const set = new JavaHashSet();
    if (this.count > 0) {
      const ft = Math.fround(Math.fround(this.count / 0.75) + 1);
      const t = ft < MAXIMUM_CAPACITY ? Math.trunc(ft) : MAXIMUM_CAPACITY;
      if (t > set.threshold) set.threshold = tableSizeFor(t);
      for (const k of this) set.add(k);
    }
    return set;
  }

  get size(): number {
    return this.count;
  }

  /** Current table length (0 before the first insertion); exposed for tests. */
  get capacity(): number {
    return this.table?.length ?? 0;
  }

  has(key: string): boolean {
    if (this.table === null) return false;
    const hash = spread(javaStringHash(key));
    const bin = this.table[hash & (this.table.length - 1)];
    return bin !== undefined && bin.some((e) => e.hash === hash && e.key === key);
  }

  add(key: string): boolean {
    if (this.table === null) this.resize();
    let table = this.table as Entry[][];
    const hash = spread(javaStringHash(key));
    const bin = table[hash & (table.length - 1)] as Entry[];
    if (bin.some((e) => e.hash === hash && e.key === key)) return false;
    const before = bin.length;
    bin.push({ hash, key });
    // putVal: binCount >= TREEIFY_THRESHOLD - 1 → treeifyBin, which resizes small tables.
    if (before >= TREEIFY_THRESHOLD && table.length < MIN_TREEIFY_CAPACITY) {
      this.resize();
      table = this.table as Entry[][];
    }
    if (++this.count > this.threshold) this.resize();
    return true;
  }

  delete(key: string): boolean {
    if (this.table === null) return false;
    const hash = spread(javaStringHash(key));
    const bin = this.table[hash & (this.table.length - 1)] as Entry[];
    const i = bin.findIndex((e) => e.hash === hash && e.key === key);
    if (i < 0) return false;
    bin.splice(i, 1);
    this.count--;
    return true;
  }

  *[Symbol.iterator](): IterableIterator<string> {
    if (this.table === null) return;
    for (const bin of this.table) for (const e of bin) yield e.key;
  }

  toArray(): string[] {
    return [...this];
  }

  private resize(): void {
    const old = this.table;
    const oldCap = old?.length ?? 0;
    let newCap: number;
    let newThr: number;
    if (oldCap > 0) {
      newCap = Math.min(oldCap * 2, MAXIMUM_CAPACITY);
      newThr = oldCap >= 16 ? this.threshold * 2 : Math.trunc(newCap * 0.75);
    } else if (this.threshold > 0) {
      newCap = this.threshold;
      newThr = Math.trunc(newCap * 0.75);
    } else {
      newCap = 16;
      newThr = 12;
    }
    const table: Entry[][] = Array.from({ length: newCap }, () => []);
    if (old) {
      for (let j = 0; j < oldCap; j++) {
        for (const e of old[j] as Entry[]) {
          (table[(e.hash & oldCap) === 0 ? j : j + oldCap] as Entry[]).push(e);
        }
      }
    }
    this.table = table;
    this.threshold = newThr;
  }
}
