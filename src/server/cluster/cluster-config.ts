/**
 * The cluster file, in the spirit of zoo.cfg: every peer's addresses plus the timing limits.
 *
 * {
 *   "tickMs": 2000, "initLimit": 10, "syncLimit": 5, "dataDir": "/var/lib/zk-elect",
 *   "servers": [ { "id": 1, "host": "10.0.0.1", "clientPort": 2181, "quorumPort": 2888, "electionPort": 3888, "adminPort": 8080 } ]
 * }
 *
 * Each server's data lives in `<dataDir>/node-<id>` unless the server entry has its own `dataDir`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface PeerAddress {
  id: number;
  host: string;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  adminPort?: number;
  dataDir?: string;
}

export interface ClusterConfig {
  /** A local launcher's control endpoint (kill/pause/resume/restart by id), for the dashboard. */
  controlUrl?: string;
  tickMs: number;
  initLimit: number;
  syncLimit: number;
  dataDir: string;
  servers: PeerAddress[];
}

export class ClusterConfigError extends Error {}

const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

export function parseClusterConfig(text: string, source = 'cluster config'): ClusterConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ClusterConfigError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const fail = (why: string): never => {
    throw new ClusterConfigError(`${source}: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('must be a JSON object');
  const o = raw as Record<string, unknown>;
  const tickMs = o.tickMs ?? 2000;
  const initLimit = o.initLimit ?? 10;
  const syncLimit = o.syncLimit ?? 5;
  if (!Number.isInteger(tickMs) || (tickMs as number) < 1) fail(`tickMs must be a positive integer, got ${JSON.stringify(o.tickMs)}`);
  if (!Number.isInteger(initLimit) || (initLimit as number) < 1) fail(`initLimit must be a positive integer`);
  if (!Number.isInteger(syncLimit) || (syncLimit as number) < 2) fail(`syncLimit must be an integer of at least 2 (the leader's lease is syncLimit - 1 ticks)`);
  if (typeof o.dataDir !== 'string' || o.dataDir === '') fail('dataDir must be a non-empty string');
  if (!Array.isArray(o.servers) || o.servers.length === 0) fail('servers must be a non-empty list');
  const servers = (o.servers as unknown[]).map((s, i): PeerAddress => {
    if (typeof s !== 'object' || s === null) return fail(`servers[${i}] must be an object`);
    const e = s as Record<string, unknown>;
    if (!Number.isInteger(e.id) || (e.id as number) < 1 || (e.id as number) > 254) fail(`servers[${i}].id must be 1-254`);
    if (typeof e.host !== 'string' || e.host === '') fail(`servers[${i}].host must be a host name or address`);
    for (const k of ['clientPort', 'quorumPort', 'electionPort']) if (!isPort(e[k])) fail(`servers[${i}].${k} must be a port 1-65535`);
    if (e.adminPort !== undefined && !isPort(e.adminPort)) fail(`servers[${i}].adminPort must be a port 1-65535`);
    return {
      id: e.id as number,
      host: e.host as string,
      clientPort: e.clientPort as number,
      quorumPort: e.quorumPort as number,
      electionPort: e.electionPort as number,
      ...(e.adminPort === undefined ? {} : { adminPort: e.adminPort as number }),
      ...(typeof e.dataDir === 'string' ? { dataDir: e.dataDir } : {}),
    };
  });
  const ids = new Set(servers.map((s) => s.id));
  if (ids.size !== servers.length) fail('server ids must be unique');
  if (![1, 3, 5, 7].includes(servers.length)) fail(`a cluster has 1, 3, 5 or 7 servers, got ${servers.length}`);
  if (o.controlUrl !== undefined && (typeof o.controlUrl !== 'string' || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/$/.test(o.controlUrl))) {
    fail('controlUrl must be a loopback http URL ending in "/", e.g. http://127.0.0.1:9000/');
  }
  return { ...(typeof o.controlUrl === 'string' ? { controlUrl: o.controlUrl } : {}), tickMs: tickMs as number, initLimit: initLimit as number, syncLimit: syncLimit as number, dataDir: o.dataDir as string, servers };
}

export function loadClusterConfig(file: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ClusterConfigError(`cannot read cluster config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const config = parseClusterConfig(text, file);
  if (!path.isAbsolute(config.dataDir)) config.dataDir = path.resolve(path.dirname(file), config.dataDir);
  return config;
}

export function dataDirOf(config: ClusterConfig, id: number): string {
  const server = config.servers.find((s) => s.id === id);
  if (!server) throw new ClusterConfigError(`server id ${id} is not in the cluster config (ids: ${config.servers.map((s) => s.id).join(', ')})`);
  return server.dataDir ?? path.join(config.dataDir, `node-${id}`);
}
