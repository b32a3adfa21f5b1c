/**
 * Data structures of the WGL search (wgl.ts): the lists of ops that may be linearized next, and
 * the memo of finished configurations.
 */
import type { RegisterOp, RegisterState } from './register-model.js';
import { stateKey } from './register-model.js';

export const NIL = -1;

export interface TimedOp {
  readonly invoke: number;
  /** Infinity for an indeterminate op. */
  readonly complete: number;
}

/**
 * Unlinearized ops in two invocation-ordered lists, determinate ops first (an indeterminate op is
 * tried only after every determinate candidate, so it stays out of the way until some op needs its
 * effect), plus determinate ops in completion order for the real-time bound. Ops are unlinked and
 * relinked in LIFO order as the search descends and backtracks ("dancing links"), so finding the
 * next candidates never scans finished ops. Indeterminate ops never complete, so they are absent
 * from the completion list.
 */
export class Candidates {
  private readonly headDet: number;
  private readonly headInd: number;
  private readonly invNext: Int32Array;
  private readonly invPrev: Int32Array;
  private readonly cmpNext: Int32Array;
  private readonly cmpPrev: Int32Array;

  constructor(private readonly ops: readonly TimedOp[]) {
    const n = ops.length;
    this.headDet = n;
    this.headInd = n + 1;
    this.invNext = new Int32Array(n + 2);
    this.invPrev = new Int32Array(n + 2);
    this.cmpNext = new Int32Array(n + 1);
    this.cmpPrev = new Int32Array(n + 1);
    const byInvoke = (a: number, b: number): number => this.at(a).invoke - this.at(b).invoke || this.at(a).complete - this.at(b).complete || a - b;
    const all = Array.from({ length: n }, (_, i) => i);
    const dets = all.filter((i) => this.isDet(i)).sort(byInvoke);
    this.link(this.headDet, dets, this.invNext, this.invPrev);
    this.link(this.headInd, all.filter((i) => !this.isDet(i)).sort(byInvoke), this.invNext, this.invPrev);
    this.link(this.headDet, [...dets].sort((a, b) => this.at(a).complete - this.at(b).complete || byInvoke(a, b)), this.cmpNext, this.cmpPrev);
  }

  /** Indeterminate ops in the order they are tried. */
  indeterminateOrder(): number[] {
    const out: number[] = [];
    for (let x = this.invNext[this.headInd]!; x !== NIL; x = this.invNext[x]!) out.push(x);
    return out;
  }

  isDet(i: number): boolean {
    return this.at(i).complete !== Infinity;
  }

  /** True once every determinate op is linearized. */
  allDone(): boolean {
    return this.cmpNext[this.headDet] === NIL;
  }

  /** An op may go next iff no unlinearized op completed before it was invoked: invoke <= limit. */
  limit(): number {
    const first = this.cmpNext[this.headDet]!;
    return first === NIL ? Infinity : this.at(first).complete;
  }

  /** The first candidate (NIL if none). */
  first(): number {
    return this.after(this.headDet);
  }

  /** The candidate after `x` (an op, or a list head): same list, then the indeterminate list. */
  after(x: number): number {
    const limit = this.limit();
    const y = this.invNext[x]!;
    if (y !== NIL && this.at(y).invoke <= limit) return y;
    if (x !== this.headDet && (x === this.headInd || !this.isDet(x))) return NIL;
    const z = this.invNext[this.headInd]!;
    return z !== NIL && this.at(z).invoke <= limit ? z : NIL;
  }

  /** The determinate candidates, in invocation order. */
  *determinate(): Generator<number> {
    const limit = this.limit();
    for (let x = this.invNext[this.headDet]!; x !== NIL && this.at(x).invoke <= limit; x = this.invNext[x]!) yield x;
  }

  lift(i: number): void {
    Candidates.unlink(i, this.invNext, this.invPrev);
    if (this.isDet(i)) Candidates.unlink(i, this.cmpNext, this.cmpPrev);
  }

  /** Undo the latest lift(i). */
  unlift(i: number): void {
    Candidates.relink(i, this.invNext, this.invPrev);
    if (this.isDet(i)) Candidates.relink(i, this.cmpNext, this.cmpPrev);
  }

  private at(i: number): TimedOp {
    return this.ops[i] as TimedOp;
  }

  private link(head: number, order: number[], next: Int32Array, prev: Int32Array): void {
    let p = head;
    for (const i of order) {
      next[p] = i;
      prev[i] = p;
      p = i;
    }
    next[p] = NIL;
  }

  private static unlink(i: number, next: Int32Array, prev: Int32Array): void {
    next[prev[i]!] = next[i]!;
    if (next[i] !== NIL) prev[next[i]!] = prev[i]!;
  }

  private static relink(i: number, next: Int32Array, prev: Int32Array): void {
    next[prev[i]!] = i;
    if (next[i] !== NIL) prev[next[i]!] = i;
  }
}

/**
 * The linearized set, as two bitsets (determinate ops D, indeterminate ops I), and the memo of
 * FINISHED configurations (fully explored without success). A configuration (D, s, I) is pruned
 * if a finished one (D, s, J) has J ⊆ I: it has the same state and at least the same ops left to
 * place (indeterminate ops are optional), so everything it could reach was already tried. With
 * J = I this is Lowe's memoisation; J ⊂ I prunes, e.g., an indeterminate create+delete pair that
 * returns to a state already explored. Only finished configurations are used: an in-progress one
 * can't equal the current one (that has more ops placed than any ancestor) and pruning against
 * ancestors would need a subtler argument.
 * Keys are exact strings of 16-bit words: a hash collision could prune wrongly and invent a violation.
 */
export class LinearizedSet {
  private readonly pos: Int32Array;
  private readonly det: Uint16Array;
  private readonly ind: Uint16Array;
  private readonly finished = new Map<string, Uint16Array[]>();

  constructor(n: number, private readonly isDet: (i: number) => boolean) {
    this.pos = new Int32Array(n);
    let d = 0, k = 0;
    for (let i = 0; i < n; i++) this.pos[i] = isDet(i) ? d++ : k++;
    this.det = new Uint16Array(Math.ceil(d / 16));
    this.ind = new Uint16Array(Math.ceil(k / 16));
  }

  flip(i: number): void {
    const p = this.pos[i]!, words = this.isDet(i) ? this.det : this.ind;
    words[p >> 4] = (words[p >> 4] ?? 0) ^ (1 << (p & 15));
  }

  has(i: number): boolean {
    const p = this.pos[i]!, words = this.isDet(i) ? this.det : this.ind;
    return ((words[p >> 4] ?? 0) & (1 << (p & 15))) !== 0;
  }

  private key(s: RegisterState): string {
    return `${String.fromCharCode(...this.det)}|${stateKey(s)}`;
  }

  /** Whether the current set with state `s` is dominated by a finished configuration. */
  pruned(s: RegisterState): boolean {
    const list = this.finished.get(this.key(s));
    return list !== undefined && list.some((j) => subset(j, this.ind));
  }

  /** Record the current set with state `s` as finished. */
  finish(s: RegisterState): void {
    const k = this.key(s);
    const mine = Uint16Array.from(this.ind);
    // Entries that the new one dominates can never prune anything it doesn't.
    const list = (this.finished.get(k) ?? []).filter((j) => !subset(mine, j));
    list.push(mine);
    this.finished.set(k, list);
  }
}

function subset(a: Uint16Array, b: Uint16Array): boolean {
  for (let w = 0; w < a.length; w++) if (((a[w] ?? 0) & ~(b[w] ?? 0)) !== 0) return false;
  return true;
}

/**
 * Indeterminate ops grouped by effect, to cut the orders in which the search tries them. Two
 * unread-value sets with the same expected version (or two deletes, or two unread creates) do the
 * same to every state, so only the earliest-invoked unplaced one of a group is tried: whatever a
 * later one could do, the earlier one can do at the same point. Likewise an unconditional set or
 * delete is not tried while a conditional one for the current version is available: the
 * unconditional op could stand in for the conditional one anywhere later, not vice versa. (Each
 * is an exchange argument: any linearization can be rewritten to follow the rule.)
 */
export class IndeterminateClasses {
  private readonly cls: Int32Array;
  private readonly members: number[][] = [];
  private readonly placedCount: number[] = [];
  /** Class of the unread-value set / the delete with a given expected version. */
  private readonly conditional = { set: new Map<number, number>(), delete: new Map<number, number>() };

  /** `order`: the indeterminate ops in invocation order. */
  constructor(private readonly ops: readonly { readonly op: RegisterOp; readonly invoke: number }[], order: number[], private readonly observed: ReadonlySet<string>) {
    this.cls = new Int32Array(ops.length).fill(NIL);
    const ids = new Map<string, number>();
    for (const i of order) {
      const o = this.op(i);
      const value = 'value' in o ? (observed.has(o.value) ? `=${o.value}` : '?') : '';
      const version = 'expectedVersion' in o ? o.expectedVersion : -1;
      const key = `${o.type}|${version}|${value}`;
      let c = ids.get(key);
      if (c === undefined) {
        c = this.members.length;
        ids.set(key, c);
        this.members.push([]);
        this.placedCount.push(0);
        if (version !== -1 && (o.type === 'delete' || (o.type === 'set' && value === '?'))) this.conditional[o.type].set(version, c);
      }
      this.cls[i] = c;
      this.members[c]?.push(i);
    }
  }

  /** May indeterminate op `i` be tried now, on a register at `version`, given the real-time `limit`? */
  allowed(i: number, version: number | undefined, limit: number): boolean {
    const c = this.cls[i]!;
    if (this.first(c) !== i) return false;
    const o = this.op(i);
    if (version === undefined || !(o.type === 'delete' || (o.type === 'set' && !this.observed.has(o.value))) || o.expectedVersion !== -1) return true;
    const alt = this.conditional[o.type].get(version);
    const m = alt === undefined ? undefined : this.first(alt);
    return m === undefined || (this.ops[m]?.invoke ?? Infinity) > limit;
  }

  placed(i: number): void {
    this.placedCount[this.cls[i]!]! += 1;
  }

  unplaced(i: number): void {
    this.placedCount[this.cls[i]!]! -= 1;
  }

  private first(c: number): number | undefined {
    return this.members[c]?.[this.placedCount[c]!];
  }

  private op(i: number): RegisterOp {
    return (this.ops[i] as { op: RegisterOp }).op;
  }
}
