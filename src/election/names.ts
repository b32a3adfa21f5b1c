/**
 * Pure naming and ordering rules for election nodes.
 *
 * Our nodes are `_c_<uuid>-__lock__<seq>`. The `__lock__` infix is what kazoo's
 * Election/Lock match (`__lock__(-?\d{10})$`), so kazoo and zk-elect candidates on one
 * path agree on the order. Curator's LeaderLatch nodes (`_c_<uuid>-latch-<seq>`) end in a
 * sequence too, so we order them correctly (Curator cannot order ours: it sorts on the
 * text after `latch-`).
 */
import { InvalidArgumentError } from './errors.js';

const LOCK_INFIX = '__lock__';
const INT32_MAX = 2 ** 31 - 1;

/** The name we ask ZooKeeper to create; it appends a 10-digit sequence. */
export function candidatePrefix(uuid: string): string {
  return `_c_${uuid}-${LOCK_INFIX}`;
}

/** True when `child` was created by us with this uuid (whatever its sequence). */
export function isOwnedByUuid(child: string, uuid: string): boolean {
  return child.startsWith(candidatePrefix(uuid)) && parseSequence(child) !== undefined;
}

/**
 * The sequence number ZooKeeper appended, or undefined when `name` does not end in one.
 *
 * ZooKeeper formats the parent's cversion with `%010d`. After 2^31 creations it wraps
 * negative: `-000000003` (a sign and 9 digits) or `-2147483648`. We return the value as
 * an unsigned 32-bit number so that wrapped sequences sort after the ones before the wrap.
 */
export function parseSequence(name: string): number | undefined {
  const positive = /(\d{10})$/.exec(name);
  if (positive) {
    const value = Number(positive[1]);
    if (value <= INT32_MAX) return value;
    // "-2147483648": ten digits above INT32_MAX can only be a negative number's digits.
    if (value === 2 ** 31 && name.at(-11) === '-') return 2 ** 31;
    return undefined;
  }
  const negative = /-(\d{9})$/.exec(name);
  if (negative) return 2 ** 32 - Number(negative[1]);
  return undefined;
}

export interface OrderedChild {
  readonly name: string;
  readonly sequence: number;
}

/** Children that are candidates, ordered first-come first. Others are ignored. */
export function orderCandidates(children: readonly string[]): OrderedChild[] {
  const out: OrderedChild[] = [];
  for (const name of children) {
    const sequence = parseSequence(name);
    if (sequence !== undefined) out.push({ name, sequence });
  }
  out.sort((a, b) => a.sequence - b.sequence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/**
 * Validates a ZooKeeper path the way the server does, so a bad path fails here with a
 * clear message instead of as ZBADARGUMENTS from deep inside an operation.
 */
export function validatePath(path: string): string {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`invalid ZooKeeper path ${JSON.stringify(path)}: ${why}`);
  };
  if (typeof path !== 'string' || path.length === 0) fail('it is empty');
  if (!path.startsWith('/')) fail('it must start with "/"');
  if (path.length > 1 && path.endsWith('/')) fail('it must not end with "/"');
  if (path.includes('//')) fail('it contains an empty segment ("//")');
  for (const segment of path.split('/').slice(1)) {
    if (segment === '.' || segment === '..') fail('relative segments ("." or "..") are not allowed');
  }
  if (path === '/zookeeper' || path.startsWith('/zookeeper/')) fail('/zookeeper is reserved for the server');
  for (const ch of path) {
    const c = ch.codePointAt(0)!;
    if (c === 0 || (c > 0 && c < 0x20) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      fail(`it contains the disallowed character U+${c.toString(16).padStart(4, '0')}`);
    }
  }
  return path;
}

/** `/a/b` and `c` -> `/a/b/c`; `/` and `c` -> `/c`. */
export function joinPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

/** Every ancestor of `path` including itself, shortest first: `/a/b` -> [`/a`, `/a/b`]. */
export function ancestry(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}
