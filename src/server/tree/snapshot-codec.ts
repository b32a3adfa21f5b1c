/**
 * The bytes of a whole-state snapshot (tree + sessions; watches and outstanding changes are
 * not state) and a tree digest.
 *
 * Format 2, big-endian, written by TreeImage in slices and read by SnapshotLoader in chunks:
 *
 *   int MAGIC "ZKST", int 2, int headerLength, then the header:
 *     long zxid; vector<(long sessionId, int timeoutMs)>; vector<(int aclRef, vector<ACL>)>;
 *     long nodeCount (the tree's size when the image was taken, so a loader sizes its index
 *     once instead of growing it; absent in the first format-2 files)
 *   then one record per node, depth-first in DataTree.serializeNode order (root "" first):
 *     int pathLength, path bytes (UTF-8), int dataLength (-1: null), data bytes, int aclRef,
 *     long czxid, long mzxid, long ctime, long mtime, int version, int cversion, int aversion,
 *     long ephemeralOwner, long pzxid
 *   then the trailer: int -1, long nodeCount (a truncated or spliced stream is refused).
 *
 * Nodes are re-added on load in that order, so children come back in the order ZooKeeper
 * itself would restore. Format 1 (a Jute stream of path, data, ACL, stat per node, ended by
 * the path "/") is still read.
 */
import { createHash } from 'node:crypto';
import { JuteReader, JuteWriter } from '../../protocol/jute.js';
import { SLAB_BYTES } from './byte-heap.js';
import { DataTree, type LoadedRecord } from './data-tree.js';
import { Page, PAGE_SIZE } from './node-columns.js';
import { PrefaultedBlocks } from './prefault.js';
import { ZkState } from './state.js';
import { readAcl, writeAcl } from './txn-codec.js';
import type { ACL, StatPersisted, ZkStateOptions } from './types.js';

const MAGIC = 0x5a4b5354; // "ZKST"
/** A record's bytes besides its path and data. */
export const RECORD_FIXED_BYTES = 4 + 4 + 4 + 4 * 8 + 3 * 4 + 2 * 8;
export const TRAILER_BYTES = 4 + 8;
/** Smaller trees load in well under a second: not worth a thread. */
export const PREFAULT_MIN_NODES = 100_000;
/** At most this much memory is faulted in ahead (the rest of a larger tree is allocated as it comes). */
export const PREFAULT_MAX_BYTES = 1 << 30;
const PREFIX_BYTES = 12;

export function encodeHeader(
  zxid: bigint,
  sessions: Iterable<readonly [bigint, number]>,
  acls: Iterable<[number, readonly ACL[]]>,
  nodeCount: number,
): Buffer {
  const w = new JuteWriter(4096);
  w.long(zxid);
  w.vector([...sessions], (ww, [id, timeoutMs]) => ww.long(id).int(timeoutMs));
  w.vector([...acls], (ww, [ref, acl]) => {
    ww.int(ref);
    writeAcl(ww, acl);
  });
  w.long(BigInt(nodeCount));
  const body = w.toBuffer();
  const out = Buffer.allocUnsafe(PREFIX_BYTES + body.length);
  out.writeInt32BE(MAGIC, 0);
  out.writeInt32BE(2, 4);
  out.writeInt32BE(body.length, 8);
  Buffer.from(body.buffer, body.byteOffset, body.length).copy(out, PREFIX_BYTES);
  return out;
}

export function writeTrailer(out: Buffer, at: number, nodeCount: number): number {
  out.writeInt32BE(-1, at);
  out.writeBigInt64BE(BigInt(nodeCount), at + 4);
  return at + TRAILER_BYTES;
}

/**
 * Rebuilds a ZkState from a snapshot's bytes pushed in order in chunks of any size. Format 2
 * is parsed as it arrives (no copy of the whole stream is ever held); format 1 is collected
 * and parsed at finish().
 */
export class SnapshotLoader {
  private pending: Buffer | null = null;
  private phase: 'prefix' | 'header' | 'records' | 'v1' | 'done' = 'prefix';
  private headerLength = 0;
  private readonly tree: DataTree;
  private readonly v1: Buffer[] = [];
  private zxid = 0n;
  private sessions: (readonly [bigint, number])[] = [];
  /** Snapshot ACL ref → this tree's interned id. */
  private readonly aclIds = new Map<number, number>();
  /** Ids of the previous record's ancestors (and itself), root first. */
  private readonly ancestors: number[] = [];
  private count = 0;
  /** Bytes of the records read so far. */
  private recordBytes = 0;
  private readonly record: LoadedRecord = { pathStart: 0, pathLen: 0, dataStart: 0, dataLen: 0, acl: 0, statAt: 0 };

  private payloadBytes = -1;
  /** The header's node count (-1 until it is read, or when it has none). */
  private hintNodes = -1;
  private prefaulted: PrefaultedBlocks | undefined;

  /**
   * `prefault`: for a snapshot of at least PREFAULT_MIN_NODES whose size was given to
   * expect(), fault the tree's memory in on another thread while parsing (prefault.ts). For
   * a restart, and for a follower's SNAP (which serves no clients until it is installed), whose
   * size is estimated once its first chunk is in (SnapReceiver).
   */
  constructor(
    private readonly options: ZkStateOptions = {},
    private readonly loading: { prefault?: boolean } = {},
  ) {
    this.tree = new DataTree(options.extendedTypesEnabled ?? false, true);
  }

  /**
   * The payload's size, when known before its bytes (a file), or an estimate once the header
   * was read (a stream): lets the loader plan memory.
   */
  expect(payloadBytes: number): void {
    this.payloadBytes = payloadBytes;
    if (this.prefaulted === undefined && this.hintNodes > 0 && this.phase === 'records') this.startPrefault(this.hintNodes);
  }

  /** Nodes the header announced (-1: not read yet, or not announced), nodes read so far and their bytes. */
  get nodesExpected(): number {
    return this.hintNodes;
  }
  get nodesLoaded(): number {
    return this.count;
  }
  get nodeBytesLoaded(): number {
    return this.recordBytes;
  }

  /** Gives up a load that will not be finished (its bytes were damaged): stops the helper thread. */
  abort(): void {
    this.stopPrefault();
  }

  private startPrefault(announced: number): void {
    if (!this.loading.prefault || announced < PREFAULT_MIN_NODES || this.payloadBytes < 0) return;
    // The header's count is read before the checksum is checked (and a SNAP's size is an
    // estimate): never plan more nodes than the payload can hold, nor more than
    // PREFAULT_MAX_BYTES in all, or a damaged count could make this allocate without bound.
    const nodes = Math.min(announced, Math.floor(this.payloadBytes / RECORD_FIXED_BYTES));
    const pages = Math.min(Math.ceil(nodes / PAGE_SIZE), Math.floor(PREFAULT_MAX_BYTES / Page.bytes));
    // Slab bytes: the payload less each record's fixed part (paths and data are what is left).
    const slabs = Math.min(
      Math.floor(Math.max(0, this.payloadBytes - nodes * RECORD_FIXED_BYTES) / SLAB_BYTES),
      Math.floor((PREFAULT_MAX_BYTES - pages * Page.bytes) / SLAB_BYTES),
    );
    this.prefaulted = new PrefaultedBlocks([
      { bytes: Page.bytes, count: pages },
      { bytes: SLAB_BYTES, count: slabs },
    ]);
    this.tree.useBlocks(this.prefaulted);
  }

  private stopPrefault(): void {
    this.tree.useBlocks(undefined);
    this.prefaulted?.stop();
    this.prefaulted = undefined;
  }

  /** The next bytes of the snapshot. Nothing refers to `chunk` after this returns. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.phase === 'v1') {
      this.v1.push(Buffer.from(chunk));
      return;
    }
    if (this.phase === 'done') throw new RangeError('snapshot has bytes after its end');
    let rest = chunk;
    if (this.pending !== null) {
      // A record straddles the chunks: join its start with only as much of the chunk as it
      // needs (from 4 KiB or its own length, doubling), not with the whole chunk, which would
      // copy every byte twice.
      let pending = this.pending;
      this.pending = null;
      for (let take = Math.min(chunk.length, Math.max(4096, pending.length)); ; take = Math.min(chunk.length, take * 2)) {
        const joined = Buffer.concat([pending, chunk.subarray(0, take)]);
        const used = this.parse(joined);
        if (used >= pending.length) {
          rest = chunk.subarray(used - pending.length); // parsed into the chunk: go on from there
          break;
        }
        if (take === chunk.length || (this.phase as string) === 'v1') {
          this.keep(joined.subarray(used));
          if (take < chunk.length) this.keep(chunk.subarray(take));
          return;
        }
        pending = pending.subarray(used);
      }
    }
    this.keep(rest.subarray(this.parse(rest)));
  }

  /**
   * Bytes not parsed yet: the start of a record (at most one piece), or (format 1) everything.
   * Copied: a chunk's memory may be reused by the caller once push() returns.
   */
  private keep(left: Buffer): void {
    if (left.length === 0) return;
    if (this.phase === 'v1') this.v1.push(Buffer.from(left));
    else this.pending = this.pending === null ? Buffer.from(left) : Buffer.concat([this.pending, left]);
  }

  /** The state; throws RangeError if the bytes are incomplete or not a snapshot. */
  finish(): ZkState {
    this.stopPrefault();
    if (this.phase === 'v1') return deserializeV1(Buffer.concat(this.v1), this.options);
    if (this.phase !== 'done') throw new RangeError(`snapshot is incomplete (${this.count} nodes read, no trailer)`);
    if (this.pending !== null) throw new RangeError('snapshot has bytes after its end');
    for (const id of this.aclIds.values()) if (this.tree.acls.unref(id)) this.tree.acls.free(id);
    this.tree.lastProcessedZxid = this.zxid;
    const state = new ZkState(this.options, this.tree);
    for (const [id, timeoutMs] of this.sessions) state.sessions.set(id, { timeoutMs });
    return state;
  }

  /** Parses what it can of buf; returns how many bytes it consumed. */
  private parse(buf: Buffer): number {
    let pos = 0;
    if (this.phase === 'prefix') {
      if (buf.length < PREFIX_BYTES) return 0;
      if (buf.readInt32BE(0) !== MAGIC) throw new RangeError('not a zk-elect tree snapshot');
      const version = buf.readInt32BE(4);
      if (version === 1) {
        this.phase = 'v1';
        return 0;
      }
      if (version !== 2) throw new RangeError(`unsupported snapshot version ${version}`);
      this.headerLength = buf.readInt32BE(8);
      if (this.headerLength < 0) throw new RangeError('snapshot header length is negative');
      this.phase = 'header';
      pos = PREFIX_BYTES;
    }
    if (this.phase === 'header') {
      if (buf.length - pos < this.headerLength) return pos;
      const r = new JuteReader(buf.subarray(pos, pos + this.headerLength), { maxLength: 0x7fffffff });
      this.zxid = r.long();
      this.sessions = r.vector((rr) => [rr.long(), rr.int()] as const);
      for (const [ref, acl] of r.vector((rr) => [rr.int(), readAcl(rr)] as const)) this.aclIds.set(ref, this.tree.acls.intern(acl));
      if (r.remaining > 0) {
        const hint = r.long();
        // Only a hint: the trailer's count is what is checked. A wild value must not make
        // the loader reserve gigabytes, so it is capped.
        if (hint > 0n && hint < 1n << 31n) {
          this.hintNodes = Number(hint);
          // Unchecked yet (see startPrefault): no more than the payload, when known, can hold.
          this.tree.reserve(this.payloadBytes >= 0 ? Math.min(this.hintNodes, Math.floor(this.payloadBytes / RECORD_FIXED_BYTES)) : this.hintNodes);
          this.startPrefault(this.hintNodes);
        }
      }
      r.end('snapshot header');
      pos += this.headerLength;
      this.phase = 'records';
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const rec = this.record;
    while (this.phase === 'records') {
      if (buf.length - pos < 4) return pos;
      const pathLen = view.getInt32(pos);
      if (pathLen === -1) {
        if (buf.length - pos < TRAILER_BYTES) return pos;
        const n = view.getBigInt64(pos + 4);
        if (n !== BigInt(this.count)) throw new RangeError(`snapshot trailer says ${n} nodes, ${this.count} were read`);
        this.phase = 'done';
        return pos + TRAILER_BYTES;
      }
      if (pathLen < 0) throw new RangeError(`snapshot record ${this.count} has path length ${pathLen}`);
      if (buf.length - pos < 8 + pathLen) return pos;
      const dataLen = view.getInt32(pos + 4 + pathLen);
      if (dataLen < -1) throw new RangeError(`snapshot record ${this.count} has data length ${dataLen}`);
      const size = RECORD_FIXED_BYTES + pathLen + Math.max(0, dataLen);
      if (buf.length - pos < size) return pos;
      rec.pathStart = pos + 4;
      rec.pathLen = pathLen;
      rec.dataStart = pos + 8 + pathLen;
      rec.dataLen = dataLen;
      const at = rec.dataStart + Math.max(0, dataLen);
      const ref = view.getInt32(at);
      const acl = this.aclIds.get(ref);
      if (acl === undefined) throw new RangeError(`snapshot record ${this.count} names ACL ${ref}, which the header lacks`);
      rec.acl = acl;
      rec.statAt = at + 4;
      this.ancestors.push(this.tree.loadRecord(buf, view, rec, this.parentOf(buf, rec)));
      this.count++;
      this.recordBytes += size;
      pos += size;
    }
    return pos;
  }

  /**
   * The parent of the record about to be added: in depth-first order it is on the ancestor
   * chain of the previous record, with exactly the path up to our last '/'.
   */
  private parentOf(buf: Buffer, rec: LoadedRecord): number {
    const a = this.ancestors;
    if (this.count === 0) {
      if (rec.pathLen !== 0) throw new RangeError('snapshot does not start with the root');
      return -1;
    }
    let slash = rec.pathStart + rec.pathLen - 1;
    while (slash >= rec.pathStart && buf[slash] !== 0x2f) slash--;
    const parentLen = slash - rec.pathStart;
    if (slash < rec.pathStart || parentLen < 0 || rec.pathLen === 0) throw new RangeError(`snapshot record ${this.count} has an invalid path`);
    while (a.length > 0 && this.tree.pathLenOf(a[a.length - 1] as number) > parentLen) a.pop();
    const top = a[a.length - 1];
    if (top === undefined || !this.tree.pathBytesEqual(top, buf, rec.pathStart, parentLen)) {
      throw new RangeError(`Invalid Datatree, unable to find parent of path ${buf.toString('utf8', rec.pathStart, rec.pathStart + rec.pathLen)}`);
    }
    return top;
  }
}

function readStatV1(r: JuteReader): StatPersisted {
  const czxid = r.long();
  const mzxid = r.long();
  const ctime = r.long();
  const mtime = r.long();
  const version = r.int();
  const cversion = r.int();
  const aversion = r.int();
  const ephemeralOwner = r.long();
  const pzxid = r.long();
  return { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid };
}

/** Format 1, as earlier versions wrote it. */
function deserializeV1(buf: Buffer, options: ZkStateOptions): ZkState {
  const r = new JuteReader(buf, { maxLength: 0x7fffffff });
  r.int(); // magic, checked
  r.int(); // version 1
  const lastZxid = r.long();
  const sessions = r.vector((rr) => [rr.long(), rr.int()] as const);
  const tree = new DataTree(options.extendedTypesEnabled ?? false, true);
  for (let path = r.string(); path !== '/'; path = r.string()) {
    const data = r.buffer();
    const acl = readAcl(r);
    const stat = readStatV1(r);
    tree.loadNode(path, { data, acl, stat });
  }
  r.end('snapshot');
  if (!tree.has('')) throw new RangeError('snapshot has no root');
  tree.lastProcessedZxid = lastZxid;
  const state = new ZkState(options, tree);
  for (const [id, timeoutMs] of sessions) state.sessions.set(id, { timeoutMs });
  return state;
}

/**
 * SHA-1 (hex) over every znode sorted by path (path, data, acl, persisted stat): equal for
 * equal trees regardless of HashSet layout history. Sessions are not included.
 */
export function treeDigest(tree: DataTree): string {
  const h = createHash('sha1');
  const nodes = [...tree.walk()].filter(([p]) => p !== '');
  nodes.push(['/', tree.getNode('/')!]);
  nodes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [path, n] of nodes) {
    const w = new JuteWriter();
    w.ustring(path).buffer(n.data);
    writeAcl(w, n.acl);
    const s = n.stat;
    w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime).int(s.version).int(s.cversion).int(s.aversion).long(s.ephemeralOwner).long(s.pzxid);
    h.update(w.toBuffer());
  }
  return h.digest('hex');
}
