/**
 * Pure naming and ordering rules for election nodes.
 *
 * Our nodes are `_c_<uuid>-__lock__<seq>`, or `_c_<uuid>-p<N>.__lock__<seq>` for a candidate
 * of priority N > 0. The `__lock__` infix is what kazoo's Election/Lock match
 * (`__lock__(-?\d{10})$`), so kazoo and zk-elect candidates on one path agree on the order.
 * Curator's LeaderLatch nodes (`_c_<uuid>-latch-<seq>`) end in a sequence too, so we order
 * them correctly (Curator cannot order ours: it sorts on the text after `latch-`).
 *
 * Seats. A named handoff gives its target a *seat*: a node the target creates itself, with an
 * explicit (non-sequential) name `<its prefix>-<10 digits>`, e.g. `_c_<uuid>-__lock__-1999999998`.
 * kazoo sorts contenders on the text of `-?\d{10}`, so `-...` sorts before every ZooKeeper
 * sequence, and seats among themselves by their digits; we order them the same way. Seat
 * values count down from FIRST_SEAT_VALUE, a new seat taking one less than every seat in
 * sight, so it sorts first. Values stay below 2^31: `__lock__-2147483648` is what ZooKeeper
 * itself writes for a wrapped sequence, and it keeps that meaning.
 */
import { InvalidArgumentError } from './errors.js';

const LOCK_INFIX = '__lock__';
const INT32_MAX = 2 ** 31 - 1;
/** The first seat's value; every later one takes one less than the lowest in sight. */
export const FIRST_SEAT_VALUE = 1_999_999_999;
/** Priorities are whole numbers from 0 (the default, and what kazoo's nodes count as) to this. */
export const MAX_PRIORITY = 999_999;

/** The name we ask ZooKeeper to create; it appends a 10-digit sequence. */
export function candidatePrefix(uuid: string, priority = 0): string {
  return `_c_${uuid}-${priority > 0 ? `p${priority}.` : ''}${LOCK_INFIX}`;
}

/** The seat name for a candidate whose nodes start with `prefix` (see NodeName.prefix). */
export function seatName(prefix: string, value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > FIRST_SEAT_VALUE) throw new RangeError(`seat value ${value} out of range`);
  return `${prefix}-${String(value).padStart(10, '0')}`;
}

const SEAT_INFIX = `${LOCK_INFIX}-`;

/**
 * The uuid and priority of a zk-elect name, `_c_<uuid>-[p<N>.]__lock__<seq>`, or undefined for
 * any other name. By hand rather than by regex: a check reads every candidate's name, and
 * at a thousand candidates that is on a successor's path. The uuid has no '.', so `_c_abc-p7.__lock__` is uuid "abc" of priority 7,
 * while `_c_abc-p7-__lock__` is uuid "abc-p7" of priority 0.
 */
function ownName(name: string, lockAt: number): { uuid: string; priority: number } | undefined {
  if (!name.startsWith('_c_') || lockAt < 5) return undefined;
  let end = lockAt; // the uuid ends before the '-' that ends this part
  let priority = 0;
  if (name.charCodeAt(end - 1) === 46 /* . */) {
    const dash = name.lastIndexOf('-', end - 1);
    if (dash < 4 || name.charCodeAt(dash + 1) !== 112 /* p */ || end - dash - 3 < 1 || end - dash - 3 > 6) return undefined;
    for (let i = dash + 2; i < end - 1; i++) {
      const d = name.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return undefined;
      priority = priority * 10 + d;
    }
    end = dash + 1;
  }
  if (name.charCodeAt(end - 1) !== 45 /* - */ || end - 1 <= 3) return undefined;
  for (let i = 3; i < end - 1; i++) {
    const c = name.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45)) return undefined;
  }
  return { uuid: name.slice(3, end - 1), priority };
}

/** Where `__lock__` starts when the name is `...__lock__<sequence or seat>`, else -1. */
function lockInfixAt(name: string): number {
  const at = name.length - (isSeat(name) ? 11 : name.at(-10) === '-' ? 10 : name.at(-11) === '-' ? 11 : 10) - LOCK_INFIX.length;
  return at >= 0 && name.startsWith(LOCK_INFIX, at) ? at : -1;
}

/** True when `child` was created by us with this uuid (whatever its sequence, seat or not). */
export function isOwnedByUuid(child: string, uuid: string): boolean {
  return parseSequence(child) !== undefined && ownName(child, lockInfixAt(child))?.uuid === uuid;
}

/**
 * The sequence number ZooKeeper appended, or undefined when `name` does not end in one.
 *
 * ZooKeeper formats the parent's cversion with `%010d`. After 2^31 creations it wraps
 * negative: `-000000003` (a sign and 9 digits) or `-2147483648`. We return the value as
 * an unsigned 32-bit number so that wrapped sequences sort after the ones before the wrap.
 * For a seat (`__lock__-NNNNNNNNNN`) it is the seat's value; `orderCandidates` puts seats first.
 */
export function parseSequence(name: string): number | undefined {
  // Read by hand rather than by regex: a check orders every candidate's name, and at a
  // thousand candidates the regex scan was most of a successor's CPU time after a handoff.
  const positive = trailingDigits(name, 10);
  if (positive !== undefined) {
    if (positive <= INT32_MAX) return positive;
    // "-2147483648": ten digits above INT32_MAX can only be a negative number's digits.
    if (positive === 2 ** 31 && name.at(-11) === '-') return 2 ** 31;
    return undefined;
  }
  const negative = name.at(-10) === '-' ? trailingDigits(name, 9) : undefined;
  if (negative !== undefined) return 2 ** 32 - negative;
  return undefined;
}

/** The number the last `count` characters of `name` spell, if they are all ASCII digits. */
function trailingDigits(name: string, count: number): number | undefined {
  if (name.length < count) return undefined;
  let value = 0;
  for (let i = name.length - count; i < name.length; i++) {
    const d = name.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    value = value * 10 + d;
  }
  return value;
}

/** True for a seat's name: `...__lock__-` and ten digits that are not ZooKeeper's wrapped -2^31. */
export function isSeat(name: string): boolean {
  if (!name.startsWith(SEAT_INFIX, name.length - 10 - SEAT_INFIX.length)) return false;
  const value = trailingDigits(name, 10);
  return value !== undefined && value <= INT32_MAX;
}

export interface OrderedChild {
  readonly name: string;
  /** The ZooKeeper sequence, or a seat's value (see `seat`). */
  readonly sequence: number;
  /** A seat sorts before every sequence node (a named handoff's target holds it). */
  readonly seat: boolean;
  /** What every node of one candidate starts with: the name without its sequence. */
  readonly prefix: string;
  /** The uuid of a zk-elect node; undefined for kazoo's and other recipes' nodes. */
  readonly uuid: string | undefined;
  /** The priority in a zk-elect node's name; 0 for every other node. */
  readonly priority: number;
}

/** Reads one child's name; undefined when it is not a candidate (no sequence suffix). */
export function parseNode(name: string): OrderedChild | undefined {
  const sequence = parseSequence(name);
  if (sequence === undefined) return undefined;
  const seat = isSeat(name);
  // A sign belongs to the sequence in a seat and in ZooKeeper's "-2147483648"; "-000000003" is 10 long anyway.
  const signed = seat || (name.at(-11) === '-' && name.endsWith('2147483648'));
  const ours = ownName(name, lockInfixAt(name));
  return { name, sequence, seat, prefix: name.slice(0, name.length - (signed ? 11 : 10)), uuid: ours?.uuid, priority: ours?.priority ?? 0 };
}

/** Children that are candidates, ordered: seats first, then first-come first. Others are ignored. */
export function orderCandidates(children: readonly string[]): OrderedChild[] {
  const out: OrderedChild[] = [];
  for (const name of children) {
    const node = parseNode(name);
    if (node) out.push(node);
  }
  out.sort((a, b) => Number(b.seat) - Number(a.seat) || a.sequence - b.sequence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/**
 * Control nodes of the handoff protocol (see handoff.ts). None ends in digits, so neither we
 * nor kazoo take them for candidates.
 */
export const REQUEST_NODE = 'zk-elect.handoff-request';
/** The persistent node whose data names the newest seat and whose mzxid is when it was taken. */
export const SEAT_MARKER_NODE = 'zk-elect.last-seat';
export function grantNode(uuid: string): string {
  return `zk-elect.grant-for.${uuid}.json`;
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
