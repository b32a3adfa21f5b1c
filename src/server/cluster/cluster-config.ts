/**
 * The cluster file, in the spirit of zoo.cfg: every peer's addresses plus the timing limits.
 *
 * {
 *   "tickMs": 2000, "initLimit": 10, "syncLimit": 5, "dataDir": "/var/lib/zk-elect",
 *   "servers": [ { "id": 1, "host": "10.0.0.1", "clientPort": 2181, "quorumPort": 2888, "electionPort": 3888, "adminPort": 8080 } ]
 * }
 *
 * Each server's data lives in `<dataDir>/node-<id>` unless the server entry has its own `dataDir`.
 *
 * TLS between members (optional): `"tls": { "ca": "ca.pem", "cert": "node.pem", "key": "node-key.pem" }`
 * at the top; a server entry's own `"tls": { "cert", "key" }` replaces the shared pair for that
 * server. With it every quorum and election link is TLS with mutual authentication: each end's
 * certificate must chain to the CA and be valid for the host this file names for that server.
 * Relative file names are relative to the cluster file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TlsFiles } from '../../tls-files.js';

export interface PeerAddress {
  id: number;
  host: string;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
  adminPort?: number;
  dataDir?: string;
  /** This server's own certificate and key for the quorum links (else the file's shared pair). */
  tls?: { cert: string; key: string };
}

export interface ClusterConfig {
  /** A local launcher's control endpoint (kill/pause/resume/restart by id), for the dashboard. */
  controlUrl?: string;
  /**
   * The admin token file every member's admin server (and the launcher) checks, relative to the
   * cluster file. Default: each member's own `<dataDir>/admin-token`.
   */
  adminTokenFile?: string;
  tickMs: number;
  initLimit: number;
  syncLimit: number;
  dataDir: string;
  servers: PeerAddress[];
  /** TLS on the links between members: the CA every member's certificate chains to, and a shared certificate pair. */
  tls?: TlsFiles & { ca: string };
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
    const tls = e.tls === undefined ? undefined : tlsSection(e.tls, `servers[${i}].tls`, fail);
    if (tls && (tls.cert === undefined || tls.key === undefined || tls.ca !== undefined)) fail(`servers[${i}].tls names this server's "cert" and "key" (the CA is the file's top-level tls.ca)`);
    return {
      id: e.id as number,
      host: e.host as string,
      clientPort: e.clientPort as number,
      quorumPort: e.quorumPort as number,
      electionPort: e.electionPort as number,
      ...(e.adminPort === undefined ? {} : { adminPort: e.adminPort as number }),
      ...(typeof e.dataDir === 'string' ? { dataDir: e.dataDir } : {}),
      ...(tls ? { tls: { cert: tls.cert!, key: tls.key! } } : {}),
    };
  });
  const ids = new Set(servers.map((s) => s.id));
  if (ids.size !== servers.length) fail('server ids must be unique');
  if (![1, 3, 5, 7].includes(servers.length)) fail(`a cluster has 1, 3, 5 or 7 servers, got ${servers.length}`);
  if (o.controlUrl !== undefined && (typeof o.controlUrl !== 'string' || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/$/.test(o.controlUrl))) {
    fail('controlUrl must be a loopback http URL ending in "/", e.g. http://127.0.0.1:9000/');
  }
  const tls = o.tls === undefined ? undefined : tlsSection(o.tls, 'tls', fail);
  if (tls) {
    if (tls.ca === undefined) fail('tls.ca is required: members authenticate each other against it');
    if ((tls.cert === undefined) !== (tls.key === undefined)) fail('tls.cert and tls.key go together');
    const bare = servers.filter((s) => !s.tls).map((s) => s.id);
    if (tls.cert === undefined && bare.length > 0) fail(`servers ${bare.join(', ')} have no TLS certificate: give tls.cert and tls.key, or each server its own tls`);
  }
  if (o.adminTokenFile !== undefined && (typeof o.adminTokenFile !== 'string' || o.adminTokenFile === '')) fail('adminTokenFile must be a file name');
  return {
    ...(tls ? { tls: tls as TlsFiles & { ca: string } } : {}),
    ...(typeof o.controlUrl === 'string' ? { controlUrl: o.controlUrl } : {}),
    ...(typeof o.adminTokenFile === 'string' ? { adminTokenFile: o.adminTokenFile } : {}),
    tickMs: tickMs as number,
    initLimit: initLimit as number,
    syncLimit: syncLimit as number,
    dataDir: o.dataDir as string,
    servers,
  };
}

export function loadClusterConfig(file: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ClusterConfigError(`cannot read cluster config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const config = parseClusterConfig(text, file);
  const dir = path.dirname(file);
  if (!path.isAbsolute(config.dataDir)) config.dataDir = path.resolve(dir, config.dataDir);
  const abs = (f: string) => path.resolve(dir, f);
  if (config.tls) config.tls = Object.fromEntries(Object.entries(config.tls).map(([k, v]) => [k, abs(v as string)])) as unknown as ClusterConfig['tls'];
  for (const s of config.servers) if (s.tls) s.tls = { cert: abs(s.tls.cert), key: abs(s.tls.key) };
  if (config.adminTokenFile !== undefined) config.adminTokenFile = abs(config.adminTokenFile);
  return config;
}

/** The TLS files server `id` uses on its links to the other members, if the cluster has TLS. */
export function quorumTlsFiles(config: ClusterConfig, id: number): (TlsFiles & { ca: string }) | undefined {
  if (!config.tls) return undefined;
  const own = config.servers.find((s) => s.id === id)?.tls;
  return { ca: config.tls.ca, ...(own ?? { cert: config.tls.cert, key: config.tls.key }) };
}

function tlsSection(v: unknown, where: string, fail: (why: string) => never): TlsFiles {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where} must be an object with "ca", "cert" and "key" file names`);
  const o = v as Record<string, unknown>;
  const out: TlsFiles = {};
  for (const [k, val] of Object.entries(o)) {
    if (k !== 'ca' && k !== 'cert' && k !== 'key') fail(`${where}.${k} is not a TLS setting (ca, cert, key)`);
    if (typeof val !== 'string' || val === '') fail(`${where}.${k} must be a file name`);
    out[k as keyof TlsFiles] = val as string;
  }
  return out;
}

export function dataDirOf(config: ClusterConfig, id: number): string {
  const server = config.servers.find((s) => s.id === id);
  if (!server) throw new ClusterConfigError(`server id ${id} is not in the cluster config (ids: ${config.servers.map((s) => s.id).join(', ')})`);
  return server.dataDir ?? path.join(config.dataDir, `node-${id}`);
}
