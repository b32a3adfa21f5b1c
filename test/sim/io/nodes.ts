/**
 * Inodes of the simulated file system and how their pending (unsynced) operations become
 * durable. Each node holds two states: `volatile` (what a running process sees) and `durable`
 * (what survives a power cut). Mutations change volatile state and are queued as pending ops;
 * a sync moves them, in order, into the durable state.
 */
import { Bytes } from './bytes.js';

export type FileOp = { kind: 'write'; pos: number; data: Buffer } | { kind: 'truncate'; size: number };

export class FileNode {
  readonly kind = 'file' as const;
  volatile = new Bytes();
  durable = new Bytes();
  /** Unsynced writes and truncations, oldest first. */
  pending: FileOp[] = [];
  /** Volatile directory entries naming this file. */
  nlink = 0;
  /** Open handles of the current incarnation. */
  opens = 0;
  constructor(readonly ino: number) {}
}

/**
 * A rename appears once in a same-directory rename and, as the same object, in both lists
 * of a cross-directory rename: both halves must become durable together (a journalling file
 * system commits it as one transaction), so the file is never durably in neither place.
 */
export type RenameOp = { kind: 'rename'; seq: number; src: DirNode; from: string; dst: DirNode; to: string; node: Node; applied: boolean };
export type DirOp = { kind: 'set'; seq: number; name: string; node: Node } | { kind: 'delete'; seq: number; name: string } | RenameOp;

export class DirNode {
  readonly kind = 'dir' as const;
  entries = new Map<string, Node>();
  durable = new Map<string, Node>();
  /** Unsynced entry changes, oldest first (seq increases along the list). */
  pending: DirOp[] = [];
  constructor(readonly ino: number) {}
}

export type Node = FileNode | DirNode;

export function applyFileOp(b: Bytes, op: FileOp): void {
  if (op.kind === 'write') b.write(op.pos, op.data);
  else b.truncate(op.size);
}

/** fsync of a file: every pending op, in order, reaches the durable data. */
export function commitFile(f: FileNode): void {
  for (const op of f.pending) applyFileOp(f.durable, op);
  f.pending = [];
}

/**
 * Makes `dir`'s pending ops with seq <= upTo durable. A cross-directory rename among them
 * first commits the other directory's earlier ops, as a journal commit would, so that names
 * touched by both are updated in the order they were changed.
 */
export function commitDir(dir: DirNode, upTo: number): void {
  while (dir.pending.length > 0 && dir.pending[0]!.seq <= upTo) {
    const op = dir.pending.shift()!;
    if (op.kind === 'set') dir.durable.set(op.name, op.node);
    else if (op.kind === 'delete') dir.durable.delete(op.name);
    else if (!op.applied) {
      if (op.src !== op.dst) {
        const other = op.src === dir ? op.dst : op.src;
        commitDir(other, op.seq - 1);
        const i = other.pending.indexOf(op);
        if (i >= 0) other.pending.splice(i, 1);
      }
      op.applied = true;
      if (op.src.durable.get(op.from) === op.node) op.src.durable.delete(op.from);
      op.dst.durable.set(op.to, op.node);
    }
  }
}

/** Final size after applying `ops` to a file of `size` bytes. */
export function sizeAfter(size: number, ops: readonly FileOp[]): number {
  for (const op of ops) size = op.kind === 'write' ? Math.max(size, op.pos + op.data.length) : op.size;
  return size;
}
