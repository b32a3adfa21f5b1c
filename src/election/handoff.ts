/**
 * Named handoff: the leader gives leadership to one named live candidate T. Nobody else is
 * woken, at no instant do two candidates believe they lead, and a crash at any step leaves
 * the election to the ordinary queue.
 *
 * Why not just delete the leader's node? The node right behind it (S) watches it: deleting
 * it wakes S and makes S the leader, not T. Any change to a candidate's node wakes whoever
 * watches it, so the handoff touches no existing candidate node at all:
 *
 *   1. The leader L (front node F, the lowest) stops leading: `resigned` is emitted and
 *      `isLeader` is false before anything is written.
 *   2. L writes a *grant*, `zk-elect.grant-for.<T's uuid>.json`: EPHEMERAL, owned by L's
 *      session, naming F, T's node and the seat T is to take. Every candidate keeps an
 *      exists-watch on the grant path of its own uuid, so this wakes T and only T.
 *   3. T creates the *seat*: an EPHEMERAL node with an explicit name that sorts before every
 *      node (names.ts: `<T's prefix>-<10 digits>`, a value below every seat in sight; kazoo
 *      sorts it first too). Nobody watches a node that did not exist, so nobody wakes.
 *   4. T writes the seat's name to the marker `zk-elect.last-seat` (see fencing, below).
 *   5. T checks that the grant (same czxid) and F still exist. If not, it deletes the seat
 *      and stays where it was. If so, the seat is its front node: it runs the ordinary check
 *      (lowest? owned by our session? contact confirmed?) and declares.
 *   6. T deletes the grant, which tells L the handoff is done. L stays in the queue with F,
 *      now right behind the seat: the next in line. S still watches F, unchanged, asleep; the
 *      node behind T's old node still watches that, unchanged (T keeps it: a candidate may
 *      hold several nodes, and its place is its front one).
 *
 * L gives up when T's node disappears (T died or left) or after `handoffTimeoutMs`: it
 * deletes the grant and only then looks at the queue again. If the seat exists it follows
 * it; if not, it is at the front again and the queue decides (see LeaderElection.resign).
 *
 * Safety, at every instant:
 * - L does not lead from step 1 on, and never leads again while a grant of its may exist:
 *   it leads only after its own delete of the grant succeeded (or found no node), and after
 *   a fresh listing in which its node is the lowest.
 * - T leads only if, at step 5, after the seat was created, the grant (with the czxid T read)
 *   and F still existed. L deletes its grant before it touches F or leads again, and a
 *   session's expiry removes both in one transaction, so F existed when the seat was
 *   created. F was the lowest node (only its owner can put a seat before it, and it does so
 *   only through this grant), so nobody else could have been elected before the seat
 *   existed, and from then on the seat sorts before everyone else.
 * - If L aborts (deletes the grant) while T is between steps 3 and 5, T's check fails and T
 *   deletes its seat without leading; L, seeing the seat in its listing, follows it until
 *   it is gone. If T's check passed first, L finds the seat and follows T as leader.
 *
 * Crashes (kill -9; the session then expires and its ephemeral nodes go in one transaction):
 * - L before step 2: F goes, S wakes and leads by the queue. A pending request (below)
 *   survives, so S then hands over to T.
 * - L after step 2, before T's step 5: F and the grant go together. If T's check ran before
 *   that, T leads and S, woken by F's deletion, finds the seat ahead of it and follows. If
 *   after, T deletes its seat and S leads.
 * - T before step 3: L sees T's node go (or times out) and aborts: the queue decides.
 * - T after step 3: its seat goes with its session; L, watching T's node, gives up and is at
 *   the front again (with a seat of its own if T's marker write got through, see fencing).
 *   T could only have led while its session was alive: the loss deadline makes T stop
 *   before the server can expire it, as for any leader.
 * - The requester at any point: its request is ephemeral and simply goes.
 *
 * Fencing. The token is the czxid of the leader's front node. Along the queue that grows
 * (queue order is creation order); a seat is newer than the queue behind it. So step 4
 * records the newest seat; a front node older than the marker's mzxid takes a seat of its
 * own before it declares (handoff-plan.ts: mayDeclareWith), and tokens still grow.
 *
 * Requests. `zk-elect handoff --to ID` (requestHandoff) creates `zk-elect.handoff-request`,
 * EPHEMERAL, naming T's node. Only the leader watches that path, so a request wakes only the
 * leader, which runs the steps above and then writes the outcome into the request ('taken'
 * only once T has deleted the grant, i.e. declared: a seat alone proves nothing, its holder
 * may die before declaring); the requester reads it and deletes the request. If the leader
 * dies first, the request stays and the next leader answers it. A preempting candidate's
 * request (`preempt`) is deleted by the leader instead: that candidate sees the lead come.
 */
import type { Logger } from '../log.js';
import { ZooKeeperError } from './errors.js';
import { createProtected, protectOwnNode } from './guard.js';
import { decodeGrant, encodeGrant, nextSeatValue, type SeatMarker } from './handoff-plan.js';
import { grantNode, isSeat, joinPath, parseNode, SEAT_MARKER_NODE, seatName, type OrderedChild } from './names.js';
import type { ZkSession } from './session.js';
import { ZkCode, type ZkStat } from './zk-types.js';

export interface HandoffIo {
  readonly session: ZkSession;
  /** The election path. */
  readonly path: string;
  readonly logger: Logger;
}

const isCode = (e: unknown, code: number) => e instanceof ZooKeeperError && e.code === code;

/** Deletes `path`; a node already gone is fine. */
export async function removeIfThere(session: ZkSession, path: string): Promise<void> {
  try {
    await session.remove(path);
  } catch (e) {
    if (!isCode(e, ZkCode.NONODE)) throw e;
  }
}

/** The seat marker, or undefined when no seat was ever taken on this path. */
export async function readSeatMarker(io: HandoffIo): Promise<SeatMarker | undefined> {
  try {
    const { data, stat } = await io.session.getData(joinPath(io.path, SEAT_MARKER_NODE));
    return data.length === 0 ? undefined : { mzxid: stat.mzxid, seat: data.toString('utf8') };
  } catch (e) {
    if (isCode(e, ZkCode.NONODE)) return undefined;
    throw e;
  }
}

/** Records `seat` as the newest seat (after it was created, before it is declared on). */
export async function markSeat(io: HandoffIo, seat: string): Promise<void> {
  const path = joinPath(io.path, SEAT_MARKER_NODE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await io.session.setData(path, Buffer.from(seat, 'utf8'));
      return;
    } catch (e) {
      if (!isCode(e, ZkCode.NONODE)) throw e;
    }
    try {
      await createProtected(io.session, path, Buffer.from(seat, 'utf8'), 'persistent');
      return;
    } catch (e) {
      if (!isCode(e, ZkCode.NODEEXISTS)) throw e;
    }
  }
  throw new Error(`could not write ${path}`);
}

/**
 * Creates an ephemeral node with an explicit name: 'created', or 'ours' when an earlier
 * attempt whose reply was lost created it for this session, or 'theirs'.
 */
export async function createOwned(session: ZkSession, path: string, data: Buffer): Promise<'created' | 'ours' | 'theirs'> {
  try {
    await createProtected(session, path, data, 'ephemeral');
    return 'created';
  } catch (e) {
    if (!isCode(e, ZkCode.NODEEXISTS)) throw e;
  }
  const stat = await session.exists(path);
  if (stat === null || stat.ephemeralOwner !== session.sessionId) return 'theirs';
  // Our create committed but its reply (and so perhaps the ACL after it) was lost.
  await protectOwnNode(session, path, -1);
  return 'ours';
}

/** Deletes `path` if it exists and this session owns it (a seat we may have created). */
export async function removeIfOurs(session: ZkSession, path: string): Promise<void> {
  const stat = await session.exists(path);
  if (stat !== null && stat.ephemeralOwner === session.sessionId) await removeIfThere(session, path);
}

export type OfferOutcome = 'taken' | 'target-gone' | 'timeout' | 'interrupted';

export interface Offer {
  /** Our front node: the lowest node, whose owner alone may grant. */
  readonly front: string;
  readonly target: OrderedChild & { uuid: string };
  /** The listing we decided on (for the seat value). */
  readonly ordered: readonly OrderedChild[];
  readonly timeoutMs: number;
  /** Resolves when the wait must stop early (close, session loss). */
  readonly interrupted: Promise<void>;
  /** Called once the grant may exist: until `settled`, the caller must not lead. */
  readonly onGrantWritten: (grantPath: string) => void;
}

/**
 * Steps 2 and 6 on the leader's side: writes the grant and waits until the target took it
 * (it deletes the grant), is gone, or the time is up. On every outcome but 'taken' the grant
 * is deleted before returning; if that delete fails the error propagates and the caller
 * keeps the grant marked as possibly present.
 */
export async function offerSeat(io: HandoffIo, offer: Offer): Promise<OfferOutcome> {
  const { session } = io;
  const marker = await readSeatMarker(io);
  if (marker === undefined) {
    // Make sure the target can simply setData it (step 4); creating it now also costs the target nothing.
    try {
      await createProtected(session, joinPath(io.path, SEAT_MARKER_NODE), Buffer.alloc(0), 'persistent');
    } catch (e) {
      if (!isCode(e, ZkCode.NODEEXISTS)) throw e;
    }
  }
  const seat = seatName(offer.target.prefix, nextSeatValue(offer.ordered, marker?.seat));
  const grantPath = joinPath(io.path, grantNode(offer.target.uuid));
  const data = encodeGrant({ front: offer.front, to: offer.target.name, seat });
  offer.onGrantWritten(grantPath);
  // A grant left by an earlier attempt (ours with a lost reply, or a former front's) is
  // replaced: deleting it also makes any acceptance of it in flight fail its check.
  const created = await createOwned(session, grantPath, data);
  if (created === 'theirs') {
    await removeIfThere(session, grantPath);
    await createProtected(session, grantPath, data, 'ephemeral');
  } else if (created === 'ours') {
    // Ours from a lost reply may carry an older seat: write what we decided now.
    await session.setData(grantPath, data);
  }
  io.logger.info('handoff: grant written', { to: offer.target.name, seat });

  const outcome = await new Promise<OfferOutcome>((resolve) => {
    let done = false;
    const finish = (o: OfferOutcome) => {
      if (done) return;
      done = true;
      timer.cancel();
      resolve(o);
    };
    const timer = session.clock.after(offer.timeoutMs, () => finish('timeout'));
    void offer.interrupted.then(() => finish('interrupted'));
    const targetPath = joinPath(io.path, offer.target.name);
    const watchTarget = () =>
      session.exists(targetPath, (ev) => {
        if (ev.type === 'deleted') finish('target-gone');
        else if (ev.type !== 'session' && !done) void watchTarget();
      });
    const watchGrant = () =>
      session.exists(grantPath, (ev) => {
        if (ev.type === 'deleted') finish('taken');
        else if (ev.type !== 'session' && !done) void watchGrant();
      });
    watchTarget().then(
      (stat) => stat === null && finish('target-gone'),
      () => finish('interrupted'),
    );
    watchGrant().then(
      (stat) => stat === null && finish('taken'),
      () => finish('interrupted'),
    );
  });
  if (outcome !== 'taken') await removeIfThere(session, grantPath);
  io.logger.info('handoff: offer settled', { to: offer.target.name, outcome });
  return outcome;
}

export type SeatResult = { seat: string; grantPath: string } | { refused: string } | undefined;

/**
 * Steps 3 to 5 on the target's side. Returns the seat it now holds (the caller declares on it
 * after its ordinary check, then deletes the grant), `refused` with the reason when the grant
 * is stale, or undefined when there is no grant. A seat that may exist after an error is
 * reported through `onStray` so the caller deletes it later.
 */
export async function takeSeat(
  io: HandoffIo,
  grantPath: string,
  ownNodes: ReadonlySet<string>,
  data: Buffer,
  onStray: (seatPath: string) => void,
): Promise<SeatResult> {
  const { session } = io;
  let read: { data: Buffer; stat: ZkStat };
  try {
    read = await session.getData(grantPath);
  } catch (e) {
    if (isCode(e, ZkCode.NONODE)) return undefined;
    throw e;
  }
  const grant = decodeGrant(read.data);
  if (!grant) return { refused: 'unreadable grant' };
  if (!ownNodes.has(grant.to)) return { refused: `granted to ${grant.to}, not to one of our nodes` };
  const to = parseNode(grant.to);
  if (!isSeat(grant.seat) || to === undefined || parseNode(grant.seat)?.prefix !== to.prefix) return { refused: `${grant.seat} is not a seat of ours` };
  const seatPath = joinPath(io.path, grant.seat);
  onStray(seatPath); // from here until it is confirmed or deleted, the seat may exist
  if ((await createOwned(session, seatPath, data)) === 'theirs') return { refused: `seat ${grant.seat} is held by another session` };
  await markSeat(io, grant.seat);
  const [grantNow, frontNow] = await Promise.all([session.exists(grantPath), session.exists(joinPath(io.path, grant.front))]);
  if (grantNow === null || grantNow.czxid !== read.stat.czxid || frontNow === null) {
    await removeIfThere(session, seatPath);
    return { refused: grantNow === null || grantNow.czxid !== read.stat.czxid ? 'the grant was withdrawn' : 'the granting node is gone' };
  }
  io.logger.info('handoff: took the seat', { seat: grant.seat, from: grant.front });
  return { seat: grant.seat, grantPath };
}
