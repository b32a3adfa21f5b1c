/**
 * How a node orders and executes writes. Standalone: prep here, log, fsync, apply
 * (standalone/local-write-path.ts). In a cluster: prep on the leader, replicate with ZAB,
 * apply on commit (cluster/replicated-write-path.ts). The client-facing node is the same for
 * both: it talks to the write path through this interface, and the write path talks back
 * through NodeServices.
 */
import type { Logger } from '../../log.js';
import type { Id } from '../../protocol/records.js';
import type { PushBackSource } from '../net/client-port.js';
import type { ZkState } from '../tree/state.js';
import type { ApplyResult, WriteRequest } from '../tree/types.js';
import type { Clock } from './clock.js';
import type { SessionTracker } from './session-tracker.js';

export interface WriteOrigin {
  sessionId: bigint;
  cxid: number;
  authIds: readonly Id[];
  /** The server's own request (session expiry, container reaper), not a client's. */
  internal?: boolean;
}

export type NodeMode = 'standalone' | 'leader' | 'follower' | 'looking';

export interface ProposalFigures {
  uncommitted: number;
  /** The most `uncommitted` has been since start. */
  peakUncommitted: number;
  deferred: number;
  /** Writes that ever had to wait for room (a count, since start). */
  deferredTotal: number;
}

export interface WritePath {
  mode(): NodeMode;
  /** False while a cluster node has no synced leader: it must not take clients then. */
  readonly serving: boolean;
  /** Whether a frame may leave for a client right now: the node's lease holds. Frames that may
   * not wait in order until `NodeServices.leaseRenewed()` (or the connection closes). */
  mayReply(): boolean;
  /** Orders and executes a write; `done` runs once it has been applied on this server.
   * `failed` runs instead if it can never be (this server could not propose it). */
  submit(origin: WriteOrigin, request: WriteRequest, done: (result: ApplyResult) => void, failed?: () => void): void;
  /** Runs `fn` once every write of this session submitted here so far has been applied here. */
  after(sessionId: bigint, fn: () => void): void;
  /** Runs `fn` once this server has applied everything the leader had when the sync arrived. */
  sync(sessionId: bigint, fn: () => void): void;
  /** Requests in flight. */
  readonly depth: number;
  /** A cluster leader's proposals: how many a quorum has not acknowledged, and the writes waiting
   * (unproposed, in order) because that number is at its limit. Absent: none (standalone). */
  proposals?(): ProposalFigures;
  /** Whether this server decides session expiry (standalone, or the cluster leader). */
  readonly expiresSessions: boolean;
  /** A request of this session arrived here (a follower reports it to the leader). */
  touched(sessionId: bigint): void;
  /**
   * A client reattaches its session here. Answers whether the session is alive; in a cluster the
   * leader decides and makes this server the session's owner (ZooKeeper's revalidateSession).
   */
  revalidate(sessionId: bigint, timeoutMs: number, done: (live: boolean) => void): void;
  /**
   * Expiry of a session another server owns (cluster leader): asks the owner how long the
   * session has been idle there; `idleMs` is Infinity when the owner no longer serves it.
   * `unreachable` means the owner cannot serve it any more after `holdUntilMono`; 'retry'
   * means no answer came (ask again later).
   */
  askOwner(owner: number, sessionId: bigint, done: (answer: { idleMs: number } | { unreachable: true; holdUntilMono: number } | 'retry') => void): void;
  stop(): Promise<void>;
}

/** What the node offers its write path. */
export interface NodeServices {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Sessions as the deciding server sees them (the leader's copy is the one that counts). */
  readonly tracker: SessionTracker;
  /** This server's id (0 standalone). */
  readonly serverId: number;
  state(): ZkState;
  replaceState(next: ZkState): void;
  /** Runs for EVERY applied txn, local or not. */
  applied(result: ApplyResult): void;
  /** Role lost or changed: every client connection is closed (clients reconnect elsewhere). */
  dropClients(): void;
  /** A new lease: frames held back may leave. */
  leaseRenewed(): void;
  /** This server became the deciding one (standalone start or a newly established leader). */
  becameLeader(): void;
  /** Leader: a session whose client was on this server reattached elsewhere; cut the old connection. */
  sessionMovedAway(sessionId: bigint): void;
  /** Owner side: how long the session has been idle here (ms, Infinity if unknown); a session
   * idle at least `timeoutMs` is cut here at once, so this server answers it no more. */
  idleHere(sessionId: bigint, timeoutMs: number): number;
  /** Backpressure from `source`: stop (true) or resume (false) reading clients that have requests
   * in flight (those that send writes; a client with nothing in flight is still read). */
  pushBack(source: PushBackSource, on: boolean): void;
  /** Storage failed: nothing more may be acknowledged. */
  fatal(e: Error): void;
  /** The secret session passwords are derived from (see storage/session-secret.ts). */
  sessionSecret(): Buffer;
  /** A cluster member takes its leader's secret: stored durably before it is used, and before this resolves. */
  adoptSessionSecret(secret: Buffer): Promise<void>;
}
