/**
 * A consistent image of the tree at one zxid, read out in slices while the tree keeps
 * changing: copy-on-write at node granularity.
 *
 * The image walks the tree depth-first in DataTree.serializeNode order, emitting each node
 * and then pushing its children. Before the tree changes a node the image has not emitted
 * yet (DataTree calls the ImageHooks first), the image saves what it needs of that node as it
 * was: its fields (beforeRecordChange) or its children list (beforeChildrenChange). Emitted
 * nodes need nothing, nodes created after the image's zxid are never reached, and nothing a
 * saved record refers to (ids, path and data bytes, ACL ids) is reused while an image is open
 * (DataTree.defer). So every node is written exactly as it was at `zxid`, and the cost of a
 * change is one small copy the first time a not-yet-written node changes.
 *
 * The bytes are snapshot-codec.ts's format 2, written straight from the tree's columns.
 */
import { DataTree, ROOT, type ImageHooks } from './data-tree.js';
import { LONG_COLUMN, PAGE_MASK, PAGE_SIZE } from './node-columns.js';
import { encodeHeader, RECORD_FIXED_BYTES, TRAILER_BYTES, writeTrailer } from './snapshot-codec.js';
import type { SnapshotReader } from './snapshot-stream.js';

/** A node's fields as they were at the image's zxid (paths never change for an id). */
interface SavedRecord {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  pzxid: bigint;
  owner: bigint;
  version: number;
  cversion: number;
  aversion: number;
  dataH: number;
  dataLen: number;
  acl: number;
}

export class TreeImage implements ImageHooks, SnapshotReader {
  private readonly visited: Uint8Array;
  private readonly savedRecords = new Map<number, SavedRecord>();
  private readonly savedKids = new Map<number, number[]>();
  private readonly stack: number[] = [ROOT];
  private header: Buffer | null;
  private written = 0;
  private state: 'open' | 'done' | 'closed' = 'open';

  constructor(
    private readonly tree: DataTree,
    readonly zxid: bigint,
    sessions: Iterable<readonly [bigint, number]>,
  ) {
    this.visited = new Uint8Array(tree.idLimit);
    this.header = encodeHeader(zxid, sessions, tree.acls.entries(), tree.nodeCount);
    tree.images.push(this);
  }

  /** Nodes saved because they changed before being written (a measure of the copy cost). */
  get savedCount(): number {
    return this.savedRecords.size + this.savedKids.size;
  }

  beforeRecordChange(id: number): void {
    if (!this.pending(id) || this.savedRecords.has(id)) return;
    const p = this.tree.page(id);
    const i = id & PAGE_MASK;
    this.savedRecords.set(id, {
      czxid: p.czxid[i] as bigint, mzxid: p.mzxid[i] as bigint, ctime: p.ctime[i] as bigint, mtime: p.mtime[i] as bigint,
      pzxid: p.pzxid[i] as bigint, owner: p.owner[i] as bigint,
      version: p.version[i] as number, cversion: p.cversion[i] as number, aversion: p.aversion[i] as number,
      dataH: p.dataH[i] as number, dataLen: p.dataLen[i] as number, acl: p.acl[i] as number,
    });
  }

  beforeChildrenChange(id: number): void {
    if (!this.pending(id) || this.savedKids.has(id)) return;
    this.savedKids.set(id, this.tree.childIds(id));
  }

  /** In the image and not written yet. Nodes created after zxid have a larger czxid. */
  private pending(id: number): boolean {
    if (this.state !== 'open' || id >= this.visited.length || this.visited[id] === 1) return false;
    return (this.tree.page(id).czxid[id & PAGE_MASK] as bigint) <= this.zxid;
  }

  next(maxBytes: number): Buffer | null {
    if (this.state !== 'open') return null;
    let out = Buffer.allocUnsafe(Math.max(maxBytes, 4096));
    let used = 0;
    if (this.header !== null) {
      if (this.header.length > out.length) out = Buffer.allocUnsafe(this.header.length + maxBytes);
      used += this.header.copy(out, 0);
      this.header = null;
    }
    let view = new DataView(out.buffer, out.byteOffset, out.length);
    while (this.stack.length > 0) {
      const id = this.stack[this.stack.length - 1] as number;
      const size = this.recordBytes(id);
      if (used + size > out.length) {
        if (used > 0) break;
        out = Buffer.allocUnsafe(size); // one record larger than a slice goes alone
        view = new DataView(out.buffer, out.byteOffset, out.length);
      }
      this.stack.pop();
      used = this.writeRecord(id, out, view, used);
      const kids = this.savedKids.get(id) ?? this.tree.childIds(id);
      this.visited[id] = 1;
      this.savedRecords.delete(id);
      this.savedKids.delete(id);
      for (let k = kids.length - 1; k >= 0; k--) this.stack.push(kids[k] as number);
      this.written++;
    }
    if (this.stack.length === 0) {
      if (used + TRAILER_BYTES > out.length) return out.subarray(0, used);
      used = writeTrailer(out, used, this.written);
      this.finish();
    }
    return out.subarray(0, used);
  }

  close(): void {
    if (this.state === 'closed') return;
    this.finish();
    this.state = 'closed';
  }

  private finish(): void {
    this.state = 'done';
    const i = this.tree.images.indexOf(this);
    if (i >= 0) this.tree.images.splice(i, 1);
    this.savedRecords.clear();
    this.savedKids.clear();
    this.tree.imagesClosed();
  }

  private recordBytes(id: number): number {
    const p = this.tree.page(id);
    const i = id & PAGE_MASK;
    const dataLen = this.savedRecords.get(id)?.dataLen ?? (p.dataLen[i] as number);
    return RECORD_FIXED_BYTES + (p.pathLen[i] as number) + Math.max(0, dataLen);
  }

  /** Format 2 record: path, data, ACL ref, StatPersisted. Returns the new offset. */
  private writeRecord(id: number, out: Buffer, view: DataView, at: number): number {
    const t = this.tree;
    const p = t.page(id);
    const i = id & PAGE_MASK;
    const s = this.savedRecords.get(id);
    const pathLen = p.pathLen[i] as number;
    view.setInt32(at, pathLen);
    at += 4;
    t.paths.copyTo(p.pathH[i] as number, pathLen, out, at);
    at += pathLen;
    const dataLen = s ? s.dataLen : (p.dataLen[i] as number);
    view.setInt32(at, dataLen);
    at += 4;
    if (dataLen > 0) {
      t.datas.copyTo(s ? s.dataH : (p.dataH[i] as number), dataLen, out, at);
      at += dataLen;
    }
    if (s) {
      view.setInt32(at, s.acl);
      view.setBigInt64(at + 4, s.czxid);
      view.setBigInt64(at + 12, s.mzxid);
      view.setBigInt64(at + 20, s.ctime);
      view.setBigInt64(at + 28, s.mtime);
      view.setInt32(at + 36, s.version);
      view.setInt32(at + 40, s.cversion);
      view.setInt32(at + 44, s.aversion);
      view.setBigInt64(at + 48, s.owner);
      view.setBigInt64(at + 56, s.pzxid);
      return at + 64;
    }
    // Longs as two words each, straight from the columns: no BigInt per field.
    const w = p.longs;
    const long = (col: number, off: number): void => {
      const k = (col * PAGE_SIZE + i) * 2;
      view.setUint32(off, w[k + 1] as number);
      view.setUint32(off + 4, w[k] as number);
    };
    view.setInt32(at, p.acl[i] as number);
    long(LONG_COLUMN.czxid, at + 4);
    long(LONG_COLUMN.mzxid, at + 12);
    long(LONG_COLUMN.ctime, at + 20);
    long(LONG_COLUMN.mtime, at + 28);
    view.setInt32(at + 36, p.version[i] as number);
    view.setInt32(at + 40, p.cversion[i] as number);
    view.setInt32(at + 44, p.aversion[i] as number);
    long(LONG_COLUMN.owner, at + 48);
    long(LONG_COLUMN.pzxid, at + 56);
    return at + 64;
  }
}
