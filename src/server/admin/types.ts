/**
 * What the admin HTTP server reads from a node, and what a cluster driver may plug in.
 *
 * The admin server only reads: everything it needs from the node is in `AdminSource`
 * (ZkServer satisfies it structurally). A replicated node adds `quorumState()`; a cluster
 * driver adds `clusterView` (every peer's summary) and `control` (kill/pause/restart of a
 * local cluster's members) through `AdminServerOptions`.
 */
import type { ServerView } from './figures.js';
import type { RequestMetrics } from './request-metrics.js';

export type { QuorumState } from './figures.js';

/** What the admin server reads from the node it runs in. */
export interface AdminSource extends ServerView {
  readonly clientPort: number;
  /** Request counts and latency histograms per op, when the server records them. */
  readonly requestMetrics?: RequestMetrics;
  /** Snapshots written since start, when the server counts them. */
  readonly snapshotCount?: number;
}

export type NodeRole = 'standalone' | 'leader' | 'follower' | 'observer' | 'looking' | 'down' | 'unknown';

/** One node as the dashboard's node table shows it. Unknown values are null. */
export interface NodeSummary {
  /** Server id (myid); 0 for a standalone server, as in ZooKeeper. */
  id: number;
  /** Where clients connect, `host:port`. */
  clientAddress: string;
  /** The node's admin server, e.g. `http://127.0.0.1:8080/`, if it runs one. */
  adminUrl: string | null;
  role: NodeRole;
  epoch: number | null;
  /** Last applied zxid, hex (`0x1f`). */
  zxid: string | null;
  /** Committed transactions not yet applied here. 0 for a leader or standalone server. */
  commitLag: number | null;
  sessions: number | null;
  connections: number | null;
  znodeCount: number | null;
  outstandingRequests: number | null;
  /** False when the node's process is down or does not answer. */
  up: boolean;
  /** The process is stopped (SIGSTOP) by the cluster driver. */
  paused?: boolean;
  /** Set by the admin server on the node that answered. */
  self?: boolean;
  /** Why the numbers are missing, when a peer could not be read. */
  error?: string;
}

/** What a cluster driver reports about all members (this node included). */
export interface ClusterViewInput {
  nodes: NodeSummary[];
  /** Id of the current leader, if there is one. */
  leaderId?: number | null;
  /** Votes needed for a quorum. */
  quorumSize?: number;
}

export type ClusterViewProvider = () => ClusterViewInput | Promise<ClusterViewInput>;

export interface ClusterView {
  mode: 'standalone' | 'cluster';
  /** The id of the node whose admin server answered. */
  selfId: number;
  leaderId: number | null;
  quorumSize: number | null;
  nodes: NodeSummary[];
  control: { available: boolean; actions: ControlAction[]; reason: string | null };
  /** Milliseconds since the epoch when this view was taken. */
  at: number;
  /** Set when the cluster provider failed and only this node is shown. */
  error?: string;
}

export const CONTROL_ACTIONS = ['kill', 'pause', 'resume', 'restart'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

/**
 * Kill/pause/resume/restart of a local cluster's members, supplied by a local cluster
 * launcher. `perform` resolves once the action took effect (or throws; an error with a
 * numeric `status` of 400-599 is answered with that HTTP status, e.g. 404 for an unknown id).
 */
export interface NodeControl {
  /** The actions this launcher supports; default all four. */
  actions?: readonly ControlAction[];
  perform(action: ControlAction, id: number): Promise<unknown> | unknown;
}

export interface AdminServerOptions {
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * The admin token (admin-token.ts). Requests that change state (node control, stat resets)
   * must present it; without it they get 401, with a wrong one 403, and nothing changes.
   */
  token: string;
  clusterView?: ClusterViewProvider;
  control?: NodeControl;
  /** Serve the control endpoints on a non-loopback bind. Default false (they answer 403). */
  allowRemoteControl?: boolean;
  /** Period of the SSE `state` event. Default 1000 ms. */
  stateIntervalMs?: number;
  /** Minimum spacing of SSE `change` events. Default 250 ms. */
  changeThrottleMs?: number;
  /** Concurrent /events streams. Default 32. */
  maxEventStreams?: number;
  /** How long a cluster view may take before the node shows itself alone. Default 800 ms. */
  clusterViewTimeoutMs?: number;
}
