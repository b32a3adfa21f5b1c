/**
 * The numbers a server reports about itself, computed in one place for every way they are
 * shown: four-letter words (text), the AdminServer commands (JSON), /metrics (Prometheus) and
 * the dashboard. Each format only formats; none computes a figure of its own, so `mntr`,
 * `/commands/mntr` and `/metrics` can never disagree.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ClientConnection } from '../net/client-connection.js';
import type { ServerConfig } from '../config.js';
import type { ZkState } from '../tree/state.js';

export const SERVER_VERSION = '3.8.0-zk-elect-0.1.0, built on 2026-11-22 00:00 UTC';

/** What every view of a server reads; ZkNode provides it. */
export interface ServerView {
  readonly config: ServerConfig;
  /** Wall-clock ms of the start. */
  readonly startedAtMs: number;
  /** The TLS client port as bound, when there is one. */
  readonly securePort?: number | undefined;
  readonly counters: { packetsReceived: number; packetsSent: number; minLatencyMs: number; maxLatencyMs: number; totalLatencyMs: number; latencyCount: number };
  connections(): ClientConnection[];
  stateView(): ZkState;
  sessionCount(): number;
  sessionsWithEphemerals(): Map<bigint, string[]>;
  outstandingRequests(): number;
  mode(): 'standalone' | 'leader' | 'follower' | 'looking';
  /** When each session expires unless touched (wall-clock ms); for `dump`. */
  sessionExpiries?(): Iterable<readonly [bigint, number]>;
  /** What backpressure measures now (peaks: the most since start). */
  backpressure?(): BackpressureFigures;
}

/** Backpressure as measured (never configured values; those are `limitsOf`). */
export interface BackpressureFigures {
  /** Client requests read and not yet answered, over all connections. */
  requestsInFlight: number;
  peakRequestsInFlight: number;
  /** Reply bytes queued for clients (held, or not yet taken by the network). */
  queuedBytes: number;
  peakQueuedBytes: number;
  /** Client connections not being read now. */
  pausedConnections: number;
  /** Why the write path pushes back now ('log', 'proposals', 'leader'), if it does. */
  pushingBack: string[];
  /** Log bytes not yet durable. */
  pendingLogBytes: number;
  peakPendingLogBytes: number;
  /** Leader: proposals a quorum has not acknowledged; writes waiting for room. */
  uncommittedProposals: number;
  peakUncommittedProposals: number;
  deferredWrites: number;
  deferredWritesTotal: number;
}

/** One configured limit, as `conf` shows it: its conf key (ZooKeeper's name where it has one) and admin JSON key. */
export interface LimitSetting {
  conf: string;
  json: string;
  value: number;
}

/** Every limit of the server (maxClientCnxns is shown where ZooKeeper shows it). */
export function limitsOf(c: ServerConfig): LimitSetting[] {
  return [
    { conf: 'jute.maxbuffer', json: 'jute_maxbuffer', value: c.maxFrameBytes },
    { conf: 'globalOutstandingLimit', json: 'global_outstanding_limit', value: c.globalOutstandingLimit },
    { conf: 'maxOutstandingPerConnection', json: 'max_outstanding_per_connection', value: c.maxOutstandingPerConnection },
    { conf: 'maxQueuedBytesPerConnection', json: 'max_queued_bytes_per_connection', value: c.maxQueuedBytesPerConnection },
    { conf: 'maxQueuedBytesTotal', json: 'max_queued_bytes_total', value: c.maxQueuedBytesTotal },
    { conf: 'maxPendingLogBytes', json: 'max_pending_log_bytes', value: c.maxPendingLogBytes },
    { conf: 'maxUncommittedProposals', json: 'max_uncommitted_proposals', value: c.maxUncommittedProposals },
  ];
}

/** The measured backpressure figures with their mntr names (without the `zk_` of the four-letter word). */
export function backpressureRows(v: ServerView): Array<[string, number]> {
  const b = v.backpressure?.();
  if (!b) return [];
  return [
    ['client_requests_in_flight', b.requestsInFlight],
    ['client_requests_in_flight_peak', b.peakRequestsInFlight],
    ['client_queued_bytes', b.queuedBytes],
    ['client_queued_bytes_peak', b.peakQueuedBytes],
    ['client_paused_connections', b.pausedConnections],
    ['pending_log_bytes', b.pendingLogBytes],
    ['pending_log_bytes_peak', b.peakPendingLogBytes],
    ['uncommitted_proposals', b.uncommittedProposals],
    ['uncommitted_proposals_peak', b.peakUncommittedProposals],
    ['deferred_writes', b.deferredWrites],
    ['deferred_writes_total', b.deferredWritesTotal],
  ];
}

export interface Latency {
  min: number;
  avg: number;
  max: number;
  count: number;
}

export interface Figures {
  version: string;
  state: ReturnType<ServerView['mode']>;
  latency: Latency;
  packetsReceived: number;
  packetsSent: number;
  connections: number;
  outstanding: number;
  lastZxid: bigint;
  znodeCount: number;
  /** DataTree.getWatchCount: data and child watch registrations. */
  watchCount: number;
  ephemerals: number;
  approximateDataSize: number;
  /** Undefined where the platform does not say (not Linux). */
  openFileDescriptors: number | undefined;
  maxFileDescriptors: number | undefined;
  uptimeMs: number;
  sessions: number;
}

export function latencyOf(v: ServerView): Latency {
  const c = v.counters;
  return { min: c.latencyCount ? c.minLatencyMs : 0, avg: c.latencyCount ? c.totalLatencyMs / c.latencyCount : 0, max: c.maxLatencyMs, count: c.latencyCount };
}

/** DataTree.approximateDataSize: path lengths plus data lengths. */
export function approximateDataSize(s: ZkState): number {
  return s.tree.approximateDataSize;
}

export function ephemeralsCount(s: ZkState): number {
  let n = 0;
  for (const set of s.tree.ephemerals.values()) n += set.size;
  return n;
}

export function watchCount(s: ZkState): number {
  return s.tree.dataWatches.summary().totalWatches + s.tree.childWatches.summary().totalWatches;
}

/** Total size of the files directly in `dir` (bounded), 0 if unreadable. */
export function dirSize(dir: string): number {
  try {
    let total = 0;
    for (const name of readdirSync(dir).slice(0, 10_000)) {
      try {
        const st = statSync(path.join(dir, name));
        if (st.isFile()) total += st.size;
      } catch {
        // removed meanwhile (purge)
      }
    }
    return total;
  } catch {
    return 0;
  }
}

export const snapDirOf = (c: ServerConfig): string => path.join(c.dataDir, 'snap');
export const logDirOf = (c: ServerConfig): string => path.join(c.dataDir, 'log');

/** Open and maximum file descriptors of this process (Linux /proc); undefined where unknown. */
export function fileDescriptors(): { open: number | undefined; max: number | undefined } {
  let open: number | undefined;
  let max: number | undefined;
  try {
    open = readdirSync('/proc/self/fd').length;
  } catch {
    // not Linux
  }
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) max = Number(m[1]);
  } catch {
    // not Linux
  }
  return { open, max };
}

export function serverFigures(v: ServerView, nowWallMs = Date.now()): Figures {
  const s = v.stateView();
  const fds = fileDescriptors();
  return {
    version: SERVER_VERSION,
    state: v.mode(),
    latency: latencyOf(v),
    packetsReceived: v.counters.packetsReceived,
    packetsSent: v.counters.packetsSent,
    connections: v.connections().length,
    outstanding: v.outstandingRequests(),
    lastZxid: s.lastProcessedZxid,
    znodeCount: s.tree.nodeCount,
    watchCount: watchCount(s),
    ephemerals: ephemeralsCount(s),
    approximateDataSize: approximateDataSize(s),
    openFileDescriptors: fds.open,
    maxFileDescriptors: fds.max,
    uptimeMs: nowWallMs - v.startedAtMs,
    sessions: v.sessionCount(),
  };
}

/** srst: forget latency and packet counts. */
export function resetServerStats(v: ServerView): void {
  Object.assign(v.counters, { packetsReceived: 0, packetsSent: 0, minLatencyMs: Infinity, maxLatencyMs: 0, totalLatencyMs: 0, latencyCount: 0 });
}
