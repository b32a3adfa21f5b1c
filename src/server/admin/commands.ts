/**
 * `GET /commands/<name>`: the JSON of ZooKeeper 3.8's AdminServer (Commands.java with
 * Jackson's SNAKE_CASE output): every response carries `command` (the primary name) and
 * `error` (null on success); longs (zxids, session ids) are written as plain JSON numbers.
 * An unknown name answers 404 with `error: "Unknown command: <name>"`.
 */
import { arch, hostname, platform, release } from 'node:os';
import { backpressureRows, dirSize, limitsOf, logDirOf, resetServerStats, serverFigures, snapDirOf, SERVER_VERSION } from './figures.js';
import type { ClientConnection } from '../net/client-connection.js';
import { quorumOf, roleOf } from './node-view.js';
import type { AdminSource } from './types.js';

/** Lists in command output are cut here (and the response says so with `truncated`). */
export const MAX_LIST = 10_000;

export type CommandData = Record<string, unknown>;

interface CommandDef {
  names: readonly string[];
  run(src: AdminSource): CommandData;
}

function serverState(src: AdminSource): string {
  const role = roleOf(src);
  return role === 'unknown' || role === 'down' ? 'looking' : role;
}

const emptyBufferStats = () => ({ last_buffer_size: -1, min_buffer_size: -1, max_buffer_size: -1 });

function serverStats(src: AdminSource): CommandData {
  const f = serverFigures(src);
  const log = src.txnLogStats?.();
  return {
    packets_sent: f.packetsSent,
    packets_received: f.packetsReceived,
    fsync_threshold_exceed_count: 0,
    client_response_stats: emptyBufferStats(),
    data_dir_size: dirSize(snapDirOf(src.config)),
    log_dir_size: log?.bytes ?? dirSize(logDirOf(src.config)),
    last_processed_zxid: f.lastZxid,
    outstanding_requests: f.outstanding,
    server_state: serverState(src),
    avg_latency: f.latency.avg,
    max_latency: f.latency.max,
    min_latency: f.latency.min,
    num_alive_client_connections: f.connections,
    provider_null: false,
    uptime: f.uptimeMs,
    auth_failed_count: 0,
    non_mtlsremote_conn_count: 0,
    non_mtlslocal_conn_count: 0,
  };
}

/** ServerCnxn.getConnectionInfo(brief). */
function connectionInfo(c: ClientConnection, brief: boolean): CommandData {
  const info: CommandData = {
    remote_socket_address: `/${c.address}`,
    interest_ops: c.reading ? 1 : 0,
    outstanding_requests: c.outstanding,
    packets_received: c.packetsReceived,
    packets_sent: c.packetsSent,
  };
  if (brief) return info;
  const n = c.latencyCount;
  return {
    ...info,
    session_id: c.sessionId ?? 0n,
    last_operation: c.lastOp,
    established: c.establishedAtMs,
    session_timeout: c.sessionTimeoutMs,
    last_cxid: -1,
    last_zxid: c.lastZxid,
    last_response_time: 0,
    last_latency: c.lastLatencyMs,
    min_latency: n ? c.minLatencyMs : 0,
    avg_latency: n ? Math.round(c.totalLatencyMs / n) : 0,
    max_latency: c.maxLatencyMs,
  };
}

function connections(src: AdminSource, brief: boolean): { list: CommandData[]; truncated: boolean } {
  const all = src.connections();
  return { list: all.slice(0, MAX_LIST).map((c) => connectionInfo(c, brief)), truncated: all.length > MAX_LIST };
}

function srvr(src: AdminSource): CommandData {
  return {
    version: SERVER_VERSION,
    read_only: false,
    server_stats: serverStats(src),
    client_response: emptyBufferStats(),
    node_count: serverFigures(src).znodeCount,
  };
}

function sessionOfWatcher(src: AdminSource): (watcher: number) => bigint {
  const byId = new Map<number, bigint>();
  for (const c of src.connections()) if (c.sessionId !== undefined) byId.set(c.id, c.sessionId);
  return (w) => byId.get(w) ?? 0n;
}

const COMMANDS: CommandDef[] = [
  { names: ['ruok'], run: () => ({}) },
  { names: ['server_stats', 'srvr'], run: srvr },
  {
    names: ['stats', 'stat'],
    run: (src) => {
      const cons = connections(src, true);
      return { ...srvr(src), connections: cons.list, ...(cons.truncated ? { truncated: true } : {}) };
    },
  },
  {
    names: ['monitor', 'mntr'],
    run: (src) => {
      const f = serverFigures(src);
      const q = quorumOf(src);
      const log = src.txnLogStats?.();
      const out: CommandData = {
        version: f.version,
        server_state: serverState(src),
        avg_latency: f.latency.avg,
        max_latency: f.latency.max,
        min_latency: f.latency.min,
        packets_received: f.packetsReceived,
        packets_sent: f.packetsSent,
        num_alive_connections: f.connections,
        outstanding_requests: f.outstanding,
        znode_count: f.znodeCount,
        watch_count: f.watchCount,
        ephemerals_count: f.ephemerals,
        approximate_data_size: f.approximateDataSize,
        ...(f.openFileDescriptors === undefined ? {} : { open_file_descriptor_count: f.openFileDescriptors }),
        ...(f.maxFileDescriptors === undefined ? {} : { max_file_descriptor_count: f.maxFileDescriptors }),
        last_client_response_size: -1,
        max_client_response_size: -1,
        min_client_response_size: -1,
        uptime: f.uptimeMs,
        global_sessions: f.sessions,
        local_sessions: 0,
        connection_drop_probability: 0,
        last_zxid: f.lastZxid,
        ...Object.fromEntries(backpressureRows(src)),
      };
      if (log) {
        out.cnt_fsynctime = log.fsyncs;
        out.last_fsynctime = log.lastFsyncMs;
      }
      if (q?.role === 'leader') {
        out.learners = q.learners ?? 0;
        out.synced_followers = q.syncedFollowers ?? 0;
        out.synced_non_voting_followers = 0;
        out.synced_observers = 0;
        out.pending_syncs = q.pendingSyncs ?? 0;
      }
      return out;
    },
  },
  {
    names: ['configuration', 'conf', 'config'],
    run: (src) => {
      const c = src.config;
      return {
        client_port: src.clientPort,
        data_dir: snapDirOf(c),
        data_log_dir: logDirOf(c),
        tick_time: c.tickMs,
        max_client_cnxns: c.maxClientConnections,
        min_session_timeout: c.minSessionTimeoutMs,
        max_session_timeout: c.maxSessionTimeoutMs,
        server_id: c.serverId,
        client_port_listen_backlog: -1,
        ...Object.fromEntries(limitsOf(c).map((l) => [l.json, l.value])),
        container_check_interval_ms: c.containerCheckIntervalMs,
      };
    },
  },
  {
    names: ['connections', 'cons'],
    run: (src) => {
      const cons = connections(src, false);
      return { connections: cons.list, secure_connections: [], ...(cons.truncated ? { truncated: true } : {}) };
    },
  },
  {
    names: ['leader', 'lead'],
    run: (src) => {
      const q = quorumOf(src);
      if (!q) {
        // ZooKeeper answers a standalone server with only this error; the fields are
        // given too so that readers need no special case.
        return { is_leader: false, leader_id: -1, leader_ip: '', error: 'server is not initialized' };
      }
      return { is_leader: q.role === 'leader', leader_id: q.leaderId ?? -1, leader_ip: q.leaderAddress ?? '' };
    },
  },
  {
    names: ['watch_summary', 'wchs'],
    run: (src) => {
      const w = src.stateView().watchSummary();
      return { num_connections: w.connections, num_paths: w.paths, num_total_watches: w.totalWatches };
    },
  },
  {
    names: ['watches', 'wchc'],
    run: (src) => {
      const session = sessionOfWatcher(src);
      const out: Record<string, string[]> = {};
      let n = 0;
      for (const [watcher, paths] of src.stateView().watchesByWatcher()) {
        if (++n > MAX_LIST) return { session_id_to_watched_paths: out, truncated: true };
        out[session(watcher).toString()] = paths.slice(0, MAX_LIST);
      }
      return { session_id_to_watched_paths: out };
    },
  },
  {
    names: ['watches_by_path', 'wchp'],
    run: (src) => {
      const session = sessionOfWatcher(src);
      const out: Record<string, bigint[]> = {};
      let n = 0;
      for (const [p, watchers] of src.stateView().watchesByPath()) {
        if (++n > MAX_LIST) return { path_to_session_ids: out, truncated: true };
        out[p] = watchers.slice(0, MAX_LIST).map(session);
      }
      return { path_to_session_ids: out };
    },
  },
  {
    names: ['dump'],
    run: (src) => {
      let truncated = false;
      const expiry = new Map<number, bigint[]>();
      let n = 0;
      for (const [id, at] of src.sessionExpiries?.() ?? []) {
        if (++n > MAX_LIST) {
          truncated = true;
          break;
        }
        const list = expiry.get(at);
        if (list) list.push(id);
        else expiry.set(at, [id]);
      }
      const ephemerals: Record<string, string[]> = {};
      n = 0;
      for (const [sid, set] of src.stateView().tree.ephemerals) {
        if (set.size === 0) continue;
        if (++n > MAX_LIST) {
          truncated = true;
          break;
        }
        const paths = set.toArray();
        if (paths.length > MAX_LIST) truncated = true;
        ephemerals[sid.toString()] = paths.slice(0, MAX_LIST);
      }
      const sorted = new Map([...expiry].sort(([a], [b]) => a - b));
      return { expiry_time_to_session_ids: sorted, session_id_to_ephemeral_paths: ephemerals, ...(truncated ? { truncated: true } : {}) };
    },
  },
  { names: ['is_read_only', 'isro'], run: () => ({ read_only: false }) },
  {
    names: ['environment', 'env', 'envi'],
    run: () => ({
      'zookeeper.version': SERVER_VERSION,
      'host.name': hostname(),
      'node.version': process.version,
      'os.name': platform(),
      'os.arch': arch(),
      'os.version': release(),
      'user.dir': process.cwd(),
      'os.memory.total': `${Math.round(process.memoryUsage().rss / 1048576)}MB`,
    }),
  },
  {
    names: ['zabstate'],
    run: (src) => {
      const q = quorumOf(src);
      if (!q) return { voting: false, zabstate: '' };
      const phase = q.role === 'looking' ? 'election' : 'broadcast';
      return { voting: q.role !== 'observer', zabstate: phase };
    },
  },
  {
    names: ['connection_stat_reset', 'crst'],
    run: (src) => {
      for (const c of src.connections()) c.resetStats();
      return {};
    },
  },
  {
    names: ['stat_reset', 'srst'],
    run: (src) => {
      resetServerStats(src);
      return {};
    },
  },
];

const BY_NAME = new Map<string, CommandDef>();
for (const c of COMMANDS) for (const n of c.names) BY_NAME.set(n, c);

/** Primary names, sorted (what ZooKeeper lists at /commands). */
export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.names[0] as string).sort();

export type CommandResult = { status: 200 | 404 | 500; body: CommandData };

export function runCommand(src: AdminSource, name: string): CommandResult {
  const def = BY_NAME.get(name);
  if (!def) return { status: 404, body: { command: name, error: `Unknown command: ${name}` } };
  const primary = def.names[0] as string;
  try {
    const data = def.run(src);
    // CommandResponse.toMap: the data, then command and error (a command may set error).
    const { error, ...rest } = data;
    return { status: 200, body: { ...rest, command: primary, error: typeof error === 'string' ? error : null } };
  } catch (e) {
    return { status: 500, body: { command: primary, error: `command failed: ${(e as Error).message}` } };
  }
}
