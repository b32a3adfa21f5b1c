/**
 * The public shapes of zk-elect's own ZooKeeper client (the wire transport, and the
 * simulator's client): options, results, the events a history recorder or checker consumes,
 * and the few client-side constants.
 */
import type { Clock } from '../clock.js';
import type { Network, TlsConnectOptions } from '../server/net/network.js';
import { ErrorCode, Perm, type ACL, type Stat } from '../protocol/index.js';

export type { ACL, Stat };

/** The client's only source of randomness (server order, reconnect jitter): the simulator's
 * seeded Prng, or Math.random in production (see `mathRandom`). */
export interface Rng {
  /** A uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number;
}

export const mathRandom: Rng = { int: (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1)) };

export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export interface WatchedEvent {
  /** EventType: NodeCreated 1, NodeDeleted 2, NodeDataChanged 3, NodeChildrenChanged 4, None -1 (session). */
  type: number;
  /** KeeperState: SyncConnected 3 for node events; Disconnected 0 / SyncConnected 3 / Expired -112 for session events. */
  state: number;
  path: string;
}

export type WatchCallback = (event: WatchedEvent) => void;

/** The C client's three watch tables (see watch-table.ts). */
export type WatchKind = 'data' | 'exist' | 'child';

/**
 * What a read's `watch` argument may be: a callback, or `true` to register the watch with
 * only `onEvent` hearing about it (the C client's "default watcher"). A given callback is
 * registered once per path and table, as in the C client, so passing it twice fires it once.
 */
export type WatchArg = WatchCallback | boolean | undefined;

export interface WireClientOptions {
  network: Network;
  clock: Clock;
  rng: Rng;
  /** 'host:port' (or '[v6]:port'); tried from a random start, then round-robin. */
  servers: string[];
  /** Requested; the server's answer (negotiated) is what pings and timeouts use. */
  sessionTimeoutMs: number;
  /** Label for events, so a history can tell clients apart. */
  name?: string;
  /** TCP connect + handshake bound per attempt. Default: (negotiated or requested) timeout / 3. */
  connectTimeoutMs?: number;
  /**
   * Upper bound of the random pause before a reconnect attempt (after a whole round of servers
   * failed, that bound is also added as a floor, like the Java client's spin delay).
   * Default: min(1000, timeout / 10).
   */
  reconnectDelayMs?: number;
  onEvent?: (e: ClientEvent) => void;
  /** After an established connection drops, dial the next server without the random pause
   * (the C client's behaviour; the pause still applies after failed attempts). Default false. */
  reconnectAtOnce?: boolean;
  /** Credentials sent (AuthPacket) after every handshake, before anything else; a refusal closes the client. */
  auth?: ReadonlyArray<{ scheme: string; auth: Buffer }>;
  /** Dial the servers over TLS (their secure client port). */
  tls?: TlsConnectOptions;
  /** Reattach an existing session (id and password from another client) instead of creating one. */
  session?: { id: bigint; passwd: Buffer };
}

/** Why a connection (or an attempt) ended, as reported in state events. */
export type DropReason =
  | 'closed-by-peer'
  | 'connect-timeout'
  | 'receive-timeout'
  | 'protocol-violation'
  | 'session-expired'
  | 'auth-failed'
  | 'client-close';

export type ViolationKind =
  /** A reply's xid was not that of the oldest outstanding request. */
  | 'xid-order'
  /** A reply carried a zxid lower than one this session had already seen. */
  | 'zxid-regression'
  /** A frame that does not split or decode. */
  | 'bad-frame'
  /** A ConnectResponse for another session than the one we asked to reattach. */
  | 'session-mismatch';

export type ClientEvent =
  | { type: 'state'; client: string; atMs: number; state: ClientState; prev: ClientState; server: string | undefined; sessionId: bigint; reason?: DropReason }
  /** A connection attempt began (no state change when already connecting). */
  | { type: 'attempt'; client: string; atMs: number; server: string }
  /** The current connection or attempt ended (reported before what follows from it); `established` if its handshake had succeeded. */
  | { type: 'lost'; client: string; atMs: number; server: string; reason: DropReason; established: boolean; error?: string }
  /** An API call was made (the start of the operation's interval in a history). */
  | { type: 'request'; client: string; atMs: number; op: string; path: string | undefined; xid: number }
  /**
   * The call completed. `local` is true when the client made the result up (CONNECTIONLOSS,
   * SESSIONEXPIRED) rather than a server answering; `server` is who answered.
   */
  | {
      type: 'reply'; client: string; atMs: number; op: string; path: string | undefined; xid: number;
      sentMs: number; err: number; zxid: bigint; local: boolean; server: string | undefined;
    }
  /** A watch notification (xid -1). `zxid` is lastZxidSeen when it arrived; `watchers` how many local watchers it fired. */
  | { type: 'notification'; client: string; atMs: number; event: WatchedEvent; zxid: bigint; watchers: number; server: string | undefined }
  | { type: 'violation'; client: string; atMs: number; kind: ViolationKind; detail: string; server: string | undefined; sessionId: bigint };

/** What a completed call carries before the API layer picks the body apart. */
export interface Outcome { err: number; zxid: bigint; body: unknown }

export interface CallMeta {
  op: number;
  path: string | undefined;
  /** A watch to register when the reply's code says the server registered one. */
  watch?: { cb: WatchCallback; kindFor: (err: number) => WatchKind | undefined };
}

export interface Result { err: number; zxid: bigint }
export interface CreateResult extends Result { path?: string }
export interface StatResult extends Result { stat?: Stat }
export interface DataResult extends Result { data?: Buffer | null; stat?: Stat }
export interface ChildrenResult extends Result { children?: string[] }
export interface SyncResult extends Result { path?: string }

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];

/** Local results: what the client answers without a server (same codes as the real clients). */
export const LOCAL_ERRORS = {
  connectionLoss: ErrorCode.CONNECTIONLOSS,
  sessionExpired: ErrorCode.SESSIONEXPIRED,
} as const;

export function parseServer(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!m || m[1] === undefined) throw new Error(`not a host:port address: ${JSON.stringify(address)}`);
  return { host: m[1], port: Number(m[2]) };
}
