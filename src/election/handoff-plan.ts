/**
 * Pure decisions of the handoff protocol (handoff.ts does the I/O): who is a candidate,
 * who should lead next by priority, which seat a handoff gives, whether a front node may be
 * declared on, and the small JSON records the protocol writes.
 */
import { FIRST_SEAT_VALUE, parseNode, type OrderedChild } from './names.js';

/** One candidate: every node with one prefix, in queue order; `front` decides its place. */
export interface CandidateGroup {
  readonly prefix: string;
  readonly uuid: string | undefined;
  readonly priority: number;
  /** Its first node in the order. */
  readonly front: OrderedChild;
  /** Position of `front` among all candidate nodes (0 leads). */
  readonly position: number;
  readonly nodes: readonly OrderedChild[];
}

/** Groups ordered nodes by candidate (a kazoo node is a candidate of its own), in order of fronts. */
export function groupCandidates(ordered: readonly OrderedChild[]): CandidateGroup[] {
  const byPrefix = new Map<string, { group: CandidateGroup; nodes: OrderedChild[] }>();
  const out: CandidateGroup[] = [];
  ordered.forEach((node, position) => {
    // Only our nodes share a prefix by design; kazoo's carry a uuid of their own per node anyway.
    const key = node.uuid === undefined ? `\u0000${node.name}` : node.prefix;
    const seen = byPrefix.get(key);
    if (seen) {
      seen.nodes.push(node);
      return;
    }
    const nodes = [node];
    const group: CandidateGroup = { prefix: node.prefix, uuid: node.uuid, priority: node.priority, front: node, position, nodes };
    byPrefix.set(key, { group, nodes });
    out.push(group);
  });
  return out;
}

/**
 * Whether `self` (at the front) should give way before leading: to the zk-elect candidate of
 * the highest priority above its own, the earliest among equals (equal priorities keep
 * first-come order). kazoo's candidates count as 0 and can never take a seat, so they are
 * never chosen; `skip` holds targets that already failed to take one.
 */
export function deferTo(groups: readonly CandidateGroup[], self: CandidateGroup, skip: ReadonlySet<string>): CandidateGroup | undefined {
  let best: CandidateGroup | undefined;
  for (const g of groups) {
    if (g === self || g.uuid === undefined || skip.has(g.front.name)) continue;
    if (g.priority > self.priority && (best === undefined || g.priority > best.priority)) best = g;
  }
  return best;
}

/** A value below every seat in sight (the listing and the marker's newest seat). */
export function nextSeatValue(ordered: readonly OrderedChild[], markerSeat: string | undefined): number {
  let low = FIRST_SEAT_VALUE + 1;
  for (const n of ordered) if (n.seat) low = Math.min(low, n.sequence);
  const marked = markerSeat === undefined ? undefined : parseNode(markerSeat);
  if (marked?.seat) low = Math.min(low, marked.sequence);
  if (low <= 0) throw new RangeError('no seat value left below the lowest seat');
  return low - 1;
}

/** The seat marker as read: its mzxid and the seat its data names (undefined: no seat was ever taken). */
export interface SeatMarker {
  readonly mzxid: number;
  readonly seat: string;
}

/**
 * Fencing tokens are the czxid of the leader's front node, and must grow from leader to
 * leader. Queue order is creation order, so they do along the queue; a seat is newer than
 * the queue behind it, so once a seat has led, an older node must not lead on its own czxid.
 * The marker's mzxid is at least the czxid of every seat that ever led (the seat holder
 * writes it after creating the seat and before declaring): a front node older than that
 * takes a seat of its own first. The seat the marker names is exempt: it is the newest.
 */
export function mayDeclareWith(front: { name: string; czxid: number }, marker: SeatMarker | undefined): boolean {
  return marker === undefined || front.czxid > marker.mzxid || marker.seat === front.name;
}

/** A grant: the front node's owner gives `seat` to the candidate whose node is `to`. */
export interface Grant {
  /** The grantor's front node: the target checks it still exists after taking the seat. */
  readonly front: string;
  /** The target's node the grant was made to (its front when granted). */
  readonly to: string;
  readonly seat: string;
}

/** A request to the leader, from any client: hand over to the candidate whose node is `to`. */
export interface HandoffRequest {
  readonly to: string;
  /** Set by a candidate asking for itself (`--preempt`): honoured only for a higher priority. */
  readonly preempt?: boolean;
  /** Who asked, for the logs. */
  readonly by?: string;
  /**
   * Written by the leader that answered (a client's request stays for its requester to read and
   * delete; a preempting candidate's is deleted): 'taken' means the target leads.
   */
  readonly outcome?: string;
  readonly why?: string;
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 512 && !v.includes('/');

export function encodeGrant(g: Grant): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, ...g }), 'utf8');
}

export function decodeGrant(bytes: Buffer): Grant | undefined {
  const v = parseJson(bytes);
  if (!v || !isName(v.front) || !isName(v.to) || !isName(v.seat)) return undefined;
  return { front: v.front, to: v.to, seat: v.seat };
}

export function encodeRequest(r: HandoffRequest): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, ...r }), 'utf8');
}

export function decodeRequest(bytes: Buffer): HandoffRequest | undefined {
  const v = parseJson(bytes);
  if (!v || !isName(v.to)) return undefined;
  const text = (x: unknown) => (typeof x === 'string' ? x.slice(0, 300) : undefined);
  return { to: v.to, preempt: v.preempt === true, by: text(v.by), outcome: text(v.outcome), why: text(v.why) };
}

function parseJson(bytes: Buffer): Record<string, unknown> | undefined {
  if (bytes.length > 4096) return undefined;
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
