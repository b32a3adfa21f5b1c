/**
 * org.apache.zookeeper.server.DataTree: the applied znode tree, its ephemeral/container/TTL
 * indexes, and the two watch managers. Mutators mirror createNode/deleteNode/setData/setACL
 * including the watches they trigger, in the same order.
 *
 * Layout (for memory and for the garbage collector, see node-columns.ts): a znode is an int id
 * with its fields in typed-array columns; paths and data are byte strings in slabs
 * (byte-heap.ts); ACL lists are interned (acl-table.ts); path → id is an int hash table
 * (path-index.ts). Children are an insertion-ordered list per parent, from which
 * java.util.HashSet's iteration order is derived on read (java-hash-set.ts explains why
 * insertion order plus the table length is all the history it needs).
 *
 * Snapshot images (tree-image.ts) see every change before it happens through `images`, and
 * nothing an image may still read — a node id, path or data bytes, an ACL id — is reused
 * until the last image is closed (`defer`).
 */
import { EventType } from '../../protocol/constants.js';
import { AclTable } from './acl-table.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl.js';
import { ByteHeap } from './byte-heap.js';
import type { BlockSource } from './prefault.js';
import { ephemeralType } from './ephemeral-type.js';
import { grownCapLog2, JavaHashSet, javaStringHash, spread } from './java-hash-set.js';
import { LONG_COLUMN, Page, PAGE_BITS, PAGE_MASK, PAGE_SIZE } from './node-columns.js';
import { PathIndex, pathHash, pathHashOfAscii } from './path-index.js';
import { childName, parentOf } from './paths.js';
import type { ACL, Stat, StatPersisted, WatchTrigger } from './types.js';
import { WatchManager } from './watches.js';

/** A znode's fields as of the call (a copy: later changes do not show in it). */
export interface NodeRecord {
  readonly data: Buffer | null;
  readonly acl: readonly ACL[];
  readonly stat: StatPersisted;
  readonly numChildren: number;
}

export function emptyStat(): StatPersisted {
  return { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0n };
}

/** DataTree.createStat. */
export function createStat(zxid: bigint, time: bigint, ephemeralOwner: bigint): StatPersisted {
  return { czxid: zxid, mzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, ephemeralOwner, pzxid: zxid };
}

/** One node as SnapshotLoader parsed it: offsets into its buffer, and the fields. */
export interface LoadedRecord {
  pathStart: number;
  pathLen: number;
  dataStart: number;
  /** -1 for null. */
  dataLen: number;
  /** An interned ACL id of this tree. */
  acl: number;
  /** Offset of the stat block (czxid, mzxid, ctime, mtime, version, cversion, aversion, owner, pzxid). */
  statAt: number;
}

/** The stat block of a loaded record as a StatPersisted (the slow path). */
/** Copies a big-endian long from a snapshot record into a page's long column, as two words. */
function loadLong(w: Uint32Array, view: DataView, col: number, i: number, off: number): void {
  const k = (col * PAGE_SIZE + i) * 2;
  w[k + 1] = view.getUint32(off);
  w[k] = view.getUint32(off + 4);
}

export function loadedStat(view: DataView, at: number): StatPersisted {
  return {
    czxid: view.getBigInt64(at), mzxid: view.getBigInt64(at + 8), ctime: view.getBigInt64(at + 16), mtime: view.getBigInt64(at + 24),
    version: view.getInt32(at + 32), cversion: view.getInt32(at + 36), aversion: view.getInt32(at + 40),
    ephemeralOwner: view.getBigInt64(at + 44), pzxid: view.getBigInt64(at + 52),
  };
}

export class NoNodeError extends Error {}
export class NodeExistsError extends Error {}

/** What a snapshot image needs to hear before the tree changes (tree-image.ts). */
export interface ImageHooks {
  /** id's stats, data or ACL are about to change, or id is about to be deleted. */
  beforeRecordChange(id: number): void;
  /** id is about to gain or lose a child. */
  beforeChildrenChange(id: number): void;
}

export const ROOT = 0;

export class DataTree {
  readonly pages: Page[] = [];
  private nextId = 0;
  private readonly freeIds: number[] = [];
  readonly paths = new ByteHeap();
  readonly datas = new ByteHeap();
  readonly acls = new AclTable();
  private readonly index = new PathIndex<string>({ matches: (id, key) => this.pathIs(id, key) });
  private count = 0;
  private approxSize = 0;
  private scratch = Buffer.allocUnsafe(4096);
  readonly ephemerals = new Map<bigint, JavaHashSet>();
  readonly containers = new JavaHashSet();
  readonly ttls = new JavaHashSet();
  readonly dataWatches = new WatchManager();
  readonly childWatches = new WatchManager();
  lastProcessedZxid = 0n;
  /** Open snapshot images; while any is open, freed ids and bytes wait in `deferred`. */
  readonly images: ImageHooks[] = [];
  private readonly deferred = { ids: [] as number[], data: [] as number[], paths: [] as number[], acls: [] as number[] };

  /** Frees (node ids, data and path ranges, ACL ids) waiting for the open images to close: 0 once none is open. */
  get deferredFrees(): number {
    const d = this.deferred;
    return d.ids.length + d.acls.length + (d.data.length + d.paths.length) / 2;
  }

  constructor(readonly extendedTypes: boolean, empty = false) {
    if (empty) return;
    // The DataTree constructor: /, /zookeeper, /zookeeper/quota, /zookeeper/config (READ_ACL_UNSAFE,
    // aversion -1 because addConfigNode calls setACL(..., -1)); all other stat fields are 0.
    const root = this.addNode('', -1, Buffer.alloc(0), OPEN_ACL_UNSAFE, emptyStat());
    const proc = this.addNode('/zookeeper', root, Buffer.alloc(0), OPEN_ACL_UNSAFE, emptyStat());
    this.addNode('/zookeeper/quota', proc, Buffer.alloc(0), OPEN_ACL_UNSAFE, emptyStat());
    this.addNode('/zookeeper/config', proc, Buffer.alloc(0), READ_ACL_UNSAFE, { ...emptyStat(), aversion: -1 });
  }

  page(id: number): Page {
    return this.pages[id >>> PAGE_BITS] as Page;
  }

  // --- lookups -------------------------------------------------------------------------------

  /** The node's id, or -1. "" and "/" are both the root, as in ZooKeeper's map. */
  idOf(path: string): number {
    if (path === '/' || path === '') return this.count > 0 ? ROOT : -1;
    return this.index.find(pathHash(path), path);
  }

  has(path: string): boolean {
    return this.idOf(path) >= 0;
  }

  /** Ids below this have been handed out (live or free). */
  get idLimit(): number {
    return this.nextId;
  }

  /** ZooKeeper's getNodeCount(): its map holds the root twice ("" and "/"). */
  /** Prepares for `n` nodes in all (a snapshot loader knows the count up front). */
  reserve(n: number): void {
    this.index.reserve(n);
  }

  private blocks: BlockSource | undefined;

  /** Takes new column pages and slabs from `source` while set (a snapshot load); unset with undefined. */
  useBlocks(source: BlockSource | undefined): void {
    this.blocks = source;
    this.paths.blocks = source;
    this.datas.blocks = source;
  }

  get nodeCount(): number {
    return this.count + 1;
  }

  /** DataTree.approximateDataSize: path lengths plus data lengths (the root counted twice). */
  get approximateDataSize(): number {
    const p = this.page(ROOT);
    return this.approxSize + 1 + Math.max(0, p.dataLen[0] as number);
  }

  getNode(path: string): NodeRecord | undefined {
    const id = this.idOf(path);
    return id < 0 ? undefined : this.record(id);
  }

  record(id: number): NodeRecord {
    return { data: this.dataOf(id), acl: this.aclOf(id), stat: this.persistedStat(id), numChildren: this.numChildrenOf(id) };
  }

  pathOf(id: number): string {
    const p = this.page(id);
    const i = id & PAGE_MASK;
    return this.paths.toString(p.pathH[i] as number, p.pathLen[i] as number);
  }

  /** The data (a copy the caller owns; null is ZooKeeper's null). */
  dataOf(id: number): Buffer | null {
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const len = p.dataLen[i] as number;
    return len < 0 ? null : this.datas.read(p.dataH[i] as number, len);
  }

  aclOf(id: number): readonly ACL[] {
    return this.acls.get(this.page(id).acl[id & PAGE_MASK] as number);
  }

  numChildrenOf(id: number): number {
    return this.page(id).kids[id & PAGE_MASK] as number;
  }

  persistedStat(id: number): StatPersisted {
    const p = this.page(id);
    const i = id & PAGE_MASK;
    return {
      czxid: p.czxid[i] as bigint, mzxid: p.mzxid[i] as bigint, ctime: p.ctime[i] as bigint, mtime: p.mtime[i] as bigint,
      version: p.version[i] as number, cversion: p.cversion[i] as number, aversion: p.aversion[i] as number,
      ephemeralOwner: p.owner[i] as bigint, pzxid: p.pzxid[i] as bigint,
    };
  }

  /** DataNode.copyStat: cversion*2 - numChildren, ephemeralOwner 0 unless a NORMAL ephemeral. */
  statOf(id: number): Stat {
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const numChildren = p.kids[i] as number;
    const owner = p.owner[i] as bigint;
    return {
      czxid: p.czxid[i] as bigint,
      mzxid: p.mzxid[i] as bigint,
      ctime: p.ctime[i] as bigint,
      mtime: p.mtime[i] as bigint,
      version: p.version[i] as number,
      cversion: (Math.imul(p.cversion[i] as number, 2) - numChildren) | 0,
      aversion: p.aversion[i] as number,
      ephemeralOwner: ephemeralType(owner, this.extendedTypes) === 'NORMAL' ? owner : 0n,
      dataLength: Math.max(0, p.dataLen[i] as number),
      numChildren,
      pzxid: p.pzxid[i] as bigint,
    };
  }

  /** Child ids in java.util.HashSet iteration order (java-hash-set.ts, grownCapLog2). */
  childIds(id: number): number[] {
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const n = p.kids[i] as number;
    if (n === 0) return [];
    const ids = new Array<number>(n);
    let k = 0;
    for (let c = p.first[i] as number; c !== -1; c = this.page(c).next[c & PAGE_MASK] as number) ids[k++] = c;
    if (n === 1) return ids;
    // Counting sort by bucket, stable: insertion order within a bucket.
    const mask = (1 << (p.capLog2[i] as number)) - 1;
    const buckets = new Int32Array(n);
    const starts = new Int32Array(mask + 2);
    for (let j = 0; j < n; j++) {
      const c = ids[j] as number;
      const b = spread(this.page(c).nameHash[c & PAGE_MASK] as number) & mask;
      buckets[j] = b;
      starts[b + 1]!++;
    }
    for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1] as number;
    const out = new Array<number>(n);
    for (let j = 0; j < n; j++) out[starts[buckets[j] as number]!++] = ids[j] as number;
    return out;
  }

  /** Children names in ZooKeeper's (HashSet) order. */
  childrenOf(id: number): string[] {
    return this.childIds(id).map((c) => this.nameOf(c));
  }

  nameOf(id: number): string {
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const h = p.pathH[i] as number;
    const len = p.pathLen[i] as number;
    let s = len - 1;
    while (s >= 0 && this.paths.byteAt(h, s) !== 0x2f) s--;
    return this.paths.toString(h, len, s + 1);
  }

  // --- mutators (DataTree's, with its watches) -----------------------------------------------

  /** DataTree.createNode (returns the new node's Stat). */
  createNode(
    path: string,
    data: Buffer | null,
    acl: readonly ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
    zxid: bigint,
    time: bigint,
    out: WatchTrigger[],
  ): Stat {
    const parentName = parentOf(path);
    const parent = this.idOf(parentName);
    if (parent < 0) throw new NoNodeError(path);
    if (this.idOf(path) >= 0) throw new NodeExistsError(path);
    const pp = this.page(parent);
    const pi = parent & PAGE_MASK;
    if (parentCVersion === -1) parentCVersion = ((pp.cversion[pi] as number) + 1) | 0;
    if (parentCVersion > (pp.cversion[pi] as number)) {
      this.beforeRecordChange(parent);
      pp.cversion[pi] = parentCVersion;
      pp.pzxid[pi] = zxid;
    }
    const id = this.addNode(path, parent, data, acl, createStat(zxid, time, ephemeralOwner));
    const kind = ephemeralType(ephemeralOwner, this.extendedTypes);
    if (kind === 'CONTAINER') this.containers.add(path);
    else if (kind === 'TTL') this.ttls.add(path);
    else if (ephemeralOwner !== 0n) {
      let set = this.ephemerals.get(ephemeralOwner);
      if (!set) this.ephemerals.set(ephemeralOwner, (set = new JavaHashSet()));
      set.add(path);
    }
    const stat = this.statOf(id);
    this.dataWatches.triggerWatch(path, EventType.NodeCreated, this.aclOf(id), out);
    this.childWatches.triggerWatch(parentName === '' ? '/' : parentName, EventType.NodeChildrenChanged, this.aclOf(parent), out);
    return stat;
  }

  /** DataTree.deleteNode (the parent's pzxid moves even when the node is missing, as there). */
  deleteNode(path: string, zxid: bigint, out: WatchTrigger[]): void {
    const parentName = parentOf(path);
    const parent = this.idOf(parentName);
    if (parent < 0) throw new NoNodeError(path);
    const id = this.idOf(path);
    if (id >= 0) this.unlinkChild(parent, id);
    const pp = this.page(parent);
    const pi = parent & PAGE_MASK;
    if (zxid > (pp.pzxid[pi] as bigint)) {
      this.beforeRecordChange(parent);
      pp.pzxid[pi] = zxid;
    }
    if (id < 0) throw new NoNodeError(path);
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const acl = this.aclOf(id);
    const owner = p.owner[i] as bigint;
    this.removeNode(id);
    const kind = ephemeralType(owner, this.extendedTypes);
    if (kind === 'CONTAINER') this.containers.delete(path);
    else if (kind === 'TTL') this.ttls.delete(path);
    else if (owner !== 0n) this.ephemerals.get(owner)?.delete(path);
    const processed = this.dataWatches.triggerWatch(path, EventType.NodeDeleted, acl, out);
    this.childWatches.triggerWatch(path, EventType.NodeDeleted, acl, out, processed);
    this.childWatches.triggerWatch(parentName === '' ? '/' : parentName, EventType.NodeChildrenChanged, this.aclOf(parent), out);
  }

  /** DataTree.setData. */
  setData(path: string, data: Buffer | null, version: number, zxid: bigint, time: bigint, out: WatchTrigger[]): Stat {
    const id = this.idOf(path);
    if (id < 0) throw new NoNodeError(path);
    this.beforeRecordChange(id);
    const p = this.page(id);
    const i = id & PAGE_MASK;
    this.approxSize -= Math.max(0, p.dataLen[i] as number);
    this.defer('data', p.dataH[i] as number, p.dataLen[i] as number);
    this.storeData(p, i, data);
    p.mtime[i] = time;
    p.mzxid[i] = zxid;
    p.version[i] = version;
    const stat = this.statOf(id);
    this.dataWatches.triggerWatch(path, EventType.NodeDataChanged, this.aclOf(id), out);
    return stat;
  }

  /** DataTree.setACL (no watches). */
  setACL(path: string, acl: readonly ACL[], version: number): Stat {
    const id = this.idOf(path);
    if (id < 0) throw new NoNodeError(path);
    this.beforeRecordChange(id);
    const p = this.page(id);
    const i = id & PAGE_MASK;
    p.aversion[i] = version;
    const old = p.acl[i] as number;
    p.acl[i] = this.acls.intern(acl);
    if (this.acls.unref(old)) this.defer('acls', old);
    return this.statOf(id);
  }

  /** DataTree.getEphemerals(sessionId): a clone, hence HashMap.clone's iteration order. */
  ephemeralsClone(sessionId: bigint): JavaHashSet {
    return this.ephemerals.get(sessionId)?.clone() ?? new JavaHashSet();
  }

  /** DataTree.getAllChildrenNumber: every descendant ("/" counts /zookeeper and its children). */
  allChildrenNumber(path: string): number {
    const id = this.idOf(path);
    if (id < 0) return 0;
    let n = 0;
    const stack = [id];
    while (stack.length > 0) {
      const x = stack.pop() as number;
      for (let c = this.page(x).first[x & PAGE_MASK] as number; c !== -1; c = this.page(c).next[c & PAGE_MASK] as number) {
        n++;
        stack.push(c);
      }
    }
    return n;
  }

  /**
   * Depth-first walk in DataTree.serializeNode order: "" (root) first, then children in
   * HashSet order, their paths being parent + "/" + name.
   */
  *walk(): Generator<[string, NodeRecord]> {
    if (this.count === 0) return;
    const stack = [ROOT];
    while (stack.length > 0) {
      const id = stack.pop() as number;
      yield [this.pathOf(id), this.record(id)];
      const kids = this.childIds(id);
      for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k] as number);
    }
  }

  /** Adds a node read from a snapshot, in walk order (DataTree.deserialize); returns its id. */
  loadNode(path: string, node: { data: Buffer | null; acl: readonly ACL[]; stat: StatPersisted }): number {
    const lastSlash = path.lastIndexOf('/');
    let parent = -1;
    if (lastSlash !== -1) {
      parent = this.idOf(path.substring(0, lastSlash));
      if (parent < 0) throw new Error(`Invalid Datatree, unable to find parent of path ${path}`);
    } else if (path !== '' || this.count > 0) throw new Error(`Invalid Datatree, unexpected root path ${JSON.stringify(path)}`);
    const id = this.addNode(path, parent, node.data, node.acl, node.stat);
    const owner = node.stat.ephemeralOwner;
    const kind = ephemeralType(owner, this.extendedTypes);
    if (kind === 'CONTAINER') this.containers.add(path);
    else if (kind === 'TTL') this.ttls.add(path);
    else if (owner !== 0n) {
      let set = this.ephemerals.get(owner);
      if (!set) this.ephemerals.set(owner, (set = new JavaHashSet()));
      set.add(path);
    }
    return id;
  }

  /**
   * Adds a node straight from snapshot bytes (the fast path of SnapshotLoader): path and
   * data are copied from `src`, `acl` is an interned id that gets one more reference, and
   * `parent` was found by the loader. Hashes come from the bytes when they are ASCII.
   */
  loadRecord(src: Buffer, view: DataView, r: LoadedRecord, parent: number): number {
    let ascii = true;
    for (let k = r.pathStart; k < r.pathStart + r.pathLen; k++) {
      if ((src[k] as number) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      const path = src.toString('utf8', r.pathStart, r.pathStart + r.pathLen);
      const data = r.dataLen < 0 ? null : src.subarray(r.dataStart, r.dataStart + r.dataLen);
      return this.loadNode(path, { data, acl: this.acls.get(r.acl), stat: loadedStat(view, r.statAt) });
    }
    const id = this.newId();
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const end = r.pathStart + r.pathLen;
    let nameStart = end;
    while (nameStart > r.pathStart && src[nameStart - 1] !== 0x2f) nameStart--;
    let nameHash = 0;
    for (let k = nameStart; k < end; k++) nameHash = (Math.imul(31, nameHash) + (src[k] as number)) | 0;
    p.pathH[i] = this.paths.alloc(src, r.pathStart, end);
    p.pathLen[i] = r.pathLen;
    p.pathChars[i] = r.pathLen;
    p.pathHash[i] = pathHashOfAscii(src, r.pathStart, end);
    p.nameHash[i] = nameHash;
    if (r.dataLen < 0) {
      p.dataLen[i] = -1;
      p.dataH[i] = 0;
    } else {
      p.dataLen[i] = r.dataLen;
      p.dataH[i] = this.datas.alloc(src, r.dataStart, r.dataStart + r.dataLen);
      this.approxSize += r.dataLen;
    }
    this.acls.ref(r.acl);
    p.acl[i] = r.acl;
    const w = p.longs;
    const at = r.statAt;
    loadLong(w, view, LONG_COLUMN.czxid, i, at);
    loadLong(w, view, LONG_COLUMN.mzxid, i, at + 8);
    loadLong(w, view, LONG_COLUMN.ctime, i, at + 16);
    loadLong(w, view, LONG_COLUMN.mtime, i, at + 24);
    p.version[i] = view.getInt32(at + 32);
    p.cversion[i] = view.getInt32(at + 36);
    p.aversion[i] = view.getInt32(at + 40);
    loadLong(w, view, LONG_COLUMN.owner, i, at + 44);
    loadLong(w, view, LONG_COLUMN.pzxid, i, at + 52);
    p.first[i] = p.last[i] = p.next[i] = p.prev[i] = -1;
    p.kids[i] = 0;
    p.capLog2[i] = 0;
    p.parent[i] = parent;
    p.live[i] = 1;
    this.count++;
    this.approxSize += r.pathLen;
    if (parent === -1) return id;
    this.index.insert(p.pathHash[i] as number, id);
    this.linkChild(parent, id);
    const ow = (LONG_COLUMN.owner * PAGE_SIZE + i) * 2;
    if (w[ow] !== 0 || w[ow + 1] !== 0) {
      const owner = p.owner[i] as bigint;
      const path = src.toString('latin1', r.pathStart, end);
      const kind = ephemeralType(owner, this.extendedTypes);
      if (kind === 'CONTAINER') this.containers.add(path);
      else if (kind === 'TTL') this.ttls.add(path);
      else {
        let set = this.ephemerals.get(owner);
        if (!set) this.ephemerals.set(owner, (set = new JavaHashSet()));
        set.add(path);
      }
    }
    return id;
  }

  /** Whether bytes [start, start+len) of src equal the path of id. */
  pathBytesEqual(id: number, src: Buffer, start: number, len: number): boolean {
    const p = this.page(id);
    const i = id & PAGE_MASK;
    if (p.pathLen[i] !== len) return false;
    if (len === 0) return true;
    const h = p.pathH[i] as number;
    const off = this.paths.offOf(h);
    return this.paths.bufOf(h).compare(src, start, start + len, off, off + len) === 0;
  }

  pathLenOf(id: number): number {
    return this.page(id).pathLen[id & PAGE_MASK] as number;
  }

  /** Bytes held for the tree's nodes (columns, slabs, index), not counting watches. */
  get footprintBytes(): number {
    return this.pages.length * Page.bytes + this.paths.footprintBytes + this.datas.footprintBytes + this.index.bytes;
  }

  // --- snapshot images -----------------------------------------------------------------------

  beforeRecordChange(id: number): void {
    for (const img of this.images) img.beforeRecordChange(id);
  }

  beforeChildrenChange(id: number): void {
    for (const img of this.images) img.beforeChildrenChange(id);
  }

  /** The last image closed: what was freed meanwhile can be reused now. */
  imagesClosed(): void {
    if (this.images.length > 0) return;
    const d = this.deferred;
    for (const id of d.ids) this.freeIds.push(id);
    for (let k = 0; k < d.data.length; k += 2) this.datas.release(d.data[k] as number, d.data[k + 1] as number);
    for (let k = 0; k < d.paths.length; k += 2) this.paths.release(d.paths[k] as number, d.paths[k + 1] as number);
    for (const a of d.acls) this.acls.free(a);
    d.ids.length = d.data.length = d.paths.length = d.acls.length = 0;
  }

  // --- internals ------------------------------------------------------------------------------

  private defer(kind: 'data' | 'paths', h: number, len: number): void;
  private defer(kind: 'ids' | 'acls', id: number): void;
  private defer(kind: 'ids' | 'acls' | 'data' | 'paths', a: number, len?: number): void {
    const now = this.images.length === 0;
    if (kind === 'ids') {
      if (now) this.freeIds.push(a);
      else this.deferred.ids.push(a);
    } else if (kind === 'acls') {
      if (now) this.acls.free(a);
      else this.deferred.acls.push(a);
    } else if ((len as number) > 0) {
      if (now) (kind === 'data' ? this.datas : this.paths).release(a, len as number);
      else this.deferred[kind].push(a, len as number);
    }
  }

  private pathIs(id: number, key: string): boolean {
    const p = this.page(id);
    const i = id & PAGE_MASK;
    if (p.pathChars[i] !== key.length) return false;
    const h = p.pathH[i] as number;
    const len = p.pathLen[i] as number;
    if (len !== key.length) return this.paths.toString(h, len) === key; // not ASCII
    const buf = this.paths.bufOf(h);
    const off = this.paths.offOf(h);
    for (let k = len - 1; k >= 0; k--) if (buf[off + k] !== key.charCodeAt(k)) return false;
    return true;
  }

  private newId(): number {
    const id = this.freeIds.pop() ?? this.nextId++;
    if (id >>> PAGE_BITS >= this.pages.length) this.pages.push(Page.of(this.blocks?.take(Page.bytes)));
    return id;
  }

  private storeData(p: Page, i: number, data: Buffer | null): void {
    if (data === null) {
      p.dataLen[i] = -1;
      p.dataH[i] = 0;
      return;
    }
    p.dataLen[i] = data.length;
    p.dataH[i] = this.datas.alloc(data);
    this.approxSize += data.length;
  }

  /** A new node with these fields, linked under parent (-1 for the root) and indexed. */
  private addNode(path: string, parent: number, data: Buffer | null, acl: readonly ACL[], stat: StatPersisted): number {
    const id = this.newId();
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const bytes = Buffer.byteLength(path);
    if (bytes > this.scratch.length) this.scratch = Buffer.allocUnsafe(bytes * 2);
    this.scratch.write(path, 0, bytes, 'utf8');
    p.pathH[i] = this.paths.alloc(this.scratch, 0, bytes);
    p.pathLen[i] = bytes;
    p.pathChars[i] = path.length;
    p.pathHash[i] = pathHash(path);
    p.nameHash[i] = javaStringHash(childName(path));
    this.storeData(p, i, data);
    p.acl[i] = this.acls.intern(acl);
    p.czxid[i] = stat.czxid;
    p.mzxid[i] = stat.mzxid;
    p.ctime[i] = stat.ctime;
    p.mtime[i] = stat.mtime;
    p.pzxid[i] = stat.pzxid;
    p.owner[i] = stat.ephemeralOwner;
    p.version[i] = stat.version;
    p.cversion[i] = stat.cversion;
    p.aversion[i] = stat.aversion;
    p.first[i] = p.last[i] = p.next[i] = p.prev[i] = -1;
    p.kids[i] = 0;
    p.capLog2[i] = 0;
    p.parent[i] = parent;
    p.live[i] = 1;
    this.count++;
    this.approxSize += path.length;
    if (parent === -1) return id; // the root: found by idOf without the index
    this.index.insert(p.pathHash[i] as number, id);
    this.linkChild(parent, id);
    return id;
  }

  private removeNode(id: number): void {
    this.beforeRecordChange(id);
    const p = this.page(id);
    const i = id & PAGE_MASK;
    this.index.remove(p.pathHash[i] as number, id);
    p.live[i] = 0;
    this.count--;
    this.approxSize -= (p.pathChars[i] as number) + Math.max(0, p.dataLen[i] as number);
    this.defer('data', p.dataH[i] as number, p.dataLen[i] as number);
    this.defer('paths', p.pathH[i] as number, p.pathLen[i] as number);
    if (this.acls.unref(p.acl[i] as number)) this.defer('acls', p.acl[i] as number);
    this.defer('ids', id);
  }

  private linkChild(parent: number, id: number): void {
    this.beforeChildrenChange(parent);
    const pp = this.page(parent);
    const pi = parent & PAGE_MASK;
    const n = pp.kids[pi] as number;
    // The HashSet's table length after this add (it decides the iteration order).
    const cap = pp.capLog2[pi] as number;
    let binBefore = 0;
    if (cap !== 0 && cap < 6) {
      // Only tables shorter than 64 resize for a long bin (treeifyBin); count the bin then.
      const mask = (1 << cap) - 1;
      const b = spread(this.page(id).nameHash[id & PAGE_MASK] as number) & mask;
      for (let c = pp.first[pi] as number; c !== -1; c = this.page(c).next[c & PAGE_MASK] as number) {
        if ((spread(this.page(c).nameHash[c & PAGE_MASK] as number) & mask) === b) binBefore++;
      }
    }
    pp.capLog2[pi] = grownCapLog2(cap, n, binBefore);
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const tail = pp.last[pi] as number;
    p.prev[i] = tail;
    p.next[i] = -1;
    if (tail === -1) pp.first[pi] = id;
    else this.page(tail).next[tail & PAGE_MASK] = id;
    pp.last[pi] = id;
    pp.kids[pi] = n + 1;
  }

  private unlinkChild(parent: number, id: number): void {
    this.beforeChildrenChange(parent);
    const pp = this.page(parent);
    const pi = parent & PAGE_MASK;
    const p = this.page(id);
    const i = id & PAGE_MASK;
    const prev = p.prev[i] as number;
    const next = p.next[i] as number;
    if (prev === -1) pp.first[pi] = next;
    else this.page(prev).next[prev & PAGE_MASK] = next;
    if (next === -1) pp.last[pi] = prev;
    else this.page(next).prev[next & PAGE_MASK] = prev;
    pp.kids[pi]!--;
  }
}

export { PAGE_SIZE };
