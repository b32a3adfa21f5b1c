/**
 * Leader: discovery (pick a new epoch), synchronization (bring a quorum to our history), then
 * broadcast (PROPOSAL/ACK/COMMIT), following Leader.lead() and one LearnerHandler per follower.
 *
 *   discovery  quorum of FOLLOWERINFO (us included) -> newEpoch = max(acceptedEpoch) + 1,
 *              persisted as our acceptedEpoch before any LEADERINFO leaves.
 *   epochAck   quorum of ACKEPOCH that newly accepted the epoch (us included); a follower whose
 *              (currentEpoch, lastZxid) is more recent than ours makes us step down: our history
 *              might lack a committed txn.
 *   sync       each acked follower gets DIFF/TRUNC/SNAP + proposals + COMMIT + NEWLEADER; we count
 *              ourselves once our whole history is durable and currentEpoch persisted.
 *   broadcast  a quorum acked NEWLEADER: our history is committed; UPTODATE; new proposals.
 *
 * Leases. A follower gives up on us only after syncLimit ticks without hearing from us, so once
 * a quorum has answered a PING we sent at tick k, no quorum can elect anyone else before k +
 * syncLimit ticks. We serve until k + syncLimit - 1 (the `lease` action) and step down at that
 * tick: the old leader stops before any successor can be established (ZooKeeper's leader only
 * counts syncLimit from the last ACK, and its successor can be serving first). Followers serve
 * on leases we grant them in PINGs (`grant` echoes their PONG's tick), and we tell the driver
 * how long each grant runs (`leaseGranted`) so sessions a follower owns outlive its last reply.
 *
 * SNAP streams (issue 9). A follower too far behind our log gets our applied state as a stream
 * of SNAPCHUNKs, with flow control, and only then the proposals after it:
 *
 *   openSnapshot {peer, stream}       the driver fixes a consistent image of its applied state
 *   snapshotOpened {zxid}             ... at zxid; from now on the log keeps every entry after
 *                                     zxid (compaction stops there: `leaderSnapPin`)
 *   readSnapshot {maxBytes}           whenever the window has room for one more chunk and no
 *   snapshotChunk {bytes, last}       read is outstanding: the driver reads the next slice of the
 *                                     image (between turns of its event loop) and hands it back
 *   SNAPCHUNK {zxid, seq, last}       sent at once; `seq` counts from 0
 *   SNAPACK {seq} (cumulative)        frees the window up to seq
 *   after `last`                      closeSnapshot, then exactly what DIFF sends: the proposals
 *                                     after zxid (those proposed meanwhile included, the log kept
 *                                     them), COMMIT, NEWLEADER
 *
 * The window lives here, in the core, and not in the driver: it is protocol state of this
 * follower's session (acks are matched on epoch and session like every other message, and a
 * new session starts a new window), the core alone knows when the stream has ended and the
 * proposals may follow, and here it is pure and testable step by step. The driver only holds
 * the images (it owns the state machine) and produces slices when asked, so at most one slice
 * per follower is being produced and at most `snapWindowBytes` per follower are on the wire or
 * in socket buffers: a slow follower neither makes us buffer the whole tree nor stalls us (its
 * stream just advances at the pace of its acks), and everything else keeps flowing meanwhile.
 * A stream that cannot finish (the follower stopped acking, left, or resynced) ends with its
 * handler: initLimit of silence, a disconnect, a new FOLLOWERINFO, or our stepping down — each
 * emits closeSnapshot so the driver releases the image.
 */
import { invariant } from './errors.js';
import type { ZabMessage } from './messages.js';
import type { ZabNode } from './node.js';
import { planSync } from './sync-plan.js';
import { makeZxid, MAX_EPOCH } from './zxid.js';

export type HandlerPhase = 'info' | 'epoch' | 'acked' | 'snapshot' | 'syncing' | 'synced';

/** A SNAP being streamed to one follower (its handler is in phase 'snapshot'). */
export interface SnapStream {
  /** The image's zxid; -1 until the driver opened it. */
  zxid: number;
  /** The log is kept from here on while the stream runs: our commit point when we asked for
   * the image (the image is at least that recent), then its zxid. */
  pin: number;
  /** seq of the next chunk to send. */
  nextSeq: number;
  /** Sizes of the chunks sent and not yet acknowledged, oldest first (seq = nextSeq - length ...). */
  readonly unacked: number[];
  unackedBytes: number;
  /** A readSnapshot is outstanding (one at a time). */
  reading: boolean;
  /** Chunks and bytes sent so far. */
  sentBytes: number;
}

/** Per-follower state (LearnerHandler). */
export interface Handler {
  readonly sid: number;
  readonly attempt: number;
  readonly session: number;
  phase: HandlerPhase;
  peerCurrentEpoch: number;
  peerLastZxid: number;
  /** zxid announced in our NEWLEADER to it. */
  newLeaderZxid: number;
  /** Cumulative durable ack; meaningful once synced. */
  ackedZxid: number;
  lastHeard: number;
  /** The newest of our ticks this follower has answered (a PONG's echo, or NEWLEADER's ack). */
  answeredTick: number;
  /** The tick of our first NEWLEADER to it: its ack proves it heard us no earlier. */
  newLeaderTick: number;
  /** The follower's tick from its latest PONG: the next PING grants it (-1: nothing to grant). */
  grant: number;
  /** The newest grant already reported to the driver with `leaseGranted`. */
  grantReported: number;
  /** Phase 'snapshot' only: the SNAP stream to it. */
  snap: SnapStream | null;
}

export type LeaderPhase = 'discovery' | 'epochAck' | 'sync' | 'broadcast';

export interface LeaderState {
  phase: LeaderPhase;
  /** The new epoch; -1 until decided. */
  epoch: number;
  readonly connecting: Map<number, number>;
  readonly epochAckers: Set<number>;
  readonly newLeaderAckers: Set<number>;
  readonly handlers: Map<number, Handler>;
  readonly deadline: number;
  /** Our last zxid when synchronization began: the initial history of the epoch. */
  historyLast: number;
  selfAcked: boolean;
  nextCounter: number;
  /** The lease anchor last reported to the driver (-1: none yet). */
  leaseAnchor: number;
}

function st(node: ZabNode): LeaderState {
  invariant(node.leader !== null, 'not leading');
  return node.leader;
}

export function startLeading(node: ZabNode): void {
  node.leader = {
    phase: 'discovery',
    epoch: -1,
    connecting: new Map([[node.myId, node.acceptedEpoch]]),
    epochAckers: new Set(),
    newLeaderAckers: new Set(),
    handlers: new Map(),
    deadline: node.now + node.cfg.initLimit,
    historyLast: -1,
    selfAcked: false,
    nextCounter: 1,
    leaseAnchor: -1,
  };
  maybeDecideEpoch(node);
}

function stepDown(node: ZabNode, reason: string): void {
  node.becomeLooking(reason);
}

function maybeDecideEpoch(node: ZabNode): void {
  const L = st(node);
  if (L.phase !== 'discovery' || L.connecting.size < node.quorum) return;
  const epoch = Math.max(...L.connecting.values()) + 1;
  invariant(epoch <= MAX_EPOCH, 'epoch space exhausted');
  // Durable before any LEADERINFO: after a restart we must never lead (or accept) this epoch again.
  node.persistEpoch('acceptedEpoch', epoch);
  L.epoch = epoch;
  L.phase = 'epochAck';
  L.epochAckers.add(node.myId);
  for (const h of L.handlers.values()) if (h.phase === 'info') sendLeaderInfo(node, h);
  maybeEpochQuorum(node);
}

/** Our link to `peer` is up again: a LEADERINFO it is waiting for may have been dropped, so it goes again. */
export function leaderPeerConnected(node: ZabNode, peer: number): void {
  const h = st(node).handlers.get(peer);
  if (h !== undefined && h.phase === 'epoch') sendLeaderInfo(node, h);
}

function sendLeaderInfo(node: ZabNode, h: Handler): void {
  node.send(h.sid, { type: 'leaderinfo', attempt: h.attempt, epoch: st(node).epoch, session: h.session });
  h.phase = 'epoch';
}

function maybeEpochQuorum(node: ZabNode): void {
  const L = st(node);
  if (L.phase !== 'epochAck' || L.epochAckers.size < node.quorum) return;
  L.phase = 'sync';
  // No proposals are accepted before we are established, so this history is fixed until then.
  L.historyLast = node.log.lastZxid;
  maybeSelfAck(node);
  if (node.role !== 'leading') return;
  for (const h of L.handlers.values()) if (h.phase === 'acked') startSync(node, h);
}

/** Our own NEWLEADER ack: history durable first, then currentEpoch (ZOOKEEPER-4643 order). */
function maybeSelfAck(node: ZabNode): void {
  const L = st(node);
  if (L.phase !== 'sync' || L.selfAcked || node.durableZxid < L.historyLast) return;
  node.persistEpoch('currentEpoch', L.epoch);
  L.selfAcked = true;
  L.newLeaderAckers.add(node.myId);
  maybeEstablished(node);
}

function maybeEstablished(node: ZabNode): void {
  const L = st(node);
  if (L.phase !== 'sync' || L.newLeaderAckers.size < node.quorum) return;
  L.phase = 'broadcast';
  // A quorum durably holds our whole history and will not accept an older epoch: it is committed.
  node.commitTo(L.historyLast);
  // Answer looking servers with the established epoch: every member of the ensemble then reports
  // the same (leader, peerEpoch), so a joining server sees a quorum agree (see election.ts).
  node.vote = { leader: node.myId, zxid: node.log.lastZxid, peerEpoch: L.epoch };
  node.emit({ type: 'role', role: 'leading', leaderId: node.myId, epoch: L.epoch, synced: true });
  updateLease(node);
  if (node.role !== 'leading') return;
  for (const h of L.handlers.values()) if (h.phase === 'synced') sendUpToDate(node, h);
}

/** The tick our lease hangs on: the quorum-th newest of our ticks answered (we answer ourselves now). */
function quorumAnsweredTick(node: ZabNode): number {
  const L = st(node);
  const answered = [node.now];
  for (const h of L.handlers.values()) if (h.phase === 'synced') answered.push(h.answeredTick);
  if (answered.length < node.quorum) return -1;
  answered.sort((a, b) => b - a);
  return answered[node.quorum - 1] as number;
}

/** Recomputes the lease after anything that moves it (answers, a lost follower); steps down when it ran out. */
function updateLease(node: ZabNode): void {
  const L = st(node);
  if (L.phase !== 'broadcast') return;
  const anchor = quorumAnsweredTick(node);
  const ticks = node.cfg.syncLimit - 1;
  if (anchor < 0 || node.now - anchor >= ticks) return stepDown(node, 'lost the quorum lease');
  if (anchor === L.leaseAnchor) return;
  L.leaseAnchor = anchor;
  node.emit({ type: 'lease', anchorTick: anchor, ticks });
}

function sendUpToDate(node: ZabNode, h: Handler): void {
  node.send(h.sid, { type: 'uptodate', epoch: st(node).epoch, session: h.session, commitZxid: node.commitZxid });
}

function startSync(node: ZabNode, h: Handler): void {
  const L = st(node);
  const plan = planSync(node.log, h.peerLastZxid);
  if (plan.mode === 'snap') {
    h.phase = 'snapshot';
    openSnapStream(node, h);
    return;
  }
  if (plan.mode === 'diff') {
    node.send(h.sid, { type: 'diff', epoch: L.epoch, session: h.session });
    sendHistory(node, h, plan.from);
  } else {
    node.send(h.sid, { type: 'trunc', epoch: L.epoch, session: h.session, zxid: plan.to });
    sendHistory(node, h, plan.to);
  }
}

/** Everything after `from`, what of it is committed, then NEWLEADER. From here on the handler
 * also gets every new proposal (ZooKeeper's startForwarding). */
function sendHistory(node: ZabNode, h: Handler, from: number): void {
  const L = st(node);
  let prevZxid = from;
  for (const e of node.log.range(from)) {
    node.send(h.sid, { type: 'proposal', epoch: L.epoch, session: h.session, prevZxid, zxid: e.zxid, payload: e.payload });
    prevZxid = e.zxid;
  }
  if (node.commitZxid > from) node.send(h.sid, { type: 'commit', epoch: L.epoch, session: h.session, zxid: node.commitZxid });
  h.newLeaderZxid = node.log.lastZxid;
  node.send(h.sid, { type: 'newleader', epoch: L.epoch, session: h.session, zxid: h.newLeaderZxid });
  h.newLeaderTick = node.now;
  h.phase = 'syncing';
}

// ---- SNAP streams ----------------------------------------------------------------------------

function openSnapStream(node: ZabNode, h: Handler): void {
  // The driver's image reflects at least what we have committed by now (commits are applied in
  // the order emitted, before this action runs): keeping the log from here keeps its zxid.
  h.snap = { zxid: -1, pin: node.commitZxid, nextSeq: 0, unacked: [], unackedBytes: 0, reading: false, sentBytes: 0 };
  node.emit({ type: 'openSnapshot', peer: h.sid, stream: h.session });
}

/** The handler's stream ends here (finished, or the handler is going away): release the image. */
export function endSnapStream(node: ZabNode, h: Handler): void {
  if (h.snap === null) return;
  h.snap = null;
  node.emit({ type: 'closeSnapshot', peer: h.sid, stream: h.session });
}

/** The lowest zxid a running SNAP stream needs the log from (Infinity: none). */
export function leaderSnapPin(node: ZabNode): number {
  let pin = Infinity;
  for (const h of st(node).handlers.values()) if (h.snap !== null) pin = Math.min(pin, h.snap.pin);
  return pin;
}

/** The stream of `stream` to `peer`, if it is the one running; otherwise the image is released. */
function liveStream(node: ZabNode, peer: number, stream: number): { h: Handler; s: SnapStream } | undefined {
  const h = st(node).handlers.get(peer);
  if (h === undefined || h.session !== stream || h.phase !== 'snapshot' || h.snap === null) {
    node.emit({ type: 'closeSnapshot', peer, stream });
    return undefined;
  }
  return { h, s: h.snap };
}

export function leaderOnSnapshotOpened(node: ZabNode, peer: number, stream: number, zxid: number): void {
  const live = liveStream(node, peer, stream);
  if (live === undefined) return;
  const { h, s } = live;
  invariant(s.zxid < 0, 'snapshotOpened twice for one stream');
  if (zxid < s.pin || !node.log.has(zxid) || zxid > node.commitZxid) {
    // Not an image we can continue from with our log (cannot happen while the driver keeps its
    // contract, but a wrong image must never reach a follower): ask for another.
    endSnapStream(node, h);
    openSnapStream(node, h);
    return;
  }
  s.zxid = zxid;
  s.pin = zxid;
  pumpSnapStream(node, h, s);
}

export function leaderOnSnapshotChunk(node: ZabNode, peer: number, stream: number, bytes: Buffer, last: boolean): void {
  const live = liveStream(node, peer, stream);
  if (live === undefined) return;
  const { h, s } = live;
  invariant(s.reading && s.zxid >= 0, 'snapshotChunk without a readSnapshot');
  invariant(bytes.length <= node.cfg.snapChunkBytes, () => `a snapshot chunk of ${bytes.length} bytes exceeds ${node.cfg.snapChunkBytes}`);
  invariant(bytes.length > 0 || last, 'an empty snapshot chunk before the last');
  s.reading = false;
  node.send(peer, { type: 'snapchunk', epoch: st(node).epoch, session: h.session, zxid: s.zxid, seq: s.nextSeq, last, bytes });
  s.nextSeq++;
  s.unacked.push(bytes.length);
  s.unackedBytes += bytes.length;
  s.sentBytes += bytes.length;
  if (!last) return pumpSnapStream(node, h, s);
  // The whole image is out: what follows it goes out like a DIFF from its zxid, in order behind
  // it on the same link. Acks of the stream are no longer needed.
  const from = s.zxid;
  endSnapStream(node, h);
  sendHistory(node, h, from);
}

function onSnapAck(node: ZabNode, h: Handler, seq: number): void {
  const s = h.snap;
  // An ack of a chunk we never sent (or of an ended stream) is ignored: acks only open windows.
  if (h.phase !== 'snapshot' || s === null || seq >= s.nextSeq) return;
  while (s.unacked.length > 0 && s.nextSeq - s.unacked.length <= seq) s.unackedBytes -= s.unacked.shift() as number;
  pumpSnapStream(node, h, s);
}

/** Ask for the next chunk if none is being read and the window has room for a whole one. */
function pumpSnapStream(node: ZabNode, h: Handler, s: SnapStream): void {
  if (s.reading || s.zxid < 0) return;
  if (s.unackedBytes + node.cfg.snapChunkBytes > node.cfg.snapWindowBytes) return;
  s.reading = true;
  node.emit({ type: 'readSnapshot', peer: h.sid, stream: h.session, maxBytes: node.cfg.snapChunkBytes });
}

export function onFollowerMessage(node: ZabNode, from: number, msg: ZabMessage): void {
  const L = st(node);
  if (msg.type === 'followerinfo') return onFollowerInfo(node, from, msg.attempt, msg.acceptedEpoch, msg.lastZxid);
  const h = L.handlers.get(from);
  if (h === undefined) return;
  if (!('epoch' in msg) || msg.epoch !== L.epoch) return;
  if ('session' in msg && msg.session !== h.session) return;
  h.lastHeard = node.now;
  switch (msg.type) {
    case 'ackepoch':
      if (h.phase !== 'epoch') return;
      h.phase = 'acked';
      h.peerCurrentEpoch = msg.currentEpoch;
      h.peerLastZxid = msg.lastZxid;
      if (L.phase === 'epochAck') {
        if (!msg.acceptedNow) return;
        const mine = { e: node.currentEpoch, z: node.log.lastZxid };
        if (msg.currentEpoch > mine.e || (msg.currentEpoch === mine.e && msg.lastZxid > mine.z)) {
          return stepDown(node, `follower ${from} is ahead of the leader`);
        }
        L.epochAckers.add(from);
        maybeEpochQuorum(node);
      } else {
        startSync(node, h);
      }
      return;
    case 'ack':
      if (msg.newLeader) {
        if (h.phase !== 'syncing' || msg.zxid < h.newLeaderZxid) return;
        h.phase = 'synced';
        h.ackedZxid = Math.min(msg.zxid, node.log.lastZxid);
        h.answeredTick = Math.max(h.answeredTick, h.newLeaderTick);
        L.newLeaderAckers.add(from);
        if (L.phase === 'broadcast') sendUpToDate(node, h);
        else maybeEstablished(node);
        if (node.role !== 'leading') return;
      } else {
        // ZOOKEEPER-4685: an ACK of a proposal from a follower that has not (yet, as far as we
        // know) acked NEWLEADER is ignored, not a reason to tear the quorum down.
        if (h.phase !== 'synced') return;
        h.ackedZxid = Math.max(h.ackedZxid, Math.min(msg.zxid, node.log.lastZxid));
      }
      tryCommit(node);
      return;
    case 'pong':
      // Any PONG of this connection proves the follower heard that PING (during sync too). A
      // duplicated or delayed one never moves the lease back, nor past what we actually sent.
      if (msg.pingTick <= node.now && msg.pingTick > h.answeredTick) {
        h.answeredTick = msg.pingTick;
        updateLease(node);
        if (node.role !== 'leading') return;
      }
      if (msg.synced && h.phase === 'synced') {
        h.ackedZxid = Math.max(h.ackedZxid, Math.min(msg.zxid, node.log.lastZxid));
        h.grant = Math.max(h.grant, msg.tick);
        // A follower that just synced (it PONGs at UPTODATE) gets its first lease now, not a
        // tick later: until then it cannot serve its clients.
        if (h.grantReported < 0 && L.phase === 'broadcast') sendPing(node, h);
        tryCommit(node);
      }
      return;
    case 'snapack':
      return onSnapAck(node, h, msg.seq);
    case 'request':
      if (h.phase === 'synced') node.emit({ type: 'forwarded', from, payload: msg.payload });
      return;
    default:
      return;
  }
}

function onFollowerInfo(node: ZabNode, from: number, attempt: number, acceptedEpoch: number, lastZxid: number): void {
  const L = st(node);
  const old = L.handlers.get(from);
  if (old !== undefined && old.attempt === attempt) {
    old.lastHeard = node.now;
    if (old.phase === 'epoch') sendLeaderInfo(node, old);
    return;
  }
  if (L.phase !== 'discovery' && acceptedEpoch > L.epoch) {
    // Someone accepted a newer epoch than ours: we can never get it to follow us. Remember the
    // epoch so our next attempt proposes a higher one, and step down.
    node.persistEpoch('acceptedEpoch', acceptedEpoch);
    return stepDown(node, `follower ${from} accepted epoch ${acceptedEpoch} > ${L.epoch}`);
  }
  if (old !== undefined) endSnapStream(node, old);
  const h: Handler = {
    sid: from,
    attempt,
    session: ++node.sessionSeq,
    phase: 'info',
    peerCurrentEpoch: -1,
    peerLastZxid: lastZxid,
    newLeaderZxid: -1,
    ackedZxid: -1,
    lastHeard: node.now,
    answeredTick: -1,
    newLeaderTick: node.now,
    grant: -1,
    grantReported: -1,
    snap: null,
  };
  L.handlers.set(from, h);
  if (L.phase === 'discovery') {
    L.connecting.set(from, Math.max(acceptedEpoch, L.connecting.get(from) ?? 0));
    maybeDecideEpoch(node);
  } else {
    sendLeaderInfo(node, h);
  }
}

export function onStale(node: ZabNode, from: number, epoch: number): void {
  const L = st(node);
  const mine = L.epoch >= 0 ? L.epoch : node.acceptedEpoch;
  if (epoch <= mine) return;
  node.persistEpoch('acceptedEpoch', epoch);
  stepDown(node, `peer ${from} is in epoch ${epoch}`);
}

export function onFollowerDisconnected(node: ZabNode, peer: number): void {
  const h = st(node).handlers.get(peer);
  if (h === undefined) return;
  endSnapStream(node, h);
  st(node).handlers.delete(peer);
  updateLease(node);
}

export function leaderPersisted(node: ZabNode): void {
  const L = st(node);
  if (L.phase === 'sync') maybeSelfAck(node);
  else if (L.phase === 'broadcast') tryCommit(node);
}

/** Commit the highest zxid a quorum (us included) has durably logged. Acks are cumulative, so
 * this is always a prefix: commits go out in zxid order. */
function tryCommit(node: ZabNode): void {
  const L = st(node);
  if (L.phase !== 'broadcast') return;
  const acks = [node.durableZxid];
  for (const h of L.handlers.values()) if (h.phase === 'synced') acks.push(h.ackedZxid);
  if (acks.length < node.quorum) return;
  acks.sort((a, b) => b - a);
  const q = acks[node.quorum - 1] as number;
  if (q <= node.commitZxid) return;
  node.commitTo(q);
  for (const h of L.handlers.values()) {
    if (h.phase === 'syncing' || h.phase === 'synced') node.send(h.sid, { type: 'commit', epoch: L.epoch, session: h.session, zxid: node.commitZxid });
  }
}

/** The zxid the next `propose` will get, if this leader can propose now (lets the driver prep against it). */
export function leaderNextZxid(node: ZabNode): number | undefined {
  const L = node.leader;
  if (!L || L.phase !== 'broadcast' || L.nextCounter >= node.cfg.zxidCounterLimit) return undefined;
  return makeZxid(L.epoch, L.nextCounter);
}

export function leaderPropose(node: ZabNode, payload: Buffer): void {
  const L = st(node);
  if (L.phase !== 'broadcast') {
    node.emit({ type: 'rejected', reason: 'not-established', payload });
    return;
  }
  if (L.nextCounter >= node.cfg.zxidCounterLimit) {
    // ZOOKEEPER-1277: the counter would roll over into the epoch bits. Force a new epoch.
    node.emit({ type: 'rejected', reason: 'zxid-rollover', payload });
    return stepDown(node, 'zxid counter exhausted');
  }
  const zxid = makeZxid(L.epoch, L.nextCounter++);
  const prevZxid = node.log.lastZxid;
  node.appendLocal([{ zxid, payload }]);
  node.emit({ type: 'proposed', zxid, payload });
  for (const h of L.handlers.values()) {
    if (h.phase === 'syncing' || h.phase === 'synced') node.send(h.sid, { type: 'proposal', epoch: L.epoch, session: h.session, prevZxid, zxid, payload });
  }
}

export function leaderSendOpaque(node: ZabNode, to: number, payload: Buffer): void {
  const L = st(node);
  const h = L.handlers.get(to);
  if (h !== undefined && h.phase === 'synced') node.send(to, { type: 'opaque', epoch: L.epoch, payload });
}

export function leaderTick(node: ZabNode): void {
  const L = st(node);
  if (L.phase !== 'broadcast' && node.now >= L.deadline) return stepDown(node, 'initLimit expired before a quorum synced');
  for (const h of [...L.handlers.values()]) {
    const limit = h.phase === 'synced' ? node.cfg.syncLimit : node.cfg.initLimit;
    if (node.now - h.lastHeard > limit) {
      endSnapStream(node, h);
      L.handlers.delete(h.sid);
      // It may still believe it follows us: reset the link so it looks for a leader now.
      node.emit({ type: 'disconnect', peer: h.sid });
    }
  }
  updateLease(node);
  if (node.role !== 'leading' || L.epoch < 0) return;
  for (const h of L.handlers.values()) {
    // A lost NEWLEADER would otherwise stall this follower until initLimit.
    if (h.phase === 'syncing') node.send(h.sid, { type: 'newleader', epoch: L.epoch, session: h.session, zxid: h.newLeaderZxid });
    sendPing(node, h);
  }
}

function sendPing(node: ZabNode, h: Handler): void {
  const L = st(node);
  // Grants go out only from a leader whose own lease holds (updateLease stepped down otherwise).
  const grant = L.phase === 'broadcast' && h.phase === 'synced' ? h.grant : -1;
  // The follower's lease runs from its PONG, which it sent before we first grant it: counting
  // from this first grant bounds it from above. Repeats of the same grant extend nothing.
  if (grant > h.grantReported) {
    h.grantReported = grant;
    node.emit({ type: 'leaseGranted', peer: h.sid, ticks: node.cfg.followerLeaseTicks });
  }
  node.send(h.sid, { type: 'ping', epoch: L.epoch, session: h.session, commitZxid: node.commitZxid, lastZxid: node.log.lastZxid, upToDate: L.phase === 'broadcast' && h.phase === 'synced', tick: node.now, grant });
}
