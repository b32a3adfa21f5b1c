/**
 * Vote ordering of Fast Leader Election (FastLeaderElection.totalOrderPredicate): a vote is
 * better when its peerEpoch (the candidate's currentEpoch) is higher, then its last zxid, then its
 * server id. Comparing the epoch first matters: a server that has acknowledged NEWLEADER of epoch
 * e holds e's initial history, which beats a longer log from an older epoch.
 */
import type { Vote } from './messages.js';

export function compareVotes(a: Vote, b: Vote): number {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch < b.peerEpoch ? -1 : 1;
  if (a.zxid !== b.zxid) return a.zxid < b.zxid ? -1 : 1;
  if (a.leader !== b.leader) return a.leader < b.leader ? -1 : 1;
  return 0;
}

/** Whether `candidate` should replace `current` (strictly better). */
export function isBetterVote(candidate: Vote, current: Vote): boolean {
  return compareVotes(candidate, current) > 0;
}

export function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
}

/**
 * Votes of servers that are out of the election (FOLLOWING/LEADING) agree when they name the same
 * leader with the same peerEpoch; their zxids drift as the leader commits (ZooKeeper's Vote.equals).
 */
export function sameEstablishedVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}
