/**
 * How the searches (wgl.ts, jit.ts) tell configurations apart and prune them. Indeterminate ops (a
 * client timed out) are what make register histories expensive: each may be placed anywhere
 * after its invocation or never, so every configuration after them multiplies. Both classes
 * below rest on exchange arguments: any linearization can be rewritten to obey their rules.
 */
import type { RegisterOp, RegisterState } from './register-model.js';
import { stateKey } from './register-model.js';
import { NIL } from './wgl-candidates.js';

interface IndeterminateOp {
  readonly op: RegisterOp;
  readonly invoke: number;
}

/** 'set' / 'delete': unread-value sets and deletes, where unconditional subsumes conditional. */
type Group = 'set' | 'delete' | 'exact';

/**
 * Indeterminate ops grouped into classes with the same effect on every state: same op, where
 * values no read returned count as equal (the search merges them). Within a class only the
 * earliest-invoked unplaced op is tried: a later one could go nowhere the earlier one can't.
 * And an unconditional unread set (or delete) is not tried while a conditional one for the
 * current version is available: the unconditional op can stand in for it anywhere later, not
 * vice versa.
 */
export class IndeterminateClasses {
  readonly count: number;
  private readonly cls: Int32Array;
  private readonly members: number[][] = [];
  private readonly groups: Group[] = [];
  private readonly versions: number[] = [];
  readonly placedCount: Int32Array;
  /** Class of the conditional unread set / delete, by expected version. */
  private readonly conditional = { set: new Map<number, number>(), delete: new Map<number, number>() };
  private readonly unconditional = { set: NIL, delete: NIL };

  /** `order`: the indeterminate ops in invocation order. */
  constructor(private readonly ops: readonly IndeterminateOp[], order: number[], observed: ReadonlySet<string>) {
    this.cls = new Int32Array(ops.length).fill(NIL);
    const ids = new Map<string, number>();
    for (const i of order) {
      const o = this.op(i);
      const unread = !('value' in o) || !observed.has(o.value);
      const version = 'expectedVersion' in o ? o.expectedVersion : -1;
      const key = `${o.type}|${version}|${unread ? '' : `=${'value' in o ? o.value : ''}`}`;
      let c = ids.get(key);
      if (c === undefined) {
        c = this.members.length;
        ids.set(key, c);
        this.members.push([]);
        const group: Group = (o.type === 'set' && unread) || o.type === 'delete' ? o.type : 'exact';
        this.groups.push(group);
        this.versions.push(version);
        if (group !== 'exact') {
          if (version === -1) this.unconditional[group] = c;
          else this.conditional[group].set(version, c);
        }
      }
      this.cls[i] = c;
      this.members[c]?.push(i);
    }
    this.count = this.members.length;
    this.placedCount = new Int32Array(this.count);
  }

  /**
   * May indeterminate op `i` be tried now, on a register at `version`, when ops invoked up to
   * `limit` are available and `counts` ops of each class are placed (default: placedCount)?
   */
  allowed(i: number, version: number | undefined, limit: number, counts: Int32Array = this.placedCount): boolean {
    const c = this.cls[i]!;
    if (this.first(c, counts) !== i) return false;
    const g = this.groups[c]!;
    if (version === undefined || g === 'exact' || this.versions[c] !== -1) return true;
    const alt = this.conditional[g].get(version);
    const m = alt === undefined ? undefined : this.first(alt, counts);
    return m === undefined || (this.ops[m]?.invoke ?? Infinity) > limit;
  }

  /** The next op of each class, in class order (undefined when a class is used up). */
  nextOfEach(counts: Int32Array): (number | undefined)[] {
    return this.members.map((_, c) => this.first(c, counts));
  }

  classOf(i: number): number {
    return this.cls[i]!;
  }

  placed(i: number): void {
    this.placedCount[this.cls[i]!]! += 1;
  }

  unplaced(i: number): void {
    this.placedCount[this.cls[i]!]! -= 1;
  }

  /**
   * With the same determinate ops placed (so the same ops available) and the same state, a
   * configuration that placed `a` of each class can do everything one that placed `b` can,
   * if it has at least as many ops of each class left, counting an unconditional unread set
   * (delete) as able to stand in for any conditional one.
   */
  covers(a: Int32Array, b: Int32Array, aAt = 0, bAt = 0): boolean {
    let slackSet = 0, slackDelete = 0;
    const u = this.unconditional;
    if (u.set !== NIL) slackSet = b[bAt + u.set]! - a[aAt + u.set]!;
    if (u.delete !== NIL) slackDelete = b[bAt + u.delete]! - a[aAt + u.delete]!;
    for (let c = 0; c < this.count; c++) {
      const extra = a[aAt + c]! - b[bAt + c]!;
      if (extra <= 0) continue;
      const g = this.groups[c]!;
      if (g === 'exact' || this.versions[c] === -1) return false;
      if (g === 'set') slackSet -= extra;
      else slackDelete -= extra;
    }
    return slackSet >= 0 && slackDelete >= 0;
  }

  private first(c: number, counts: Int32Array): number | undefined {
    return this.members[c]?.[counts[c]!];
  }

  private op(i: number): RegisterOp {
    return (this.ops[i] as IndeterminateOp).op;
  }
}

/**
 * The placed determinate ops and the memo of FINISHED configurations: fully explored without
 * success. A configuration is pruned
 * if a finished one with the same determinate ops and state covers it (see covers()):
 * everything it could reach was already tried. Equal placements make this Lowe's memoisation;
 * covering also prunes, e.g., an indeterminate create+delete pair that returns to an explored
 * state. Only finished configurations are used: an in-progress one (an ancestor) can't equal the
 * current one, which has more ops placed, and pruning against ancestors would need a subtler
 * argument.
 *
 * The determinate set is keyed compactly and exactly as (p, extras): the first p ops in
 * completion order are all placed, plus the few placed ops beyond them (at most the ops running
 * concurrently). A full bitset per entry would cost gigabytes on long histories.
 */
export class LinearizedSet {
  private readonly rank: Int32Array;
  private readonly bits: Uint16Array;
  private prefix = 0;
  private placedDet = 0;
  private readonly finished = new Map<string, number[]>();
  // Finished entries' class counts live in one growing arena (entry k at k × classes):
  // allocating a typed array per entry made the garbage collector the search's main cost.
  private arena = new Int32Array(0);
  private entries = 0;

  /** `byCompletion`: the determinate ops in completion order. */
  constructor(n: number, byCompletion: readonly number[], private readonly classes: IndeterminateClasses) {
    this.rank = new Int32Array(n).fill(NIL);
    byCompletion.forEach((i, r) => { this.rank[i] = r; });
    this.bits = new Uint16Array(Math.ceil(byCompletion.length / 16) + 1);
  }

  place(i: number): void {
    const r = this.rank[i]!;
    if (r === NIL) return this.classes.placed(i);
    this.flip(r);
    this.placedDet++;
    while (this.has(this.prefix)) this.prefix++;
  }

  /** Undo the latest place(i). */
  unplace(i: number): void {
    const r = this.rank[i]!;
    if (r === NIL) return this.classes.unplaced(i);
    this.flip(r);
    this.placedDet--;
    if (r < this.prefix) this.prefix = r;
  }

  /** Whether the current placement with state `s` is covered by a finished configuration. */
  pruned(s: RegisterState): boolean {
    const list = this.finished.get(this.key(s));
    const cw = this.classes.count;
    return list !== undefined && list.some((e) => this.classes.covers(this.arena, this.classes.placedCount, e * cw));
  }

  /** Record the current placement with state `s` as finished. */
  finish(s: RegisterState): void {
    const k = this.key(s);
    const cw = this.classes.count;
    if (this.entries * cw >= this.arena.length) {
      const grown = new Int32Array(Math.max(64, this.entries * 2) * cw);
      grown.set(this.arena);
      this.arena = grown;
    }
    this.arena.set(this.classes.placedCount, this.entries * cw);
    const e = this.entries++;
    const list = this.finished.get(k);
    if (list === undefined) {
      this.finished.set(k, [e]);
      return;
    }
    // Entries the new one covers can never prune anything it doesn't.
    for (let j = list.length - 1; j >= 0; j--) {
      if (this.classes.covers(this.arena, this.arena, e * cw, list[j]! * cw)) list.splice(j, 1);
    }
    list.push(e);
  }

  private has(r: number): boolean {
    return ((this.bits[r >> 4] ?? 0) & (1 << (r & 15))) !== 0;
  }

  private flip(r: number): void {
    this.bits[r >> 4] = (this.bits[r >> 4] ?? 0) ^ (1 << (r & 15));
  }

  private key(s: RegisterState): string {
    let k = `${this.prefix}`;
    for (let r = this.prefix + 1, left = this.placedDet - this.prefix; left > 0; r++) {
      if (this.has(r)) {
        k += `,${r}`;
        left--;
      }
    }
    return `${k}|${stateKey(s)}`;
  }
}
