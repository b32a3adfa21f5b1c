/**
 * Quorum messages. Plain objects; `codec.ts` turns them into bytes for TCP. The sender's id is not
 * part of a message: the transport knows which peer a connection belongs to.
 *
 * Every leader<->follower message after LEADERINFO carries the leader's `epoch` and a `session`
 * the leader assigned for this follower connection, so a duplicated, delayed or reordered message
 * from an earlier connection or an earlier leader can be recognised and dropped. Acknowledgements
 * are cumulative ("everything up to zxid is durable here"), which makes lost and duplicated ACKs
 * harmless.
 */
export type PeerState = 'looking' | 'following' | 'leading';

export interface Vote {
  /** Proposed leader. */
  readonly leader: number;
  /** The proposed leader's last logged zxid. */
  readonly zxid: number;
  /** The proposed leader's currentEpoch. */
  readonly peerEpoch: number;
}

/** Fast Leader Election notification (ZooKeeper's ToSend/Notification). */
export interface NotificationMsg extends Vote {
  readonly type: 'notification';
  readonly state: PeerState;
  /** The sender's election round (ZooKeeper's logicalclock / electionEpoch). */
  readonly round: number;
}

/** Follower -> leader: "I want to follow you". `attempt` tells a retransmission from a new try. */
export interface FollowerInfoMsg {
  readonly type: 'followerinfo';
  readonly attempt: number;
  readonly acceptedEpoch: number;
  readonly lastZxid: number;
}

/** Leader -> follower: the proposed new epoch (LEADERINFO / NEWEPOCH). */
export interface LeaderInfoMsg {
  readonly type: 'leaderinfo';
  readonly attempt: number;
  readonly epoch: number;
  readonly session: number;
}

/** Follower -> leader. `acceptedNow` is false when the follower had already accepted this epoch
 * before (ZooKeeper sends currentEpoch -1): such a reply must not count toward the epoch quorum. */
export interface AckEpochMsg {
  readonly type: 'ackepoch';
  readonly epoch: number;
  readonly session: number;
  readonly currentEpoch: number;
  readonly lastZxid: number;
  readonly acceptedNow: boolean;
}

interface Sessioned {
  readonly epoch: number;
  readonly session: number;
}
export interface DiffMsg extends Sessioned { readonly type: 'diff' }
/** Discard log entries after `zxid`. */
export interface TruncMsg extends Sessioned { readonly type: 'trunc'; readonly zxid: number }
/**
 * One chunk of a SNAP: the leader's applied state at `zxid`, serialized (snapshot-codec.ts) and
 * cut into byte ranges, numbered from 0 in `seq`, the final one marked `last`. A session carries
 * at most one SNAP stream, so (epoch, session, seq) names a chunk: a duplicate is the same bytes.
 * The bytes of one chunk are at most the leader's chunk size (codec bound MAX_SNAP_CHUNK_BYTES);
 * no message carries the whole tree. Proposals, COMMIT and NEWLEADER follow the `last` chunk.
 */
export interface SnapChunkMsg extends Sessioned {
  readonly type: 'snapchunk';
  readonly zxid: number;
  readonly seq: number;
  readonly last: boolean;
  readonly bytes: Buffer;
}
/** Follower -> leader, cumulative: "I hold SNAP chunks 0..seq of this session's stream" (in
 * memory, not durably: nothing is durable before NEWLEADER). Opens the leader's window. */
export interface SnapAckMsg extends Sessioned { readonly type: 'snapack'; readonly seq: number }
/** `prevZxid` is the entry before this one in the leader's log: the follower appends only if its
 * log ends exactly there. Epoch boundaries make counters skip, so "the next counter" alone cannot
 * tell that the tail of an older epoch was lost in transit. */
export interface ProposalMsg extends Sessioned { readonly type: 'proposal'; readonly prevZxid: number; readonly zxid: number; readonly payload: Buffer }
/** Cumulative: everything up to zxid is committed. */
export interface CommitMsg extends Sessioned { readonly type: 'commit'; readonly zxid: number }
/** "You now hold my history up to zxid." */
export interface NewLeaderMsg extends Sessioned { readonly type: 'newleader'; readonly zxid: number }
/** Follower -> leader, cumulative: "my log is durable up to zxid". `newLeader` marks the ACK of NEWLEADER. */
export interface AckMsg extends Sessioned { readonly type: 'ack'; readonly zxid: number; readonly newLeader: boolean }
export interface UpToDateMsg extends Sessioned { readonly type: 'uptodate'; readonly commitZxid: number }
/** Leader -> follower every tick. `upToDate` repeats UPTODATE for a follower that has synced;
 * `lastZxid` (the leader's last proposal) lets a follower notice that it lost the last proposals
 * of a burst, which no later proposal would reveal. `tick` is the leader's tick when sent, echoed
 * by the PONG: the leader's quorum lease is anchored on it. `grant` (-1: none) is a follower tick
 * taken from an earlier PONG: the follower may serve clients until that tick + followerLeaseTicks. */
export interface PingMsg extends Sessioned {
  readonly type: 'ping';
  readonly commitZxid: number;
  readonly lastZxid: number;
  readonly upToDate: boolean;
  readonly tick: number;
  readonly grant: number;
}
/** Follower -> leader answer to PING. `zxid` is a cumulative ack when `synced` (NEWLEADER acked).
 * `pingTick` echoes the PING's tick; `tick` is the follower's own tick, which a later PING grants. */
export interface PongMsg extends Sessioned { readonly type: 'pong'; readonly synced: boolean; readonly zxid: number; readonly pingTick: number; readonly tick: number }
/** Follower -> leader: opaque request forwarded by the server glue. */
export interface RequestMsg { readonly type: 'request'; readonly epoch: number; readonly payload: Buffer }
/** Leader -> follower: opaque reply/notification from the server glue. */
export interface OpaqueMsg { readonly type: 'opaque'; readonly epoch: number; readonly payload: Buffer }
/** Reply to a leader-only message from an epoch older than the receiver's acceptedEpoch. */
export interface StaleMsg { readonly type: 'stale'; readonly epoch: number }

export type ZabMessage =
  | NotificationMsg
  | FollowerInfoMsg
  | LeaderInfoMsg
  | AckEpochMsg
  | DiffMsg
  | TruncMsg
  | SnapChunkMsg
  | SnapAckMsg
  | ProposalMsg
  | CommitMsg
  | NewLeaderMsg
  | AckMsg
  | UpToDateMsg
  | PingMsg
  | PongMsg
  | RequestMsg
  | OpaqueMsg
  | StaleMsg;

export type MessageType = ZabMessage['type'];

/** Messages only a leader sends to its followers. */
export const LEADER_MESSAGES: ReadonlySet<MessageType> = new Set<MessageType>([
  'leaderinfo', 'diff', 'trunc', 'snapchunk', 'proposal', 'commit', 'newleader', 'uptodate', 'ping', 'opaque',
]);
/** Messages only a follower sends to its leader. */
export const FOLLOWER_MESSAGES: ReadonlySet<MessageType> = new Set<MessageType>([
  'followerinfo', 'ackepoch', 'snapack', 'ack', 'pong', 'request',
]);
