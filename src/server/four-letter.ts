/**
 * Four-letter words on the client port, formatted as ZooKeeper 3.8 formats them so that
 * existing tooling (monitoring scripts, `echo srvr | nc`) reads both systems alike.
 */
import { hostname, platform, release, arch } from 'node:os';
import type { ClientConnection } from './net/client-connection.js';
import type { ZkState } from './tree/state.js';
import type { ServerConfig } from './config.js';

export const SERVER_VERSION = '3.8.0-zk-elect-0.1.0, built on 2026-11-22 00:00 UTC';

export interface ServerView {
  readonly config: ServerConfig;
  readonly startedAtMs: number;
  readonly counters: { packetsReceived: number; packetsSent: number; minLatencyMs: number; maxLatencyMs: number; totalLatencyMs: number; latencyCount: number };
  connections(): ClientConnection[];
  stateView(): ZkState;
  sessionCount(): number;
  sessionsWithEphemerals(): Map<bigint, string[]>;
  outstandingRequests(): number;
  mode(): 'standalone' | 'leader' | 'follower';
}

const hex = (n: bigint | number) => `0x${n.toString(16)}`;

function latency(v: ServerView): string {
  const c = v.counters;
  const min = c.latencyCount ? c.minLatencyMs : 0;
  const avg = c.latencyCount ? c.totalLatencyMs / c.latencyCount : 0;
  return `${min}/${avg.toFixed(4)}/${c.maxLatencyMs}`;
}

function connectionLine(c: ClientConnection, detailed: boolean): string {
  const base = ` /${c.address}[1](queued=${c.outstanding},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!detailed || c.sessionId === undefined) return `${base})\n`;
  const avg = c.latencyCount ? Math.round(c.totalLatencyMs / c.latencyCount) : 0;
  const min = c.latencyCount ? c.minLatencyMs : 0;
  return (
    `${base},sid=${hex(c.sessionId)},lop=${c.lastOp},est=${c.establishedAtMs},to=${c.sessionTimeoutMs},` +
    `lzxid=${hex(c.lastZxid)},llat=${c.lastLatencyMs},minlat=${min},avglat=${avg},maxlat=${c.maxLatencyMs})\n`
  );
}

function srvr(v: ServerView, withClients: boolean): string {
  const s = v.stateView();
  let out = `Zookeeper version: ${SERVER_VERSION}\n`;
  if (withClients) {
    out += 'Clients:\n';
    for (const c of v.connections()) out += connectionLine(c, false);
    out += '\n';
  }
  out += `Latency min/avg/max: ${latency(v)}\n`;
  out += `Received: ${v.counters.packetsReceived}\n`;
  out += `Sent: ${v.counters.packetsSent}\n`;
  out += `Connections: ${v.connections().length}\n`;
  out += `Outstanding: ${v.outstandingRequests()}\n`;
  out += `Zxid: ${hex(s.lastProcessedZxid)}\n`;
  out += `Mode: ${v.mode()}\n`;
  out += `Node count: ${s.tree.nodes.size}\n`;
  return out;
}

/** DataTree.approximateDataSize: path lengths plus data lengths. */
function approximateDataSize(s: ZkState): number {
  let n = 0;
  for (const [path, node] of s.tree.nodes) n += path.length + (node.data?.length ?? 0);
  return n;
}

function mntr(v: ServerView): string {
  const s = v.stateView();
  const w = s.watchSummary();
  const ephemerals = [...v.sessionsWithEphemerals().values()].reduce((n, l) => n + l.length, 0);
  const c = v.counters;
  const rows: Array<[string, string | number]> = [
    ['zk_version', SERVER_VERSION],
    ['zk_server_state', v.mode()],
    ['zk_avg_latency', c.latencyCount ? (c.totalLatencyMs / c.latencyCount).toFixed(4) : '0.0'],
    ['zk_max_latency', c.maxLatencyMs],
    ['zk_min_latency', c.latencyCount ? c.minLatencyMs : 0],
    ['zk_packets_received', c.packetsReceived],
    ['zk_packets_sent', c.packetsSent],
    ['zk_num_alive_connections', v.connections().length],
    ['zk_outstanding_requests', v.outstandingRequests()],
    ['zk_znode_count', s.tree.nodes.size],
    ['zk_watch_count', w.totalWatches],
    ['zk_ephemerals_count', ephemerals],
    ['zk_approximate_data_size', approximateDataSize(s)],
    ['zk_open_file_descriptor_count', 0],
    ['zk_max_file_descriptor_count', 0],
    ['zk_uptime', Date.now() - v.startedAtMs],
    ['zk_global_sessions', v.sessionCount()],
    ['zk_last_zxid', hex(s.lastProcessedZxid)],
  ];
  return rows.map(([k, val]) => `${k}\t${val}\n`).join('');
}

function conf(v: ServerView): string {
  const c = v.config;
  return (
    `clientPort=${c.port}\nsecureClientPort=-1\ndataDir=${c.dataDir}/snap\ndataDirSize=0\ndataLogDir=${c.dataDir}/log\ndataLogSize=0\n` +
    `tickTime=${c.tickMs}\nmaxClientCnxns=${c.maxClientConnections}\nminSessionTimeout=${c.minSessionTimeoutMs}\n` +
    `maxSessionTimeout=${c.maxSessionTimeoutMs}\nclientPortListenBacklog=-1\nserverId=${c.serverId}\n`
  );
}

function sessionOf(v: ServerView, watcherId: number): bigint | undefined {
  return v.connections().find((c) => c.id === watcherId)?.sessionId;
}

function wchc(v: ServerView): string {
  let out = '';
  for (const [watcher, paths] of v.stateView().watchesByWatcher()) {
    const sid = sessionOf(v, watcher);
    out += `${hex(sid ?? 0n)}\n`;
    for (const p of paths) out += `\t${p}\n`;
  }
  return out;
}

function wchp(v: ServerView): string {
  let out = '';
  for (const [path, watchers] of v.stateView().watchesByPath()) {
    out += `${path}\n`;
    for (const w of watchers) out += `\t${hex(sessionOf(v, w) ?? 0n)}\n`;
  }
  return out;
}

function dump(v: ServerView): string {
  const withEphemerals = v.sessionsWithEphemerals();
  let out = `SessionTracker dump:\nGlobal Sessions(${v.sessionCount()}):\n`;
  for (const [sid] of withEphemerals) out += `${hex(sid)}\n`;
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${[...withEphemerals.values()].filter((l) => l.length).length}):\n`;
  for (const [sid, paths] of withEphemerals) {
    if (paths.length === 0) continue;
    out += `${hex(sid)}:\n`;
    for (const p of paths) out += `\t${p}\n`;
  }
  out += 'Connections dump:\n';
  for (const c of v.connections()) if (c.sessionId !== undefined) out += `  ${c.address}: ${hex(c.sessionId)}\n`;
  return out;
}

function envi(): string {
  const rows: Array<[string, string]> = [
    ['zookeeper.version', SERVER_VERSION],
    ['host.name', hostname()],
    ['node.version', process.version],
    ['os.name', platform()],
    ['os.arch', arch()],
    ['os.version', release()],
    ['user.dir', process.cwd()],
    ['os.memory.total', `${Math.round(process.memoryUsage().rss / 1048576)}MB`],
  ];
  return 'Environment:\n' + rows.map(([k, val]) => `${k}=${val}\n`).join('');
}

export function fourLetterWord(v: ServerView, _conn: ClientConnection, word: string): string {
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'srvr':
      return srvr(v, false);
    case 'stat':
      return srvr(v, true);
    case 'mntr':
      return mntr(v);
    case 'conf':
      return conf(v);
    case 'cons': {
      let out = '';
      for (const c of v.connections()) out += connectionLine(c, true);
      return out + '\n';
    }
    case 'crst':
      for (const c of v.connections()) c.resetStats();
      return 'Connection stats reset.\n';
    case 'srst': {
      const c = v.counters;
      Object.assign(c, { packetsReceived: 0, packetsSent: 0, minLatencyMs: Infinity, maxLatencyMs: 0, totalLatencyMs: 0, latencyCount: 0 });
      return 'Server stats reset.\n';
    }
    case 'wchs': {
      const s = v.stateView().watchSummary();
      return `${s.connections} connections watching ${s.paths} paths\nTotal watches:${s.totalWatches}\n`;
    }
    case 'wchc':
      return wchc(v);
    case 'wchp':
      return wchp(v);
    case 'dump':
      return dump(v);
    case 'isro':
      return 'rw';
    case 'envi':
      return envi();
    default:
      return `${word} is not executed because it is not in the whitelist.\n`;
  }
}
