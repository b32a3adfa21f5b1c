/**
 * `GET /metrics`: Prometheus text exposition format 0.0.4, written by hand.
 * Names are prefixed `zk_`; durations are in seconds, sizes in bytes.
 */
import { serverFigures, SERVER_VERSION } from './figures.js';
import { commitLagOf, epochOf, extraCounters, roleOf } from './node-view.js';
import { LATENCY_BUCKETS_MS } from './request-metrics.js';
import type { AdminSource, NodeRole } from './types.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const ROLES: readonly NodeRole[] = ['standalone', 'leader', 'follower', 'observer', 'looking'];

type Labels = Record<string, string | number>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

class Writer {
  private readonly lines: string[] = [];

  family(name: string, type: 'gauge' | 'counter' | 'histogram' | 'summary' | 'untyped', help: string): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, value: number | bigint, labels?: Labels): void {
    const l = labels && Object.keys(labels).length ? `{${Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',')}}` : '';
    this.lines.push(`${name}${l} ${typeof value === 'bigint' ? value.toString() : fmt(value)}`);
  }

  one(name: string, type: 'gauge' | 'counter', help: string, value: number | bigint, labels?: Labels): void {
    this.family(name, type, help);
    this.sample(name, value, labels);
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

export interface MetricsExtras {
  eventStreams: number;
}

export function renderMetrics(src: AdminSource, extras: MetricsExtras): string {
  const w = new Writer();
  const state = src.stateView();
  const role = roleOf(src);
  const zxid = state.lastProcessedZxid;

  w.one('zk_server_info', 'gauge', 'Constant 1, labelled with the server version and id.', 1, { version: SERVER_VERSION, server_id: src.config.serverId });
  const f = serverFigures(src);
  w.one('zk_uptime_seconds', 'gauge', 'Seconds since the server started.', f.uptimeMs / 1000);

  // Quorum state.
  w.family('zk_quorum_role', 'gauge', 'The role of this server: 1 for the current role, 0 for the others.');
  for (const r of ROLES) w.sample('zk_quorum_role', r === role ? 1 : 0, { role: r });
  w.one('zk_epoch', 'gauge', 'Current epoch (for a standalone server: the high 32 bits of the last zxid).', epochOf(src));
  const lag = commitLagOf(src);
  if (lag !== null) w.one('zk_commit_lag', 'gauge', 'Committed transactions not yet applied on this server.', lag);
  const q = f.quorum;
  if (q?.members !== undefined) w.one('zk_quorum_members', 'gauge', 'Voting members of the cluster (mntr quorum_size).', q.members);
  if (q && q.leaderId !== null) {
    w.one('zk_quorum_leader_info', 'gauge', 'Constant 1, labelled with the id and address (lead: leader_ip) of the leader this node follows or is.', 1, { leader_id: q.leaderId, leader_address: q.leaderAddress ?? '' });
  }
  if (q?.role === 'leader') {
    w.one('zk_learners', 'gauge', 'Leader only: learners connected (mntr learners).', q.learners ?? 0);
    w.one('zk_synced_followers', 'gauge', 'Leader only: followers synced and serving (mntr synced_followers).', q.syncedFollowers ?? 0);
    w.one('zk_pending_syncs', 'gauge', 'Leader only: client syncs held until earlier writes are applied (mntr pending_syncs).', q.pendingSyncs ?? 0);
  }
  w.one('zk_last_zxid', 'gauge', 'Last applied zxid (exact below 2^53; see zk_last_zxid_epoch/counter).', zxid);
  w.one('zk_last_zxid_epoch', 'gauge', 'High 32 bits of the last applied zxid.', Number(zxid >> 32n));
  w.one('zk_last_zxid_counter', 'gauge', 'Low 32 bits of the last applied zxid.', Number(zxid & 0xffffffffn));

  // Requests.
  const ops = src.requestMetrics?.snapshot() ?? [];
  w.family('zk_requests_total', 'counter', 'Requests answered, by operation (pings and closeSession not included).');
  for (const [op, s] of ops) w.sample('zk_requests_total', s.count, { op });
  w.family('zk_request_latency_seconds', 'histogram', 'Time from receiving a request to answering it, by operation (writes include the log fsync).');
  for (const [op, s] of ops) {
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((le, i) => {
      cumulative += s.buckets[i] ?? 0;
      w.sample('zk_request_latency_seconds_bucket', cumulative, { op, le: fmt(le / 1000) });
    });
    w.sample('zk_request_latency_seconds_bucket', s.count, { op, le: '+Inf' });
    w.sample('zk_request_latency_seconds_sum', s.sumMs / 1000, { op });
    w.sample('zk_request_latency_seconds_count', s.count, { op });
  }
  w.one('zk_request_latency_max_seconds', 'gauge', 'Largest request latency since the last stat reset (srst).', f.latency.max / 1000);
  w.one('zk_request_latency_avg_seconds', 'gauge', 'Mean request latency since the last stat reset (srst).', f.latency.avg / 1000);
  w.one('zk_outstanding_requests', 'gauge', 'Requests queued in the pipeline (logged or waiting to be applied).', f.outstanding);
  const extra = extraCounters(src);
  if (extra.requests !== undefined) w.one('zk_requests_received_total', 'counter', 'Requests received from clients, all operations.', extra.requests);
  if (extra.writes !== undefined) w.one('zk_write_txns_total', 'counter', 'Transactions proposed (writes, sessions opened and closed).', extra.writes);
  w.one('zk_packets_received_total', 'counter', 'Packets received from clients (reset by srst).', f.packetsReceived);
  w.one('zk_packets_sent_total', 'counter', 'Packets sent to clients (reset by srst).', f.packetsSent);
  w.family('zk_client_response_bytes', 'gauge', 'Size of the last, smallest and largest frame sent to a client (mntr *_client_response_size; -1 before any; reset by srst).');
  w.sample('zk_client_response_bytes', f.clientResponse.last, { stat: 'last' });
  w.sample('zk_client_response_bytes', f.clientResponse.min, { stat: 'min' });
  w.sample('zk_client_response_bytes', f.clientResponse.max, { stat: 'max' });
  w.one('zk_auth_failed_total', 'counter', 'Authentications refused (mntr auth_failed_count).', f.authFailed);

  // Backpressure (measured; the limits are in /commands/configuration).
  const b = src.backpressure?.();
  if (b) {
    w.one('zk_client_requests_in_flight', 'gauge', 'Client requests read and not yet answered, over all connections (what globalOutstandingLimit bounds).', b.requestsInFlight);
    w.one('zk_client_requests_in_flight_peak', 'gauge', 'The most client requests in flight at once since start.', b.peakRequestsInFlight);
    w.one('zk_client_queued_bytes', 'gauge', 'Reply bytes queued for clients and not yet taken by the network.', b.queuedBytes);
    w.one('zk_client_queued_bytes_peak', 'gauge', 'The most reply bytes queued for clients at once since start.', b.peakQueuedBytes);
    w.one('zk_client_paused_connections', 'gauge', 'Client connections not being read now (backpressure, or a connect being answered).', b.pausedConnections);
    w.family('zk_pushing_back', 'gauge', 'Whether the write path pushes back on writing clients, by reason: 1 yes, 0 no.');
    for (const reason of ['log', 'proposals', 'leader']) w.sample('zk_pushing_back', b.pushingBack.includes(reason) ? 1 : 0, { reason });
    w.one('zk_pending_log_bytes', 'gauge', 'Transaction log bytes appended and not yet fsynced.', b.pendingLogBytes);
    w.one('zk_pending_log_bytes_peak', 'gauge', 'The most log bytes waiting for fsync at once since start.', b.peakPendingLogBytes);
    w.one('zk_uncommitted_proposals', 'gauge', 'Leader: proposals a quorum has not acknowledged yet.', b.uncommittedProposals);
    w.one('zk_uncommitted_proposals_peak', 'gauge', 'Leader: the most uncommitted proposals at once since start.', b.peakUncommittedProposals);
    w.one('zk_deferred_writes', 'gauge', 'Leader: writes waiting to be proposed because uncommitted proposals are at their limit.', b.deferredWrites);
    w.one('zk_deferred_writes_total', 'counter', 'Leader: writes that had to wait for room among the uncommitted proposals.', b.deferredWritesTotal);
  }

  // Storage.
  const log = src.txnLogStats?.();
  if (log) {
    w.one('zk_fsync_total', 'counter', 'fsync/fdatasync calls made by the transaction log since it opened.', log.fsyncs);
    w.one('zk_fsync_last_duration_seconds', 'gauge', 'Duration of the most recent log fsync.', log.lastFsyncMs / 1000);
    w.one('zk_fsync_threshold_exceeded_total', 'counter', 'Log fsyncs slower than the warning threshold (fsync_threshold_exceed_count).', log.slowFsyncs);
    w.one('zk_txnlog_bytes', 'gauge', 'Bytes in the transaction log segments.', log.bytes);
    w.one('zk_txnlog_segments', 'gauge', 'Transaction log segment files.', log.segments);
  }
  if (extra.snapshots !== undefined) w.one('zk_snapshots_total', 'counter', 'Snapshots written since start.', extra.snapshots);

  // Data.
  const watches = state.watchSummary();
  w.one('zk_sessions', 'gauge', 'Live sessions (global sessions).', f.sessions);
  w.one('zk_znode_count', 'gauge', 'Znodes in the tree (ZooKeeper counts the root twice).', f.znodeCount);
  w.one('zk_ephemerals_count', 'gauge', 'Ephemeral znodes.', f.ephemerals);
  w.one('zk_approximate_data_size_bytes', 'gauge', 'Sum of the lengths of all paths and data.', f.approximateDataSize);
  w.one('zk_watch_count', 'gauge', 'Watches registered: data and child watch registrations, as mntr counts them.', f.watchCount);
  w.one('zk_watched_paths', 'gauge', 'Paths with at least one data watch.', watches.paths);
  w.one('zk_connections', 'gauge', 'Open client connections.', f.connections);

  // Process.
  const mem = process.memoryUsage();
  w.one('process_resident_memory_bytes', 'gauge', 'Resident memory size.', mem.rss);
  w.one('process_heap_used_bytes', 'gauge', 'V8 heap in use.', mem.heapUsed);
  if (f.openFileDescriptors !== undefined) w.one('process_open_fds', 'gauge', 'Open file descriptors.', f.openFileDescriptors);
  if (f.maxFileDescriptors !== undefined) w.one('process_max_fds', 'gauge', 'Maximum open file descriptors.', f.maxFileDescriptors);
  w.one('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch.', Math.round((Date.now() - process.uptime() * 1000) / 1000));
  w.one('zk_admin_event_streams', 'gauge', 'Open /events (SSE) streams on the admin server.', extras.eventStreams);
  return w.text();
}
