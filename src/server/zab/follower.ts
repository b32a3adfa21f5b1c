/**
 * Follower (Follower.followLeader / Learner.registerWithLeader / Learner.syncWithLeader).
 *
 *   discovery   FOLLOWERINFO(acceptedEpoch) sent (repeated each tick), waiting for LEADERINFO.
 *   epochAcked  newEpoch persisted as acceptedEpoch BEFORE ACKEPOCH(currentEpoch, lastZxid) goes
 *               out; a newEpoch lower than our acceptedEpoch is refused.
 *   snap        SNAP chunks arriving (see below), until the last one.
 *   syncing     DIFF / TRUNC applied or the last SNAP chunk in; proposals logged (after a SNAP:
 *               kept with it), COMMITs applied, until NEWLEADER.
 *   newLeader   NEWLEADER received. We ACK it only once every txn up to it is durable (ZOOKEEPER-
 *               3911, -4646, -4785: an ACK given before the synced txns hit the disk lets a quorum
 *               "hold" a history that a crash erases), and we persist currentEpoch between the two
 *               (ZOOKEEPER-1282: on NEWLEADER, not UPTODATE; ZOOKEEPER-4643: after the txns, not
 *               before, or a restart with a new currentEpoch and a short log wins the election).
 *               Proposals arriving now are logged in order and ACKed (cumulatively) only after the
 *               NEWLEADER ACK (ZOOKEEPER-4394, -4685).
 *   broadcast   UPTODATE seen: the normal PROPOSAL/ACK/COMMIT loop.
 *
 * SNAP (issue 9) arrives as SNAPCHUNKs 0, 1, ... `last` of one image, in order on the link; we
 * hand each to the driver as it is taken (`snapshotChunkTaken`: it parses the image and streams
 * it to a temp file while the rest arrives; the core keeps only the count, so the tree is never
 * held twice), acknowledge each (SNAPACK, cumulative, repeated every tick in case one was lost:
 * it is what opens the leader's window), and install the image with the proposals that follow it
 * in one durable step at NEWLEADER, as before. Whatever breaks the stream throws the partial
 * snapshot away (`snapshotDropped`) and resynchronises from scratch (nothing of it was durable,
 * our old log and state stand): a chunk out of sequence (one was lost or reordered), chunks of
 * another image, more than maxSnapshotBytes, or a proposal, COMMIT or NEWLEADER before the last
 * chunk. Messages of another epoch or session (an old
 * leader, an old link) never reach the stream. A duplicate of a chunk already taken (seq below
 * the next expected) is dropped: a session carries one stream, so it is the same bytes.
 */
import { invariant } from './errors.js';
import type { SnapChunkMsg, ZabMessage } from './messages.js';
import type { ZabNode } from './node.js';
import type { LogEntry } from './types.js';
import { isNextZxid } from './zxid.js';

export type FollowerPhase = 'discovery' | 'epochAcked' | 'snap' | 'syncing' | 'newLeader' | 'broadcast';

/** A SNAP being received; installed, with the proposals after it, only at NEWLEADER. */
export interface PendingSnap {
  readonly zxid: number;
  /** Bytes of the chunks 0 .. nextSeq - 1, which the driver holds (snapshotChunkTaken). */
  bytes: number;
  nextSeq: number;
  /** The `last` chunk is in. */
  complete: boolean;
  /** Proposals after the snapshot (only once complete). */
  readonly entries: LogEntry[];
}

export interface FollowerState {
  readonly leaderId: number;
  readonly attempt: number;
  phase: FollowerPhase;
  epoch: number;
  session: number;
  acceptedNow: boolean;
  newLeaderZxid: number;
  newLeaderAcked: boolean;
  /** Highest commit zxid the leader told us about. */
  leaderCommit: number;
  /** Highest cumulative ACK sent. */
  ackedSent: number;
  /** A SNAP being received: installed, with the proposals after it, only at NEWLEADER. */
  pendingSnap: PendingSnap | null;
  /** Consecutive PINGs announcing proposals we do not have. */
  behindPings: number;
  /** Our tick of the newest PONG the leader granted (-1: none): we serve until it + followerLeaseTicks. */
  leaseAnchor: number;
  /** The leader's tick of the newest PING we got, echoed in PONGs (0 before any). */
  lastPingTick: number;
  readonly deadline: number;
  lastHeard: number;
}

function st(node: ZabNode): FollowerState {
  invariant(node.follower !== null, 'not following');
  return node.follower;
}

export function startFollowing(node: ZabNode, leaderId: number): void {
  node.follower = {
    leaderId,
    attempt: ++node.attemptSeq,
    phase: 'discovery',
    epoch: -1,
    session: -1,
    acceptedNow: false,
    newLeaderZxid: -1,
    newLeaderAcked: false,
    leaderCommit: 0,
    ackedSent: -1,
    pendingSnap: null,
    behindPings: 0,
    leaseAnchor: -1,
    lastPingTick: 0,
    deadline: node.now + node.cfg.initLimit,
    lastHeard: node.now,
  };
  sendFollowerInfo(node);
}

function sendFollowerInfo(node: ZabNode): void {
  const f = st(node);
  node.send(f.leaderId, { type: 'followerinfo', attempt: f.attempt, acceptedEpoch: node.acceptedEpoch, lastZxid: node.log.lastZxid });
}

function sendAckEpoch(node: ZabNode): void {
  const f = st(node);
  node.send(f.leaderId, { type: 'ackepoch', epoch: f.epoch, session: f.session, currentEpoch: node.currentEpoch, lastZxid: node.log.lastZxid, acceptedNow: f.acceptedNow });
}

/** Repeat FOLLOWERINFO now (the leader has just started leading and may have missed it). */
export function followerRetry(node: ZabNode): void {
  if (st(node).phase === 'discovery') sendFollowerInfo(node);
}

export function followerTick(node: ZabNode): void {
  const f = st(node);
  if (f.phase !== 'broadcast' && node.now >= f.deadline) return node.becomeLooking('initLimit expired while syncing');
  if (f.phase !== 'discovery' && node.now - f.lastHeard > node.cfg.syncLimit) return node.becomeLooking('leader silent for syncLimit');
  if (f.phase === 'discovery') sendFollowerInfo(node);
  else if (f.phase === 'epochAcked') sendAckEpoch(node);
  // A lost SNAPACK would leave the leader's window shut: repeat the cumulative one.
  else if (f.phase === 'snap') sendSnapAck(node);
}

export function onLeaderMessage(node: ZabNode, _from: number, msg: ZabMessage): void {
  const f = st(node);
  f.lastHeard = node.now;
  if (msg.type === 'leaderinfo') return onLeaderInfo(node, msg.attempt, msg.epoch, msg.session);
  if (f.phase === 'discovery' || !('epoch' in msg) || msg.epoch !== f.epoch) return;
  if ('session' in msg && msg.session !== f.session) return;
  const synced = f.phase === 'syncing' || f.phase === 'newLeader' || f.phase === 'broadcast';
  // The leader sends what follows a SNAP only after its last chunk: any of it now means the link
  // lost or reordered something.
  if (f.phase === 'snap' && (msg.type === 'proposal' || msg.type === 'commit' || msg.type === 'newleader' || msg.type === 'uptodate')) {
    return node.becomeLooking(`${msg.type.toUpperCase()} before the last SNAP chunk`);
  }
  switch (msg.type) {
    case 'diff':
    case 'trunc':
      if (f.phase !== 'epochAcked') return;
      if (msg.type === 'trunc') {
        // The leader truncates us to a zxid we must hold; if we do not, its picture of our log is
        // wrong and truncating would leave a hole. Start over.
        if (!node.log.has(msg.zxid)) return node.becomeLooking('TRUNC to a zxid not in our log');
        node.truncateLocal(msg.zxid);
      }
      f.phase = 'syncing';
      return;
    case 'snapchunk':
      return onSnapChunk(node, msg);
    case 'proposal':
      if (!synced) return;
      if (f.pendingSnap !== null) {
        const p = f.pendingSnap;
        const last = p.entries[p.entries.length - 1]?.zxid ?? p.zxid;
        if (msg.zxid <= last) return;
        if (msg.prevZxid !== last || !isNextZxid(last, msg.zxid)) return node.becomeLooking('gap in the SNAP stream');
        p.entries.push({ zxid: msg.zxid, payload: msg.payload });
        return;
      }
      if (msg.zxid <= node.log.lastZxid) return; // duplicate
      if (msg.prevZxid !== node.log.lastZxid || !node.log.canAppend(msg.zxid)) return node.becomeLooking('gap in the proposal stream');
      node.appendLocal([{ zxid: msg.zxid, payload: msg.payload }]);
      return;
    case 'commit':
      if (!synced) return;
      learnCommit(node, msg.zxid);
      return;
    case 'newleader':
      if (f.phase === 'syncing') {
        if (f.pendingSnap !== null && !installPendingSnap(node, msg.zxid)) return node.becomeLooking('missed part of the SNAP');
        if (node.log.lastZxid < msg.zxid || !node.log.has(msg.zxid)) return node.becomeLooking('missed part of the sync');
        f.phase = 'newLeader';
        f.newLeaderZxid = msg.zxid;
        tryAckNewLeader(node);
      } else if (f.newLeaderAcked && msg.zxid === f.newLeaderZxid) {
        // The leader did not get our ACK: repeat it.
        node.send(f.leaderId, { type: 'ack', epoch: f.epoch, session: f.session, zxid: node.durableZxid, newLeader: true });
      }
      return;
    case 'uptodate':
      if (f.phase === 'newLeader' && f.newLeaderAcked) toBroadcast(node, msg.commitZxid);
      return;
    case 'ping':
      f.lastPingTick = Math.max(f.lastPingTick, msg.tick);
      if (synced) learnCommit(node, msg.commitZxid);
      // Proposals sent before this PING should be here by now (FIFO); behind on two PINGs in a
      // row means some were lost, and nothing would resend them: resynchronise.
      if (f.phase === 'newLeader' || f.phase === 'broadcast') {
        f.behindPings = msg.lastZxid > node.log.lastZxid ? f.behindPings + 1 : 0;
        if (f.behindPings >= 2) return node.becomeLooking('lost proposals at the end of the stream');
      }
      if (msg.upToDate && f.phase === 'newLeader' && f.newLeaderAcked) toBroadcast(node, msg.commitZxid);
      if (node.role !== 'following') return;
      // A grant of one of our own PONG ticks (never a future one: a forged or corrupt grant must
      // not let us serve longer than the leader holds our sessions).
      if (f.phase === 'broadcast' && msg.grant > f.leaseAnchor && msg.grant <= node.now) {
        f.leaseAnchor = msg.grant;
        node.emit({ type: 'lease', anchorTick: msg.grant, ticks: node.cfg.followerLeaseTicks });
      }
      sendPong(node);
      return;
    case 'opaque':
      node.emit({ type: 'opaque', from: f.leaderId, payload: msg.payload });
      return;
    default:
      return;
  }
}

/**
 * Not installed yet. The leader's snapshot is of its *applied* state, which before it is
 * established can be older than our own committed log; installing it now and then losing the
 * rest of the sync would leave us durably without txns we helped commit. So the snapshot and the
 * proposals after it are installed together, durably, at NEWLEADER; until then our old log and
 * state stand. (ZOOKEEPER-3642 is the opposite failure: a snapshot kept only in memory while its
 * zxid was reported to the next leader.)
 */
function onSnapChunk(node: ZabNode, msg: SnapChunkMsg): void {
  const f = st(node);
  if (f.phase === 'epochAcked') {
    if (msg.seq !== 0) return node.becomeLooking(`the SNAP stream starts at chunk ${msg.seq}`);
    f.pendingSnap = { zxid: msg.zxid, bytes: 0, nextSeq: 0, complete: false, entries: [] };
    f.phase = 'snap';
  } else if (f.phase !== 'snap') {
    return; // past the stream (or a DIFF/TRUNC session): a late duplicate of one of its chunks
  }
  const p = f.pendingSnap;
  invariant(p !== null, 'receiving a SNAP without a pending snapshot');
  if (msg.seq < p.nextSeq) return; // a duplicate: same session, same seq, same bytes
  if (msg.seq > p.nextSeq) return node.becomeLooking(`SNAP chunk ${p.nextSeq} is missing (got ${msg.seq})`);
  if (msg.zxid !== p.zxid) return node.becomeLooking('SNAP chunks of two images in one stream');
  if (p.bytes + msg.bytes.length > node.cfg.maxSnapshotBytes) return node.becomeLooking(`the SNAP exceeds ${node.cfg.maxSnapshotBytes} bytes`);
  node.emit({ type: 'snapshotChunkTaken', zxid: p.zxid, seq: p.nextSeq, bytes: msg.bytes });
  p.bytes += msg.bytes.length;
  p.nextSeq++;
  if (msg.last) {
    p.complete = true;
    f.phase = 'syncing';
  }
  sendSnapAck(node);
}

function sendSnapAck(node: ZabNode): void {
  const f = st(node);
  const p = f.pendingSnap;
  if (p === null || p.nextSeq === 0) return;
  node.send(f.leaderId, { type: 'snapack', epoch: f.epoch, session: f.session, seq: p.nextSeq - 1 });
}

function onLeaderInfo(node: ZabNode, attempt: number, epoch: number, session: number): void {
  const f = st(node);
  if (attempt !== f.attempt) return;
  if (f.phase !== 'discovery') {
    if (session === f.session && f.phase === 'epochAcked') sendAckEpoch(node);
    return;
  }
  if (epoch < node.acceptedEpoch) return node.becomeLooking(`leader epoch ${epoch} < acceptedEpoch ${node.acceptedEpoch}`);
  // Equal: we already accepted this epoch (maybe from another would-be leader): answer, but the
  // reply must not count toward the epoch quorum.
  f.acceptedNow = epoch > node.acceptedEpoch;
  node.persistEpoch('acceptedEpoch', epoch);
  f.epoch = epoch;
  f.session = session;
  f.phase = 'epochAcked';
  sendAckEpoch(node);
}

/** The leader's commit point applies to our log once it holds the leader's history (we are past
 * DIFF/TRUNC/SNAP): then every entry we hold up to it is committed. */
function learnCommit(node: ZabNode, zxid: number): void {
  const f = st(node);
  if (zxid > f.leaderCommit) f.leaderCommit = zxid;
  if (f.pendingSnap === null) node.commitTo(f.leaderCommit);
}

/** At NEWLEADER: snapshot + everything after it up to the NEWLEADER zxid, in one durable step. */
function installPendingSnap(node: ZabNode, newLeaderZxid: number): boolean {
  const f = st(node);
  const p = f.pendingSnap;
  if (p === null) return true;
  const last = p.entries[p.entries.length - 1]?.zxid ?? p.zxid;
  if (!p.complete || last < newLeaderZxid) return false;
  f.pendingSnap = null;
  const oldCommit = node.commitZxid;
  node.installSnapshotLocal(p.zxid, p.nextSeq, p.bytes, p.entries);
  // What we had committed is committed history; the leader's history holds it (same zxids), so
  // re-apply it at once rather than let our state machine lag behind what it showed before.
  node.commitTo(Math.max(oldCommit, f.leaderCommit));
  return true;
}

function tryAckNewLeader(node: ZabNode): void {
  const f = st(node);
  if (f.phase !== 'newLeader' || f.newLeaderAcked || node.durableZxid < f.newLeaderZxid) return;
  node.persistEpoch('currentEpoch', f.epoch);
  f.newLeaderAcked = true;
  f.ackedSent = node.durableZxid;
  node.send(f.leaderId, { type: 'ack', epoch: f.epoch, session: f.session, zxid: node.durableZxid, newLeader: true });
}

function sendPong(node: ZabNode): void {
  const f = st(node);
  node.send(f.leaderId, { type: 'pong', epoch: f.epoch, session: f.session, synced: f.newLeaderAcked, zxid: f.newLeaderAcked ? node.durableZxid : 0, pingTick: f.lastPingTick, tick: node.now });
}

function toBroadcast(node: ZabNode, commitZxid: number): void {
  const f = st(node);
  f.phase = 'broadcast';
  learnCommit(node, commitZxid);
  // Report the established epoch to looking servers, like the leader does (a follower that kept
  // the vote it was elected with would disagree with the leader's and stall a joiner).
  node.vote = { leader: f.leaderId, zxid: node.log.lastZxid, peerEpoch: f.epoch };
  node.emit({ type: 'role', role: 'following', leaderId: f.leaderId, epoch: f.epoch, synced: true });
  // Ask for our first lease right away (the leader answers this PONG with a granting PING).
  sendPong(node);
}

export function followerPersisted(node: ZabNode): void {
  const f = st(node);
  tryAckNewLeader(node);
  if (f.newLeaderAcked && node.durableZxid > f.ackedSent) {
    f.ackedSent = node.durableZxid;
    node.send(f.leaderId, { type: 'ack', epoch: f.epoch, session: f.session, zxid: node.durableZxid, newLeader: false });
  }
}

export function forwardRequest(node: ZabNode, payload: Buffer): void {
  const f = node.follower;
  if (f === null || f.phase !== 'broadcast') {
    node.emit({ type: 'rejected', reason: 'no-leader', payload });
    return;
  }
  node.send(f.leaderId, { type: 'request', epoch: f.epoch, payload });
}
