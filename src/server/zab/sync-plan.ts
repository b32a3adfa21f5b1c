/**
 * How a leader brings one follower to its history (LearnerHandler.syncFollower), decided from the
 * follower's last zxid alone.
 *
 * - DIFF: the follower's last zxid is in our log (or is our snapshot base): send what follows.
 * - TRUNC: the follower has entries we do not (an uncommitted tail of an old epoch). Truncate it
 *   to our last zxid *of the same epoch* at or below its last zxid, then DIFF from there. Two logs
 *   that share an entry of epoch e agree on everything up to it (both synced with e's leader and
 *   e's counters are consecutive), so that is their longest common prefix: truncating less keeps
 *   a divergent entry, truncating more (ZOOKEEPER-1156: truncation went past the common point and
 *   discarded committed txns) loses data. If our nearest entry is of another epoch, the follower
 *   holds an epoch we never saw and the common prefix is unknown: TRUNC would have to cross an
 *   epoch boundary, which ZooKeeper also refuses; send a snapshot instead (ZOOKEEPER-1154 was a
 *   new leader that synced such a follower with a wrong point).
 * - SNAP: the follower is behind our snapshot base (we no longer hold the entries it misses).
 */
import { invariant } from './errors.js';
import type { MemLog } from './log.js';
import { formatZxid, zxidEpoch } from './zxid.js';

export type SyncPlan =
  | { readonly mode: 'diff'; readonly from: number }
  | { readonly mode: 'trunc'; readonly to: number }
  | { readonly mode: 'snap' };

export function planSync(log: MemLog, peerLastZxid: number): SyncPlan {
  if (log.has(peerLastZxid)) return { mode: 'diff', from: peerLastZxid };
  const floor = log.floor(peerLastZxid);
  if (floor === undefined) return { mode: 'snap' };
  invariant(floor < peerLastZxid, () => `floor ${formatZxid(floor)} of ${formatZxid(peerLastZxid)}`);
  if (zxidEpoch(floor) === zxidEpoch(peerLastZxid)) return { mode: 'trunc', to: floor };
  return { mode: 'snap' };
}
