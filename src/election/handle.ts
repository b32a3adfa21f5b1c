/**
 * One ZooKeeper session handle, as the session layer (session.ts) uses it: ZooKeeper calls
 * with typed errors, plus connected/connecting/closed events. Two transports implement it: the
 * official C client (native-handle.ts) and zk-elect's own client (wire-handle.ts), which the
 * simulator also runs on its network and clock, so the recipe and its loss deadline run
 * unchanged on simulated time.
 */
import type { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';
import type { AclEntry, DigestAuth } from './auth.js';
import type { TlsOptions } from './tls-tunnel.js';
import type { ZkOps, ZkStat } from './zk-types.js';

export interface SessionHandleEvents {
  /** Connected: first time, or again after a disconnect (same session). */
  connected: [];
  /** The TCP connection dropped; the client is reconnecting. The session may still be alive. */
  connecting: [];
  /** The handle is dead: session expired, auth failed, or closed by us. Never reused. */
  closed: [code: number];
}

export interface SessionHandle extends ZkOps, EventEmitter<SessionHandleEvents> {
  readonly closed: boolean;
  /** Session id as lower-case hex, as ZooKeeper prints it and as Stat.ephemeralOwner holds it. */
  readonly sessionId: string;
  /** The timeout the server granted. */
  readonly negotiatedTimeoutMs: number;
  /** Per-operation bound; a reply later than this is ignored and the caller told "unknown outcome". */
  opTimeoutMs: number;
  /** Why the last connection attempt failed, where the transport knows (for a connect timeout's message). */
  readonly lastConnectError?: string | undefined;
  /** Conditional write: `version` -1 writes whatever the version. */
  setData(path: string, data: Buffer, version?: number): Promise<ZkStat>;
  /** setACL; `version` is the ACL version (aversion) expected, -1 for any. Only transports that support auth have it. */
  setAcl?(path: string, acl: readonly AclEntry[], version?: number): Promise<void>;
  close(): void;
}

/** The built-in transports: the official C client, and zk-elect's own client (wire-handle.ts). */
export type TransportName = 'native' | 'wire';
export const TRANSPORT_NAMES: readonly TransportName[] = ['native', 'wire'];

export interface HandleOptions {
  connect: string;
  sessionTimeoutMs: number;
  /** Called with the send time (clock.monoMs) of every request a server answered. */
  onServerReply: (sentAtMs: number) => void;
  /** The C client's own stderr logging: 0 silences it. */
  clientLogLevel?: number;
  /** Credentials to add (addAuth) before anything else; the client re-sends them on every reconnect. */
  auth?: DigestAuth;
  /** TLS to the servers; given only to transports that speak it (`speaksTls`). */
  tls?: TlsOptions;
  clock: Clock;
}

/**
 * Opens a handle; it connects in the background and emits `connected`. A transport that
 * speaks TLS itself says so (`speaksTls`); the others reach TLS servers through the
 * session's loopback tunnels (tls-tunnel.ts).
 */
export type HandleFactory = ((options: HandleOptions) => SessionHandle) & { readonly speaksTls?: boolean };
