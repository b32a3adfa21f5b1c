/**
 * The synchronous core of the simulated file system: the directory tree, every mutation
 * (recorded as pending for crash purposes), syncs with injected failures, the space limit
 * and the power cut. SimFileSystem wraps it in scheduled, asynchronous calls.
 */
import { posix } from 'node:path';
import type { Prng } from '../prng.js';
import { crashDirectories, crashFile, type CrashTuning } from './crash.js';
import { fsError } from './errors.js';
import { commitDir, commitFile, DirNode, FileNode, type DirOp, type Node } from './nodes.js';

export type SyncFault = { match: (path: string) => boolean; code: string };

export interface SimFsCounters {
  /** Successful datasync()/sync() calls, on files and directories. */
  syncs: number;
  failedSyncs: number;
  writes: number;
  bytesWritten: number;
  crashes: number;
}

export function normalize(p: string, syscall: string): string {
  if (typeof p !== 'string' || !p.startsWith('/')) throw fsError('EINVAL', syscall, String(p));
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function split(p: string): { parent: string; name: string } {
  return { parent: posix.dirname(p), name: posix.basename(p) };
}

export class Volume {
  root: DirNode;
  /** Bumped by every crash: handles of an earlier incarnation are dead. */
  generation = 0;
  spaceLimit: number | undefined;
  readonly faults: SyncFault[] = [];
  readonly counters: SimFsCounters = { syncs: 0, failedSyncs: 0, writes: 0, bytesWritten: 0, crashes: 0 };
  private nextIno = 1;
  private seq = 0;
  /** Every directory whose pending ops may matter at a crash. */
  private dirs = new Set<DirNode>();
  /** Files that hold space: linked, or unlinked but still open. */
  private live = new Set<FileNode>();

  constructor(
    private readonly rng: Prng,
    private readonly tuning: Required<CrashTuning>,
  ) {
    this.root = this.newDir();
  }

  // ---- lookup ----

  lookup(p: string): Node | undefined {
    let cur: Node = this.root;
    for (const part of p.split('/')) {
      if (part === '') continue;
      if (cur.kind !== 'dir') return undefined;
      const next: Node | undefined = cur.entries.get(part);
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }

  need(p: string, syscall: string): Node {
    const n = this.lookup(p);
    if (!n) throw fsError(this.parentIsFile(p) ? 'ENOTDIR' : 'ENOENT', syscall, p);
    return n;
  }

  /** The directory that would hold `p`. */
  parentDir(p: string, syscall: string, dest?: string): DirNode {
    const parent = this.lookup(split(p).parent);
    if (!parent) throw fsError('ENOENT', syscall, dest ?? p);
    if (parent.kind !== 'dir') throw fsError('ENOTDIR', syscall, dest ?? p);
    return parent;
  }

  private parentIsFile(p: string): boolean {
    for (let q = split(p).parent; ; q = split(q).parent) {
      const n = this.lookup(q);
      if (n) return n.kind === 'file';
      if (q === '/') return false;
    }
  }

  // ---- namespace mutations ----

  createFile(p: string, syscall: string): FileNode {
    const dir = this.parentDir(p, syscall);
    const f = new FileNode(this.nextIno++);
    this.live.add(f);
    this.setEntry(dir, split(p).name, f);
    return f;
  }

  mkdirp(p: string): void {
    let cur = '/';
    for (const part of p.split('/').filter((s) => s !== '')) {
      const next = posix.join(cur, part);
      const n = this.lookup(next);
      if (!n) this.setEntry(this.lookup(cur) as DirNode, part, this.newDir());
      else if (n.kind !== 'dir') throw fsError(next === p ? 'EEXIST' : 'ENOTDIR', 'mkdir', p);
      cur = next;
    }
  }

  rename(from: string, to: string): void {
    const node = this.need(from, 'rename');
    const dst = this.parentDir(to, 'rename', to);
    if (from === '/' || to === '/') throw fsError('EBUSY', 'rename', from, to);
    const target = this.lookup(to);
    if (target === node) return; // POSIX: two names of one file, nothing to do
    if (node.kind === 'dir' && (to + '/').startsWith(from + '/')) throw fsError('EINVAL', 'rename', from, to);
    if (target) {
      if (node.kind === 'file' && target.kind === 'dir') throw fsError('EISDIR', 'rename', from, to);
      if (node.kind === 'dir' && target.kind === 'file') throw fsError('ENOTDIR', 'rename', from, to);
      if (target.kind === 'dir' && target.entries.size > 0) throw fsError('ENOTEMPTY', 'rename', from, to);
    }
    const src = this.lookup(split(from).parent) as DirNode;
    const [a, b] = [split(from).name, split(to).name];
    src.entries.delete(a);
    dst.entries.set(b, node);
    if (target) this.dropLink(target);
    const op: DirOp = { kind: 'rename', seq: this.seq++, src, from: a, dst, to: b, node, applied: false };
    src.pending.push(op);
    if (dst !== src) dst.pending.push(op);
  }

  unlink(p: string): void {
    const node = this.need(p, 'unlink');
    if (node.kind === 'dir') throw fsError('EISDIR', 'unlink', p);
    const dir = this.parentDir(p, 'unlink');
    dir.entries.delete(split(p).name);
    dir.pending.push({ kind: 'delete', seq: this.seq++, name: split(p).name });
    this.dropLink(node);
  }

  link(existing: string, p: string): void {
    const node = this.need(existing, 'link');
    if (node.kind === 'dir') throw fsError('EPERM', 'link', existing, p);
    const dir = this.parentDir(p, 'link', p);
    if (this.lookup(p)) throw fsError('EEXIST', 'link', existing, p);
    this.setEntry(dir, split(p).name, node);
  }

  private setEntry(dir: DirNode, name: string, node: Node): void {
    dir.entries.set(name, node);
    dir.pending.push({ kind: 'set', seq: this.seq++, name, node });
    if (node.kind === 'file') node.nlink++;
  }

  private dropLink(node: Node): void {
    if (node.kind === 'dir') return;
    node.nlink--;
    this.release(node);
  }

  /** Frees the space of a file that has neither names nor open handles. */
  release(f: FileNode): void {
    if (f.nlink <= 0 && f.opens <= 0) this.live.delete(f);
  }

  private newDir(): DirNode {
    const d = new DirNode(this.nextIno++);
    this.dirs.add(d);
    return d;
  }

  // ---- data ----

  usedBytes(): number {
    let n = 0;
    for (const f of this.live) n += f.volatile.size;
    return n;
  }

  /** Returns how many bytes were written: fewer than asked when the disk fills up mid-way. */
  write(f: FileNode, pos: number, data: Buffer, path: string): number {
    let n = data.length;
    if (this.spaceLimit !== undefined && n > 0) {
      const free = Math.max(0, this.spaceLimit - this.usedBytes());
      if (pos + n - f.volatile.size > free) {
        n = Math.min(n, f.volatile.size + free - pos);
        if (n <= 0) throw fsError('ENOSPC', 'write', path);
      }
    }
    if (n === 0) return 0;
    const chunk = Buffer.from(data.subarray(0, n));
    f.volatile.write(pos, chunk);
    f.pending.push({ kind: 'write', pos, data: chunk });
    this.counters.writes++;
    this.counters.bytesWritten += n;
    return n;
  }

  truncate(f: FileNode, size: number): void {
    f.volatile.truncate(size);
    f.pending.push({ kind: 'truncate', size });
  }

  sync(node: Node, path: string): void {
    const i = this.faults.findIndex((fault) => fault.match(path));
    if (i >= 0) {
      const fault = this.faults.splice(i, 1)[0]!;
      this.counters.failedSyncs++;
      // fsyncgate: the kernel dropped the dirty pages and cleared the error; those writes
      // will never reach the disk, even though reads keep returning them until a crash.
      if (node.kind === 'file') node.pending = [];
      throw fsError(fault.code, 'fsync', path);
    }
    this.counters.syncs++;
    if (node.kind === 'file') commitFile(node);
    else commitDir(node, Infinity);
  }

  // ---- power cut ----

  crash(): void {
    this.generation++;
    this.counters.crashes++;
    crashDirectories(this.dirs, this.rng);
    const dirs = new Set<DirNode>();
    const files = new Set<FileNode>();
    const visit = (d: DirNode): void => {
      dirs.add(d);
      for (const name of [...d.durable.keys()].sort()) {
        const n = d.durable.get(name)!;
        if (n.kind === 'dir') {
          if (!dirs.has(n)) visit(n);
        } else if (!files.has(n)) {
          files.add(n);
          n.nlink = 0;
        }
      }
    };
    visit(this.root);
    for (const f of files) {
      f.durable = crashFile(f, this.rng, this.tuning);
      f.volatile = f.durable.clone();
      f.pending = [];
      f.opens = 0;
    }
    for (const d of dirs) {
      d.entries = new Map(d.durable);
      for (const n of d.entries.values()) if (n.kind === 'file') n.nlink++;
    }
    this.dirs = dirs;
    this.live = files;
  }

  // ---- inspection ----

  /** Paths of the files reachable in the given view, sorted. */
  files(view: 'volatile' | 'durable'): string[] {
    const out: string[] = [];
    const walk = (d: DirNode, prefix: string): void => {
      const entries = view === 'volatile' ? d.entries : d.durable;
      for (const [name, n] of entries) {
        const p = prefix === '/' ? `/${name}` : `${prefix}/${name}`;
        if (n.kind === 'dir') walk(n, p);
        else out.push(p);
      }
    };
    walk(this.root, '/');
    return out.sort();
  }

  /** The node at `p` through durable entries only: what a power cut would keep at the least. */
  durableNode(p: string): Node | undefined {
    let cur: Node = this.root;
    for (const part of p.split('/')) {
      if (part === '') continue;
      if (cur.kind !== 'dir') return undefined;
      const next: Node | undefined = cur.durable.get(part);
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }
}
