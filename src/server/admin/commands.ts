/**
 * `GET /commands/<name>`: the JSON of ZooKeeper 3.8's AdminServer (Commands.java with
 * Jackson's SNAKE_CASE output): every response carries `command` (the primary name) and
 * `error` (null on success); longs (zxids, session ids) are written as plain JSON numbers.
 * An unknown name answers 404 with `error: "Unknown command: <name>"`.
 */
import { dirSize, elapsedTimeOf, environment, limitsOf, logDirOf, monitorRows, resetServerStats, serverFigures, snapDirOf, SERVER_VERSION, type Figures } from './figures.js';
import type { ClientConnection } from '../net/client-connection.js';
import { quorumOf, roleOf } from './node-view.js';
import type { AdminSource } from './types.js';

/** Lists in command output are cut here (and the response says so with `truncated`). */
export const MAX_LIST = 10_000;

export type CommandData = Record<string, unknown>;

interface CommandDef {
  names: readonly string[];
  /** Resets or otherwise changes the server: needs the admin token over HTTP. */
  changesState?: boolean;
  run(src: AdminSource): CommandData;
}

function serverState(src: AdminSource): string {
  const role = roleOf(src);
  return role === 'unknown' || role === 'down' ? 'looking' : role;
}

/** BufferStats as Jackson writes it; -1 until the first response. */
const bufferStats = (f: Figures) => ({ last_buffer_size: f.clientResponse.last, min_buffer_size: f.clientResponse.min, max_buffer_size: f.clientResponse.max });

/**
 * ServerStats. ZooKeeper's non_mtls{remote,local}_conn_count are left out: they count client
 * connections that skipped mutual TLS, which zk-elect's client port does not offer.
 */
function serverStats(src: AdminSource, f: Figures): CommandData {
  const log = src.txnLogStats?.();
  return {
    packets_sent: f.packetsSent,
    packets_received: f.packetsReceived,
    ...(f.fsyncThresholdExceeded === undefined ? {} : { fsync_threshold_exceed_count: f.fsyncThresholdExceeded }),
    client_response_stats: bufferStats(f),
    data_dir_size: dirSize(snapDirOf(src.config)),
    log_dir_size: log?.bytes ?? dirSize(logDirOf(src.config)),
    last_processed_zxid: f.lastZxid,
    outstanding_requests: f.outstanding,
    server_state: serverState(src),
    avg_latency: f.latency.avg,
    max_latency: f.latency.max,
    min_latency: f.latency.min,
    num_alive_client_connections: f.connections,
    // ServerStats always has its provider here.
    provider_null: false,
    uptime: f.uptimeMs,
    auth_failed_count: f.authFailed,
  };
}

/** ServerCnxn.getConnectionInfo(brief). */
function connectionInfo(src: AdminSource, c: ClientConnection, brief: boolean): CommandData {
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
    last_cxid: c.lastCxid,
    last_zxid: c.lastZxid,
    // Time.currentElapsedTime() of the last response, as ZooKeeper reports it (0 before any).
    last_response_time: c.lastResponseMono === undefined ? 0 : elapsedTimeOf(src, c.lastResponseMono),
    last_latency: c.lastLatencyMs,
    min_latency: n ? c.minLatencyMs : 0,
    avg_latency: n ? Math.round(c.totalLatencyMs / n) : 0,
    max_latency: c.maxLatencyMs,
  };
}

function connections(src: AdminSource, brief: boolean): { list: CommandData[]; truncated: boolean } {
  const all = src.connections();
  return { list: all.slice(0, MAX_LIST).map((c) => connectionInfo(src, c, brief)), truncated: all.length > MAX_LIST };
}

function srvr(src: AdminSource): CommandData {
  const f = serverFigures(src);
  return {
    version: SERVER_VERSION,
    // zk-elect has no read-only mode.
    read_only: false,
    server_stats: serverStats(src, f),
    client_response: bufferStats(f),
    node_count: f.znodeCount,
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
      const out: CommandData = {};
      for (const r of monitorRows(src)) out[r.key] = r.value;
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
    run: () => Object.fromEntries(environment()),
  },
  {
    names: ['zabstate'],
    run: (src) => {
      const q = quorumOf(src);
      if (!q) return { voting: false, zabstate: '' };
      return { voting: q.role !== 'observer', zabstate: q.zabState ?? (q.role === 'looking' ? 'election' : 'broadcast') };
    },
  },
  {
    names: ['connection_stat_reset', 'crst'],
    changesState: true,
    run: (src) => {
      for (const c of src.connections()) c.resetStats();
      return {};
    },
  },
  {
    names: ['stat_reset', 'srst'],
    changesState: true,
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

/** True for a command that changes the server (the stat resets), by any of its names. */
export function commandChangesState(name: string): boolean {
  return BY_NAME.get(name)?.changesState === true;
}

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
