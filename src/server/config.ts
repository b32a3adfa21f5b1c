/**
 * Server settings, in the spirit of zoo.cfg. Everything has a limit and a default; nothing
 * is read from the environment deep inside the server.
 */
import { DEFAULT_MAX_FRAME } from '../protocol/constants.js';
import type { TlsMaterial } from '../tls-files.js';
import type { ClusterConfig } from './cluster/cluster-config.js';
import { MAX_SNAP_CHUNK_BYTES } from './zab/codec.js';
import { DEFAULT_FOUR_LETTER_WHITELIST, type FourLetterWhitelist } from './admin/whitelist.js';

export interface ServerConfig {
  /** Client port host; loopback by default. */
  host: string;
  port: number;
  /** secureClientPort: a TLS-only client port (0 = any free port); none when undefined. */
  secureClientPort?: number;
  /** The secure port's certificate and key; with a CA, clients must present a certificate it signed. */
  clientTls?: TlsMaterial;
  dataDir: string;
  /** The unit of time: session expiry is checked per tick, timeouts are negotiated in ticks. */
  tickMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** jute.maxbuffer: the largest frame (and znode data) accepted. */
  maxFrameBytes: number;
  /** maxClientCnxns: concurrent connections from one IP (0 = unlimited). */
  maxClientConnections: number;
  /**
   * Backpressure. Each limit is a threshold at which the server stops reading requests from the
   * sockets that cause the load, resuming below a low-water mark (half the limit); none closes a
   * connection or refuses a request, and a single request larger than a limit is still served
   * (maxFrameBytes is the size cap).
   *
   * Requests in flight on one connection at which it stops being read (resumes at half).
   */
  maxOutstandingPerConnection: number;
  /** zookeeper.globalOutstandingLimit: client requests in flight on this server at which every
   * connection with a request in flight stops being read; one with none may still send one. */
  globalOutstandingLimit: number;
  /** Reply bytes queued for one client (not yet taken by the network) at which its requests stop
   * being read, until its queue has drained to half. */
  maxQueuedBytesPerConnection: number;
  /** Reply bytes queued for all clients together at which every connection with a backlog stops
   * being read (clients that keep up are not). */
  maxQueuedBytesTotal: number;
  /** Cluster leader: proposals a quorum has not acknowledged yet. At the limit further writes wait
   * (in order) unproposed, the leader stops reading its writing clients and tells its followers to
   * stop reading theirs; reads keep flowing. */
  maxUncommittedProposals: number;
  /** Take a snapshot after this many txns. */
  snapCount: number;
  /** Keep this many snapshots (and the log they need). */
  snapRetain: number;
  /** zookeeper.extendedTypesEnabled: TTL nodes. Off by default, as in ZooKeeper. */
  extendedTypesEnabled: boolean;
  /** Container/TTL reaper period (znode.container.checkIntervalMs). */
  containerCheckIntervalMs: number;
  /**
   * reconfigEnabled (default false, as in ZooKeeper): reconfig answers RECONFIGDISABLED unless
   * set; with it set, a standalone server answers UNIMPLEMENTED as ZooKeeper's does. Dynamic
   * reconfiguration of a cluster is not implemented, so a cluster refuses the setting.
   */
  reconfigEnabled: boolean;
  /** zookeeper.DigestAuthenticationProvider.superDigest, e.g. "super:base64sha1". */
  superDigest: string | undefined;
  /**
   * SASL DIGEST-MD5 users, name -> password (ZooKeeper's JAAS "Server" section,
   * user_<name>="<password>"). Set: SASL logins are served and the `sasl` ACL scheme is
   * registered (as with authProvider.1=...SASLAuthenticationProvider). Unset: no SASL, as a
   * ZooKeeper server without a JAAS configuration.
   */
  saslUsers?: ReadonlyMap<string, string>;
  /** Server id (the high byte of session ids). */
  serverId: number;
  /** fsync the log before acknowledging writes. Turn off only for experiments. */
  fsync: boolean;
  /** A log fsync slower than this is logged and counted (fsync.warningthresholdms). */
  fsyncWarningThresholdMs: number;
  /** Set for a cluster node: its id and the cluster file. Absent: standalone. */
  cluster?: { id: number; config: ClusterConfig };
  /** TLS with mutual authentication on the links to the other members (from the cluster file). */
  quorumTls?: TlsMaterial;
  /** Four-letter words answered on the client port (4lw.commands.whitelist); default srvr only. */
  fourLetterWhitelist: FourLetterWhitelist;
  /** Admin HTTP server port (commands, metrics, dashboard); none when undefined, 0 = any free port. */
  adminPort?: number;
  /** Admin HTTP server address; default 127.0.0.1 (loopback). */
  adminHost?: string;
  /** Where the admin token is kept (admin-token.ts); default `<dataDir>/admin-token`. */
  adminTokenFile?: string;
  /** Log bytes appended but not yet fsynced at which the server stops reading writing clients until
   * the disk has caught up to half (backpressure); a cluster leader also stops proposing then, and
   * holds its followers' writing clients. Default 256 MiB. */
  maxPendingLogBytes: number;
  /** Cluster leaders treat zxid counters at or above this as exhausted (ZOOKEEPER-1277) and
   * force a new epoch. Default: the full 32-bit counter; lower only to exercise the rollover. */
  zxidCounterLimit?: number;
  /** Cluster leaders send a SNAP in chunks of this many bytes (default 256 KiB, at most 1 MiB). */
  snapChunkBytes?: number;
  /** ... keeping at most this many unacknowledged SNAP bytes in flight per follower (default 1 MiB). */
  snapWindowBytes?: number;
}

const MiB = 1024 * 1024;

/** The backpressure limits' defaults (the CLI shows them in --help). */
export const LIMIT_DEFAULTS = {
  /** As the global limit: one client may use the whole budget (ZooKeeper has no per-connection
   * limit); one pipelining more is simply read more slowly. */
  maxOutstandingPerConnection: 1000,
  /** zookeeper.globalOutstandingLimit's default. */
  globalOutstandingLimit: 1000,
  /** A few of the largest replies (1 MiB each); the kernel's socket buffer comes on top. */
  maxQueuedBytesPerConnection: 4 * MiB,
  maxQueuedBytesTotal: 128 * MiB,
  /** Far beyond what a healthy disk ever has waiting; only a stalled one gets there. */
  maxPendingLogBytes: 256 * MiB,
  /** The same as the outstanding limit: a leader proposes at most what one server may have in flight. */
  maxUncommittedProposals: 1000,
} as const;

/** ZooKeeper's znode.container.checkIntervalMs default: one minute. */
export const DEFAULT_CONTAINER_CHECK_INTERVAL_MS = 60_000;

export function defaultConfig(overrides: Partial<ServerConfig> & { dataDir: string }): ServerConfig {
  const tickMs = overrides.tickMs ?? 2000;
  const base: ServerConfig = {
    host: '127.0.0.1',
    port: 2181,
    dataDir: overrides.dataDir,
    tickMs,
    minSessionTimeoutMs: tickMs * 2,
    maxSessionTimeoutMs: tickMs * 20,
    maxFrameBytes: DEFAULT_MAX_FRAME,
    maxClientConnections: 60,
    ...LIMIT_DEFAULTS,
    snapCount: 100_000,
    snapRetain: 3,
    extendedTypesEnabled: false,
    containerCheckIntervalMs: DEFAULT_CONTAINER_CHECK_INTERVAL_MS,
    reconfigEnabled: false,
    superDigest: undefined,
    serverId: 0,
    fsync: true,
    fsyncWarningThresholdMs: 1000,
    fourLetterWhitelist: DEFAULT_FOUR_LETTER_WHITELIST,
  };
  const merged = { ...base, ...stripUndefined(overrides) };
  // Unless given explicitly, the bounds follow the tick as in ZooKeeper.
  if (overrides.minSessionTimeoutMs === undefined) merged.minSessionTimeoutMs = merged.tickMs * 2;
  if (overrides.maxSessionTimeoutMs === undefined) merged.maxSessionTimeoutMs = merged.tickMs * 20;
  validate(merged);
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(c: ServerConfig): void {
  const fail = (why: string) => {
    throw new Error(`invalid server configuration: ${why}`);
  };
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) fail(`port ${c.port} is not 0-65535`);
  if (c.secureClientPort !== undefined && (!Number.isInteger(c.secureClientPort) || c.secureClientPort < 0 || c.secureClientPort > 65535)) fail(`secure client port ${c.secureClientPort} is not 0-65535`);
  if ((c.secureClientPort === undefined) !== (c.clientTls === undefined)) fail('a secure client port and its TLS certificate and key go together');
  if (c.clientTls && (!c.clientTls.cert || !c.clientTls.key)) fail('the secure client port needs a TLS certificate and key');
  if (c.adminPort !== undefined && (!Number.isInteger(c.adminPort) || c.adminPort < 0 || c.adminPort > 65535)) fail(`admin port ${c.adminPort} is not 0-65535`);
  if (!(c.tickMs >= 1)) fail(`tick ${c.tickMs} ms must be at least 1`);
  if (c.minSessionTimeoutMs > c.maxSessionTimeoutMs) fail(`min session timeout ${c.minSessionTimeoutMs} ms exceeds max ${c.maxSessionTimeoutMs} ms`);
  if (!(c.maxFrameBytes >= 1024 && c.maxFrameBytes <= 256 * 1024 * 1024)) fail(`max frame ${c.maxFrameBytes} must be 1 KiB .. 256 MiB`);
  if (!(c.snapCount >= 2)) fail(`snapCount ${c.snapCount} must be at least 2`);
  if (!(Number.isInteger(c.containerCheckIntervalMs) && c.containerCheckIntervalMs >= 1)) fail(`containerCheckIntervalMs ${c.containerCheckIntervalMs} must be a whole number of at least 1`);
  if (c.reconfigEnabled && c.cluster) fail('reconfigEnabled: dynamic reconfiguration of a cluster is not supported');
  if (!(c.serverId >= 0 && c.serverId <= 254)) fail(`server id ${c.serverId} must be 0-254`);
  if (!(Number.isInteger(c.maxPendingLogBytes) && c.maxPendingLogBytes >= 1024)) fail(`maxPendingLogBytes ${c.maxPendingLogBytes} must be at least 1024`);
  const atLeast = (name: keyof ServerConfig, min: number) => {
    const v = c[name];
    if (!(Number.isSafeInteger(v) && (v as number) >= min)) fail(`${name} ${String(v)} must be an integer of at least ${min}`);
  };
  atLeast('maxOutstandingPerConnection', 1);
  atLeast('globalOutstandingLimit', 1);
  atLeast('maxQueuedBytesPerConnection', 1024);
  atLeast('maxQueuedBytesTotal', 1024);
  atLeast('maxUncommittedProposals', 1);
  if (c.snapChunkBytes !== undefined && !(Number.isInteger(c.snapChunkBytes) && c.snapChunkBytes >= 1 && c.snapChunkBytes <= MAX_SNAP_CHUNK_BYTES)) fail(`snapChunkBytes ${c.snapChunkBytes} must be 1 .. ${MAX_SNAP_CHUNK_BYTES}`);
  if (c.snapWindowBytes !== undefined && !(Number.isInteger(c.snapWindowBytes) && c.snapWindowBytes >= (c.snapChunkBytes ?? 256 * 1024))) fail(`snapWindowBytes ${c.snapWindowBytes} must hold at least one chunk`);
  if (c.zxidCounterLimit !== undefined && !(Number.isInteger(c.zxidCounterLimit) && c.zxidCounterLimit >= 2)) fail(`zxidCounterLimit ${c.zxidCounterLimit} must be an integer of at least 2`);
}

/** ZooKeeper's negotiation: clamp the requested timeout into [min, max]. */
export function negotiateTimeout(c: ServerConfig, requestedMs: number): number {
  return Math.min(Math.max(requestedMs, c.minSessionTimeoutMs), c.maxSessionTimeoutMs);
}
