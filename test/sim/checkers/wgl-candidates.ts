/** The WGL search's (wgl.ts) lists of ops that may be linearized next. */

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

  /** Determinate ops in completion order (ties: invocation, then index). */
  completionOrder(): number[] {
    const out: number[] = [];
    for (let x = this.cmpNext[this.headDet]!; x !== NIL; x = this.cmpNext[x]!) out.push(x);
    return out;
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
