/**
 * Fast Leader Election (FastLeaderElection.lookForLeader), driven by ticks instead of a blocking
 * receive with timeouts.
 *
 * - A round (logicalclock) starts with a vote for ourselves, broadcast to every voter.
 * - A notification from a higher round restarts our round at that number; a better vote in our
 *   round is adopted and re-broadcast; a notification from a lower round, or a worse vote in our
 *   round, is answered with ours (ZooKeeper answers only the former and leaves the latter to its
 *   200 ms re-send; ours re-sends on ticks, so it answers at once).
 * - Once a quorum's votes in our round equal ours, we decide at once if every voter we are
 *   connected to has voted the same (no better vote can still come from a reachable server);
 *   otherwise we wait electionFinalizeTicks for a better vote (finalizeWait) and then decide.
 *   So a failover waits for messages, not for ticks.
 * - Servers out of the election (FOLLOWING/LEADING) answer with the established leader. We follow
 *   it when a quorum of them agrees and the leader itself says LEADING (checkLeader), which lets
 *   a restarted server join without a new election.
 * - While undecided we re-send our notification with exponential back-off (1, 2, 4 ... ticks,
 *   capped), which also repairs lost notifications.
 */
import { invariant } from './errors.js';
import type { NotificationMsg, PeerState, Vote } from './messages.js';
import type { ZabNode } from './node.js';
import { isBetterVote, sameEstablishedVote, sameVote } from './vote.js';

export interface LookingState {
  /** Votes of our round (recvset), by sender; always contains our own. */
  readonly votes: Map<number, Vote>;
  /** Votes of servers out of the election, by sender. */
  readonly outOfElection: Map<number, { vote: Vote; state: PeerState; round: number }>;
  /** Tick at which we decide if no better vote arrived; null if no quorum agrees yet. */
  finalizeAt: number | null;
  nextNotifyAt: number;
  backoff: number;
}

export function startElection(node: ZabNode): void {
  node.round++;
  node.vote = node.selfVote();
  node.looking = {
    votes: new Map([[node.myId, node.vote]]),
    outOfElection: new Map(),
    finalizeAt: null,
    nextNotifyAt: node.now + 1,
    backoff: 1,
  };
  broadcast(node);
  checkQuorum(node);
}

function st(node: ZabNode): LookingState {
  invariant(node.looking !== null, 'not looking');
  return node.looking;
}

function broadcast(node: ZabNode): void {
  const n = node.notification();
  for (const p of node.otherVoters()) node.send(p, n);
}

function setVote(node: ZabNode, vote: Vote): void {
  node.vote = vote;
  st(node).votes.set(node.myId, vote);
  broadcast(node);
}

/** Count voters whose vote satisfies `eq` with `target`. */
function agreeing(node: ZabNode, votes: Iterable<[number, Vote]>, target: Vote, eq: (a: Vote, b: Vote) => boolean): number {
  let n = 0;
  for (const [sid, v] of votes) if (node.voters.has(sid) && eq(v, target)) n++;
  return n;
}

/** Every voter we hold a connection to has voted as we do in this round. */
function reachableAgree(node: ZabNode, s: LookingState): boolean {
  for (const p of node.reachable) {
    if (p === node.myId || !node.voters.has(p)) continue;
    const v = s.votes.get(p);
    if (v === undefined || !sameVote(v, node.vote)) return false;
  }
  return true;
}

function checkQuorum(node: ZabNode): void {
  const s = st(node);
  if (agreeing(node, s.votes, node.vote, sameVote) >= node.quorum) {
    if (reachableAgree(node, s)) return node.decide(node.vote, node.round);
    if (s.finalizeAt === null) s.finalizeAt = node.now + node.cfg.electionFinalizeTicks;
    if (s.finalizeAt <= node.now) node.decide(node.vote, node.round);
  } else {
    s.finalizeAt = null;
  }
}

export function onNotification(node: ZabNode, from: number, n: NotificationMsg): void {
  const s = st(node);
  const vote: Vote = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
  // A vote for a non-voter can never win; ignore it (ZooKeeper: validVoter).
  if (!node.voters.has(vote.leader)) return;
  if (n.state === 'looking') {
    if (n.round > node.round) {
      node.round = n.round;
      s.votes.clear();
      const mine = node.selfVote();
      node.vote = isBetterVote(vote, mine) ? vote : mine;
      s.votes.set(node.myId, node.vote);
      s.finalizeAt = null;
      broadcast(node);
    } else if (n.round < node.round) {
      // The sender is behind: bring it to our round.
      node.send(from, node.notification());
      return;
    } else if (isBetterVote(vote, node.vote)) {
      s.finalizeAt = null;
      setVote(node, vote);
    } else if (!sameVote(vote, node.vote)) {
      // The sender votes worse than we do in our round, so it has not counted our vote: it was
      // most likely still FOLLOWING when we broadcast (a server out of the election answers a
      // notification instead of counting it). Tell it now rather than at the next back-off
      // re-send, one tick away: 2 s at ZooKeeper's default tickTime. It adopts ours and
      // re-broadcasts; an equal vote gets no answer, so this cannot ping-pong.
      node.send(from, node.notification());
    }
    s.votes.set(from, vote);
    checkQuorum(node);
    return;
  }
  // The sender is FOLLOWING or LEADING.
  if (n.round === node.round) {
    s.votes.set(from, vote);
    if (agreeing(node, s.votes, vote, sameVote) >= node.quorum && leaderConfirmed(node, s, vote.leader, n.round, from, n.state)) {
      node.decide(vote, n.round);
      return;
    }
  }
  s.outOfElection.set(from, { vote, state: n.state, round: n.round });
  const agree = [...s.outOfElection].map(([sid, o]) => [sid, o.vote] as [number, Vote]);
  if (agreeing(node, agree, vote, sameEstablishedVote) >= node.quorum && leaderConfirmed(node, s, vote.leader, n.round, from, n.state)) {
    node.decide(vote, n.round);
  }
}

/** checkLeader: follow another server only if it told us itself that it is LEADING. */
function leaderConfirmed(node: ZabNode, s: LookingState, leader: number, round: number, from: number, state: PeerState): boolean {
  if (leader === node.myId) return round === node.round;
  if (from === leader) return state === 'leading';
  return s.outOfElection.get(leader)?.state === 'leading';
}

export function lookingTick(node: ZabNode): void {
  const s = st(node);
  if (s.finalizeAt !== null && s.finalizeAt <= node.now) {
    checkQuorum(node);
    if (node.role !== 'looking') return;
  }
  if (node.now >= s.nextNotifyAt) {
    broadcast(node);
    s.backoff = Math.min(s.backoff * 2, node.cfg.electionMaxBackoffTicks);
    s.nextNotifyAt = node.now + s.backoff;
  }
}
