/** Config, inputs and actions of the ZAB core. The contract is documented in index.ts. */
import type { ZabMessage } from './messages.js';

export interface ZabConfig {
  /** This server's id (a voter). */
  readonly myId: number;
  /** Ids of all voters, including myId. Quorum = majority of them. */
  readonly peers: readonly number[];
  /** Ticks a new leader has to complete discovery + synchronization with a quorum, and a
   * follower has to go from FOLLOWERINFO to UPTODATE. */
  readonly initLimit: number;
  /** Ticks without leader traffic after which a follower gives up. A leader serves only while a
   * quorum answered one of its pings sent less than syncLimit - 1 ticks ago (its lease), so it
   * stops before any follower can have given up on it; at least 2. */
  readonly syncLimit: number;
  /** How long a follower may serve clients after the PONG the leader last granted, in ticks.
   * The leader holds the sessions a follower owns for this long after its last grant (see
   * `leaseGranted`). Default 3: PINGs come once a tick and a grant answers the previous PONG, so 3 leaves a tick of slack. */
  readonly followerLeaseTicks?: number;
  /** Ticks an elector waits, once a quorum agrees with its vote, for a better vote (FLE's finalizeWait). */
  readonly electionFinalizeTicks: number;
  /** Cap of the election re-notification back-off, in ticks. Default 8. */
  readonly electionMaxBackoffTicks?: number;
  /** Testing aid: a leader treats counter values >= this as exhausted (ZOOKEEPER-1277).
   * Default 0xffffffff, i.e. counters 1..0xfffffffe are used. */
  readonly zxidCounterLimit?: number;
  /** Leader: the bytes of one SNAPCHUNK (1 .. MAX_SNAP_CHUNK_BYTES). Default 256 KiB. */
  readonly snapChunkBytes?: number;
  /** Leader: SNAP bytes sent to one follower and not yet acknowledged by it, at most (at least
   * one chunk). Default 1 MiB (4 chunks): on a LAN the acks come back long before that is out. */
  readonly snapWindowBytes?: number;
  /** Follower: a SNAP larger than this is refused (we resynchronise rather than hold it in
   * memory); it could not be read back from disk either. Default 2 GiB, the DataDir's bound. */
  readonly maxSnapshotBytes?: number;
}

export interface LogEntry {
  readonly zxid: number;
  readonly payload: Buffer;
}

/** What the driver restores from disk at start. */
export interface ZabDurableState {
  readonly acceptedEpoch: number;
  readonly currentEpoch: number;
  /** zxid of the state-machine snapshot the driver restored (0 if none): the state machine holds
   * exactly the txns up to it, and the core treats them as committed. */
  readonly snapshotZxid: number;
  /** Durable log entries with zxid > snapshotZxid, ascending. */
  readonly log: readonly LogEntry[];
}

export type Role = 'looking' | 'following' | 'leading';

export type ZabInput =
  | { readonly type: 'tick' }
  | { readonly type: 'message'; readonly from: number; readonly msg: ZabMessage }
  | { readonly type: 'propose'; readonly payload: Buffer }
  | { readonly type: 'persisted'; readonly upToZxid: number }
  | { readonly type: 'snapshotOpened'; readonly peer: number; readonly stream: number; readonly zxid: number }
  | { readonly type: 'snapshotChunk'; readonly peer: number; readonly stream: number; readonly bytes: Buffer; readonly last: boolean }
  | { readonly type: 'snapshotInstalled'; readonly zxid: number }
  | { readonly type: 'forward'; readonly payload: Buffer }
  | { readonly type: 'sendOpaque'; readonly to: number; readonly payload: Buffer }
  | { readonly type: 'peerConnected'; readonly peer: number }
  | { readonly type: 'electionLinkUp'; readonly peer: number }
  | { readonly type: 'peerDisconnected'; readonly peer: number };

export type EpochName = 'acceptedEpoch' | 'currentEpoch';

export type RejectReason = 'not-leader' | 'not-established' | 'zxid-rollover' | 'no-leader';

export type ZabAction =
  // --- durable writes: executed before anything after them in the batch ---
  | { readonly type: 'persistEpoch'; readonly name: EpochName; readonly value: number }
  | { readonly type: 'truncateLog'; readonly afterZxid: number }
  | { readonly type: 'installSnapshot'; readonly zxid: number; readonly chunks: number; readonly bytes: number; readonly entries: readonly LogEntry[] }
  | { readonly type: 'appendLog'; readonly entries: readonly LogEntry[] }
  // --- network ---
  | { readonly type: 'send'; readonly to: number; readonly msg: ZabMessage }
  // --- state machine and notifications ---
  | { readonly type: 'commit'; readonly upToZxid: number; readonly entries: readonly LogEntry[] }
  // --- SNAP streams (follower): the driver holds the image being received, for installSnapshot ---
  /** Chunk `seq` of the image at `zxid` being received, taken in order (seq 0 begins a new image). */
  | { readonly type: 'snapshotChunkTaken'; readonly zxid: number; readonly seq: number; readonly bytes: Buffer }
  /** The image being received will not be installed: what the driver kept of it goes. */
  | { readonly type: 'snapshotDropped'; readonly zxid: number }
  // --- SNAP streams (leader): the driver holds the images, the core decides when to read ---
  | { readonly type: 'openSnapshot'; readonly peer: number; readonly stream: number }
  | { readonly type: 'readSnapshot'; readonly peer: number; readonly stream: number; readonly maxBytes: number }
  | { readonly type: 'closeSnapshot'; readonly peer: number; readonly stream: number }
  | { readonly type: 'role'; readonly role: Role; readonly leaderId?: number; readonly epoch: number; readonly synced: boolean }
  | { readonly type: 'proposed'; readonly zxid: number; readonly payload: Buffer }
  | { readonly type: 'rejected'; readonly reason: RejectReason; readonly payload: Buffer }
  | { readonly type: 'forwarded'; readonly from: number; readonly payload: Buffer }
  | { readonly type: 'opaque'; readonly from: number; readonly payload: Buffer }
  // --- leases and links ---
  /** This server may answer clients until the wall of tick `anchorTick` + `ticks` ticks (measured on
   * the driver's monotonic clock from the moment it fed tick `anchorTick`), unless a later `lease`
   * replaces it. Any `role` action ends it. Leader: anchored on the oldest ping a quorum answered;
   * follower: on the PONG the leader last granted. */
  | { readonly type: 'lease'; readonly anchorTick: number; readonly ticks: number }
  /** Leader: `peer` may serve clients for at most `ticks` ticks from now (this tick): hold the
   * sessions it owns at least that long before expiring them. */
  | { readonly type: 'leaseGranted'; readonly peer: number; readonly ticks: number }
  /** Reset the quorum link with `peer`, so that its end sees the loss too (it drops us, or we drop it). */
  | { readonly type: 'disconnect'; readonly peer: number };

export type ActionType = ZabAction['type'];

export const DURABLE_ACTIONS: ReadonlySet<ActionType> = new Set<ActionType>(['persistEpoch', 'truncateLog', 'installSnapshot', 'appendLog']);
