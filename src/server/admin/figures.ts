/**
 * The numbers a server reports about itself, computed in one place for every way they are
 * shown: four-letter words (text), the AdminServer commands (JSON), /metrics (Prometheus) and
 * the dashboard. Each format only formats; none computes a figure of its own, so `mntr`,
 * `/commands/mntr` and `/metrics` can never disagree.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { arch, homedir, hostname, platform, release, userInfo } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import path from 'node:path';
import type { ClientConnection } from '../net/client-connection.js';
import type { ServerConfig } from '../config.js';
import type { ZkState } from '../tree/state.js';
import type { TxnLogStats } from '../storage/txn-log.js';

export const SERVER_VERSION = '3.8.0-zk-elect-0.1.0, built on 2026-11-22 00:00 UTC';

/** ZAB state of a replicated node. */
export interface QuorumState {
  role: 'leader' | 'follower' | 'observer' | 'looking';
  /** The current (accepted) epoch. */
  epoch: number | bigint;
  /** The server id of the leader this node follows (or itself), null while looking. */
  leaderId: number | null;
  /**
   * The leader's quorum address as ZooKeeper's `leader_ip` gives it (QuorumPeer.getLeaderAddress:
   * its host, no port), null while looking.
   */
  leaderAddress?: string | null;
  /** Committed transactions this node has not applied yet, null if unknown. */
  commitLag?: number | null;
  /** QuorumPeer.ZabState, lowercase, as the zabstate command reports it. */
  zabState?: 'election' | 'discovery' | 'synchronization' | 'broadcast';
  /** Voting members, and how many make a quorum. */
  members?: number;
  quorumSize?: number;
  /** Leader only (LeaderZooKeeperServer's gauges): learners connected, those synced and
   * serving, and client syncs this leader holds until earlier writes are applied. */
  learners?: number;
  syncedFollowers?: number;
  pendingSyncs?: number;
}

/** Counters a node keeps for its views; srst resets the first group (ServerStats.reset). */
export interface ServerCounters {
  packetsReceived: number;
  packetsSent: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
  latencyCount: number;
  /** ServerStats.clientResponseStats: bytes of the last, smallest and largest frame sent in
   * answer to a request or as a notification (length prefix excluded); -1 before any. */
  lastResponseBytes: number;
  minResponseBytes: number;
  maxResponseBytes: number;
  /** Authentications refused (not reset by srst, as in ZooKeeper). */
  authFailed: number;
}

/** What every view of a server reads; ZkNode provides it. */
export interface ServerView {
  readonly config: ServerConfig;
  /** Wall-clock ms of the start. */
  readonly startedAtMs: number;
  /** The TLS client port as bound, when there is one. */
  readonly securePort?: number | undefined;
  readonly counters: ServerCounters;
  connections(): ClientConnection[];
  stateView(): ZkState;
  sessionCount(): number;
  sessionsWithEphemerals(): Map<bigint, string[]>;
  outstandingRequests(): number;
  mode(): 'standalone' | 'leader' | 'follower' | 'looking';
  /** The node's monotonic clock (connections record their last response on it). */
  monoMs(): number;
  /** When each session expires unless touched (wall-clock ms); for `dump`. */
  sessionExpiries?(): Iterable<readonly [bigint, number]>;
  /** What backpressure measures now (peaks: the most since start). */
  backpressure?(): BackpressureFigures;
  /** The transaction log's counters (fsyncs, slow fsyncs, last fsync time, bytes, segments). */
  txnLogStats?(): TxnLogStats | undefined;
  /** Present on replicated nodes. */
  quorumState?(): QuorumState | undefined;
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

export function quorumOf(v: ServerView): QuorumState | undefined {
  try {
    return v.quorumState?.();
  } catch {
    return undefined;
  }
}

/** A fresh set of counters. */
export function newCounters(): ServerCounters {
  return { packetsReceived: 0, packetsSent: 0, minLatencyMs: Infinity, maxLatencyMs: 0, totalLatencyMs: 0, latencyCount: 0, lastResponseBytes: -1, minResponseBytes: -1, maxResponseBytes: -1, authFailed: 0 };
}

/** BufferStats.setLastBufferSize. */
export function recordResponseSize(c: ServerCounters, bytes: number): void {
  c.lastResponseBytes = bytes;
  c.minResponseBytes = c.minResponseBytes < 0 ? bytes : Math.min(c.minResponseBytes, bytes);
  c.maxResponseBytes = Math.max(c.maxResponseBytes, bytes);
}

/**
 * ZooKeeper's Time.currentElapsedTime() for a reading of the node's monotonic clock: Java's
 * System.nanoTime in ms, which on Linux is CLOCK_MONOTONIC (time since boot), as
 * process.hrtime reads it. `cons` shows a connection's last response on this clock (lresp).
 */
export function elapsedTimeOf(v: ServerView, mono: number): number {
  return Math.round(Number(process.hrtime.bigint() / 1_000_000n) - (v.monoMs() - mono));
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
  /** Sizes of the frames sent to clients (ServerStats.clientResponseStats), -1 before any. */
  clientResponse: { last: number; min: number; max: number };
  authFailed: number;
  /** The log's fsyncs, and those slower than fsync.warningthresholdms; undefined without a log. */
  fsyncs: number | undefined;
  fsyncThresholdExceeded: number | undefined;
  lastFsyncMs: number | undefined;
  /** Replicated nodes only. */
  quorum: QuorumState | undefined;
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
  const c = v.counters;
  const log = v.txnLogStats?.();
  return {
    version: SERVER_VERSION,
    state: v.mode(),
    latency: latencyOf(v),
    packetsReceived: c.packetsReceived,
    packetsSent: c.packetsSent,
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
    clientResponse: { last: c.lastResponseBytes, min: c.minResponseBytes, max: c.maxResponseBytes },
    authFailed: c.authFailed,
    fsyncs: log?.fsyncs,
    fsyncThresholdExceeded: log?.slowFsyncs,
    lastFsyncMs: log?.lastFsyncMs,
    quorum: quorumOf(v),
  };
}

/** One `mntr` figure: ZooKeeper's key (without the 4lw's `zk_` prefix) and value. */
export interface MonitorRow {
  key: string;
  value: string | number | bigint;
  /** Printed as a Java double by the four-letter word ("0.0", "2.6667"). */
  double?: boolean;
  /** A figure ZooKeeper's mntr does not have: only in the JSON command, not in the 4lw. */
  jsonOnly?: boolean;
}

/**
 * `mntr`, for both the four-letter word and /commands/mntr (ZooKeeper builds both from one
 * map too). Figures zk-elect has no source for are absent rather than made up; the few
 * constants below are true by construction and say why.
 */
export function monitorRows(v: ServerView, f: Figures = serverFigures(v)): MonitorRow[] {
  const q = f.quorum;
  const rows: MonitorRow[] = [
    { key: 'version', value: f.version },
    { key: 'server_state', value: q ? q.role : f.state },
    { key: 'avg_latency', value: f.latency.avg, double: true },
    { key: 'max_latency', value: f.latency.max },
    { key: 'min_latency', value: f.latency.min },
    { key: 'packets_received', value: f.packetsReceived },
    { key: 'packets_sent', value: f.packetsSent },
    { key: 'num_alive_connections', value: f.connections },
    { key: 'outstanding_requests', value: f.outstanding },
    { key: 'znode_count', value: f.znodeCount },
    { key: 'watch_count', value: f.watchCount },
    { key: 'ephemerals_count', value: f.ephemerals },
    { key: 'approximate_data_size', value: f.approximateDataSize },
  ];
  if (f.openFileDescriptors !== undefined) rows.push({ key: 'open_file_descriptor_count', value: f.openFileDescriptors });
  if (f.maxFileDescriptors !== undefined) rows.push({ key: 'max_file_descriptor_count', value: f.maxFileDescriptors });
  rows.push(
    { key: 'last_client_response_size', value: f.clientResponse.last },
    { key: 'max_client_response_size', value: f.clientResponse.max },
    { key: 'min_client_response_size', value: f.clientResponse.min },
    { key: 'uptime', value: f.uptimeMs },
    { key: 'global_sessions', value: f.sessions },
    // zk-elect has no local sessions (localSessionsEnabled) and no connection throttle
    // (zookeeper.connection_throttle_*): these two are true, not placeholders.
    { key: 'local_sessions', value: 0 },
    { key: 'connection_drop_probability', value: 0, double: true },
    { key: 'auth_failed_count', value: f.authFailed },
    { key: 'last_zxid', value: f.lastZxid, jsonOnly: true },
  );
  // zk-elect's own: backpressure as measured (the limits are in conf).
  for (const [key, value] of backpressureRows(v)) rows.push({ key, value });
  if (f.fsyncs !== undefined) rows.push({ key: 'cnt_fsynctime', value: f.fsyncs });
  if (f.lastFsyncMs !== undefined) rows.push({ key: 'last_fsynctime', value: f.lastFsyncMs, jsonOnly: true });
  if (q?.members !== undefined) rows.push({ key: 'quorum_size', value: q.members });
  if (q?.role === 'leader') {
    rows.push(
      { key: 'learners', value: q.learners ?? 0 },
      { key: 'synced_followers', value: q.syncedFollowers ?? 0 },
      // Every zk-elect member votes: there are no non-voting followers or observers to count.
      { key: 'synced_non_voting_followers', value: 0 },
      { key: 'synced_observers', value: 0 },
      { key: 'pending_syncs', value: q.pendingSyncs ?? 0 },
    );
  }
  return rows;
}

/** srst (ServerStats.reset): forget latency, packet counts and response sizes. */
export function resetServerStats(v: ServerView): void {
  Object.assign(v.counters, { packetsReceived: 0, packetsSent: 0, minLatencyMs: Infinity, maxLatencyMs: 0, totalLatencyMs: 0, latencyCount: 0, lastResponseBytes: -1, minResponseBytes: -1, maxResponseBytes: -1 });
}

/** Java's os.name / os.arch spellings for Node's platform() / arch(). */
const JAVA_OS: Record<string, string> = { linux: 'Linux', darwin: 'Mac OS X', win32: 'Windows', freebsd: 'FreeBSD', sunos: 'SunOS', aix: 'AIX' };
const JAVA_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'aarch64', ia32: 'x86', arm: 'arm', ppc64: 'ppc64', s390x: 's390x' };

/**
 * Environment.list() in ZooKeeper's order and spelling, for `envi` and /commands/envi: the
 * java.* entries become node.version (there is no JVM), and os.memory.* describe the V8 heap
 * as the JVM's describe its heap.
 */
export function environment(): Array<[string, string]> {
  const heap = getHeapStatistics();
  const mb = (bytes: number) => `${Math.round(bytes / 1048576)}MB`;
  let user = '?';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  const rows: Array<[string, string]> = [
    ['zookeeper.version', SERVER_VERSION],
    ['host.name', hostname()],
    ['node.version', process.version],
    ['os.name', JAVA_OS[platform()] ?? platform()],
    ['os.arch', JAVA_ARCH[arch()] ?? arch()],
    ['os.version', release()],
    ['user.name', user],
    ['user.home', homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(heap.total_heap_size - heap.used_heap_size)],
    ['os.memory.max', mb(heap.heap_size_limit)],
    ['os.memory.total', mb(heap.total_heap_size)],
  ];
  return rows;
}
