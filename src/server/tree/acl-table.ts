/**
 * Interned ACL lists, as ZooKeeper's ReferenceCountedACLCache keeps them: most znodes share
 * one of a handful of lists, so a node stores a small int and each distinct list exists once.
 *
 * The lists handed out are frozen: callers read them (checkACL, getACL) and never own them.
 * An id whose count reaches zero is freed, except while the tree holds it for a snapshot
 * image (see DataTree.defer).
 */
import type { ACL } from './types.js';

function keyOf(acl: readonly ACL[]): string {
  let k = '';
  for (const a of acl) k += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`;
  return k;
}

export class AclTable {
  private readonly lists: (readonly ACL[] | undefined)[] = [];
  private readonly keys: string[] = [];
  private readonly refs: number[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly freeIds: number[] = [];

  /** The id of this list (interning it if new), with one more reference. */
  intern(acl: readonly ACL[]): number {
    const key = keyOf(acl);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.freeIds.pop() ?? this.lists.length;
      const frozen = Object.freeze(acl.map((a) => Object.freeze({ perms: a.perms, id: Object.freeze({ scheme: a.id.scheme, id: a.id.id }) })));
      this.lists[id] = frozen;
      this.keys[id] = key;
      this.refs[id] = 0;
      this.byKey.set(key, id);
    }
    this.refs[id]!++;
    return id;
  }

  /** One more reference to an interned id. */
  ref(id: number): void {
    this.refs[id]!++;
  }

  get(id: number): readonly ACL[] {
    return this.lists[id] as readonly ACL[];
  }

  /** Drops one reference; returns true when that was the last one (the caller frees it). */
  unref(id: number): boolean {
    return --this.refs[id]! === 0;
  }

  /** Frees an id with no references left (still none: it may have been re-interned since). */
  free(id: number): void {
    if (this.refs[id] !== 0 || this.lists[id] === undefined) return;
    this.byKey.delete(this.keys[id] as string);
    this.lists[id] = undefined;
    this.keys[id] = '';
    this.freeIds.push(id);
  }

  /** Ids in use, with their lists. */
  *entries(): Generator<[number, readonly ACL[]]> {
    for (let id = 0; id < this.lists.length; id++) {
      const l = this.lists[id];
      if (l !== undefined) yield [id, l];
    }
  }

  get size(): number {
    return this.byKey.size;
  }
}
