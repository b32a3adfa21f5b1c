/** The power-loss model: which unsynced operations survive. The rules are stated in sim-fs.ts. */
import type { Prng } from '../prng.js';
import { Bytes } from './bytes.js';
import { applyFileOp, commitDir, sizeAfter, type DirNode, type FileNode, type FileOp } from './nodes.js';

export interface CrashTuning {
  /** Chance that the first lost write of a file is partly on disk. Default 0.5. */
  tearProbability?: number;
  /** Chance that a tear falls on a 512-byte sector boundary rather than any byte. Default 0.5. */
  sectorProbability?: number;
  /** Chance that a file's size reaches further than its surviving data, the gap reading as zeros. Default 0.05. */
  zeroTailProbability?: number;
  /**
   * Chance that a file's unsynced writes survive as an arbitrary subset of 512-byte sectors
   * instead of a prefix (device write-cache reordering). Default 0: opt-in, see sim-fs.ts.
   */
  scatterProbability?: number;
}

export const SECTOR = 512;

export function crashDirectories(dirs: Iterable<DirNode>, rng: Prng): void {
  // Pick every cut before applying any: commits pull ops out of other directories' lists.
  const cuts: Array<[DirNode, number]> = [];
  for (const d of dirs) {
    const k = rng.int(0, d.pending.length);
    cuts.push([d, k === 0 ? -1 : d.pending[k - 1]!.seq]);
  }
  for (const [d, upTo] of cuts) commitDir(d, upTo);
  for (const [d] of cuts) d.pending = [];
}

/** What the file holds after the power cut (its pending ops are left for the caller to clear). */
export function crashFile(f: FileNode, rng: Prng, t: Required<CrashTuning>): Bytes {
  const out = f.durable.clone();
  const ops = f.pending;
  if (ops.length === 0) return out;
  if (rng.chance(t.scatterProbability)) {
    scatter(out, ops, rng);
    return out;
  }
  const k = rng.int(0, ops.length);
  for (let i = 0; i < k; i++) applyFileOp(out, ops[i]!);
  const next = ops[k];
  if (next?.kind === 'write' && rng.chance(t.tearProbability)) {
    const cut = tearPoint(next, rng, rng.chance(t.sectorProbability));
    if (cut > 0) out.write(next.pos, next.data.subarray(0, cut));
  }
  if (k < ops.length && rng.chance(t.zeroTailProbability)) {
    // The inode's new size was committed but the data blocks never were.
    const size = sizeAfter(f.durable.size, ops.slice(0, rng.int(k + 1, ops.length)));
    if (size > out.size) out.truncate(size);
  }
  return out;
}

/** How many leading bytes of `w` reached the disk. */
function tearPoint(w: Extract<FileOp, { kind: 'write' }>, rng: Prng, sectors: boolean): number {
  const len = w.data.length;
  if (len <= 1) return 0;
  if (!sectors) return rng.int(0, len - 1);
  const cuts = [0];
  for (let b = (Math.floor(w.pos / SECTOR) + 1) * SECTOR; b < w.pos + len; b += SECTOR) cuts.push(b - w.pos);
  return rng.pick(cuts);
}

/** Each sector of each unsynced write independently did or did not reach the disk. */
function scatter(out: Bytes, ops: readonly FileOp[], rng: Prng): void {
  for (const op of ops) {
    if (op.kind === 'truncate') {
      if (rng.chance(0.5)) out.truncate(op.size);
      continue;
    }
    for (let p = op.pos; p < op.pos + op.data.length; ) {
      const end = Math.min(op.pos + op.data.length, (Math.floor(p / SECTOR) + 1) * SECTOR);
      if (rng.chance(0.5)) out.write(p, op.data.subarray(p - op.pos, end - op.pos));
      p = end;
    }
  }
}
