/**
 * The wire transport: a SessionHandle over zk-elect's own ZooKeeper client (src/client), which
 * speaks the client protocol in TypeScript on the process's event loop instead of through the
 * official C client. The same class runs in the simulator (`wireTransport` with the
 * simulator's network and clock), so the recipe the simulator checks is the one this
 * transport runs.
 *
 * Why it exists (issue 11): a graceful handoff is a write, a notification and one batch of
 * reads; through the C client each of those I/O events also pays the binding's crossing and
 * the -O0 client's own bookkeeping, and its close blocks the event loop while it waits for
 * the server's answer. Here a reply is a socket read and a decode. It also speaks TLS itself
 * (node:tls), where the C client needs a tunnel per server.
 *
 * Events map as the C client's do: connected -> 'connected', a dropped connection ->
 * 'connecting', expired, refused credentials or closed -> 'closed' (SESSIONEXPIRED,
 * AUTHFAILED or CLOSING).
 */
import { EventEmitter } from 'node:events';
import { mathRandom, type ClientEvent, type WireClientOptions } from '../client/types.js';
import { WireClient } from '../client/zk-client.js';
import { toZkOps, type WireZkOps } from '../client/zk-ops.js';
import { nodeNetwork } from '../server/net/network.js';
import type { TlsOptions } from './tls-tunnel.js';
import type { AclEntry } from './auth.js';
import { authData } from './auth.js';
import { parseConnectString } from './connect-string.js';
import type { HandleFactory, HandleOptions, SessionHandle, SessionHandleEvents } from './handle.js';
import { isServerReply, ZkCode, type CreateMode, type Watcher, type ZkStat } from './zk-types.js';

/** How long close() waits for the server to confirm closeSession before it drops the socket. */
const CLOSE_WAIT_MS = 2_000;

export class WireHandle extends EventEmitter<SessionHandleEvents> implements SessionHandle {
  opTimeoutMs: number;
  lastConnectError: string | undefined;
  private closedFlag = false;
  private readonly client: WireClient;
  private readonly ops: WireZkOps;
  /** Keeps the process alive while the handle is open, as the C client's handles do (a client
   * waiting out its reconnect pause has no socket or ref'd timer of its own). */
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: HandleOptions,
    make: (onEvent: (e: ClientEvent) => void) => WireClient,
    chroot: string | undefined,
    keepProcessAlive: boolean,
  ) {
    super();
    if (keepProcessAlive) this.keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
    this.opTimeoutMs = options.sessionTimeoutMs;
    this.client = make((e) => this.onEvent(e));
    const self = this;
    this.ops = toZkOps(this.client, {
      get opTimeoutMs() {
        return self.opTimeoutMs;
      },
      ...(chroot ? { chroot } : {}),
    });
    this.client.start();
  }

  private onEvent(e: ClientEvent): void {
    if (e.type === 'reply' && !e.local && isServerReply(e.err)) this.options.onServerReply(e.sentMs);
    if (e.type === 'lost' && !e.established) {
      this.lastConnectError = `${this.options.tls ? 'TLS to' : 'connection to'} ${e.server} failed: ${e.error ?? e.reason}`;
    }
    if (e.type !== 'state' || this.closedFlag) return;
    if (e.state === 'connected') this.emit('connected');
    else if (e.state === 'disconnected' && e.prev === 'connected') this.emit('connecting');
    else if (e.state === 'expired' || e.state === 'closed') {
      this.closedFlag = true;
      clearInterval(this.keepAlive);
      this.emit('closed', e.state === 'expired' ? ZkCode.SESSIONEXPIRED : e.reason === 'auth-failed' ? ZkCode.AUTHFAILED : ZkCode.CLOSING);
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }
  get sessionId(): string {
    return this.closedFlag ? '0' : this.ops.sessionId;
  }
  get negotiatedTimeoutMs(): number {
    return this.client.negotiatedTimeoutMs || this.options.sessionTimeoutMs;
  }
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearInterval(this.keepAlive);
    // closeSession is answered after the server removed our ephemeral nodes; a server that
    // does not answer (paused, partitioned) must not keep the socket, and the process, alive.
    const timer = this.options.clock.after(CLOSE_WAIT_MS, () => this.client.abandon());
    void this.client.close().finally(() => timer.cancel());
  }
  create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.ops.create(path, data, mode);
  }
  remove(path: string, version?: number): Promise<void> {
    return this.ops.remove(path, version);
  }
  exists(path: string, watcher?: Watcher): Promise<ZkStat | null> {
    return this.ops.exists(path, watcher);
  }
  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.ops.getChildren(path, watcher);
  }
  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.ops.getData(path, watcher);
  }
  setData(path: string, data: Buffer, version?: number): Promise<ZkStat> {
    return this.ops.setData(path, data, version);
  }
  setAcl(path: string, acl: readonly AclEntry[], version?: number): Promise<void> {
    return this.ops.setAcl(path, acl, version);
  }
}

/** What a transport hands its client factory: the handle's own settings, and `onEvent`, which must reach the handle. */
export type WireClientSettings = Pick<WireClientOptions, 'sessionTimeoutMs' | 'onEvent' | 'auth' | 'tls'>;

/**
 * A transport whose handles are the WireClients `make` builds: on the process's sockets
 * (`wireHandle`) or on the simulator's network, clock and randomness. `make` must pass
 * `settings` on (at least sessionTimeoutMs and onEvent).
 */
export function wireTransport(make: (settings: WireClientSettings, options: HandleOptions) => WireClient, keepProcessAlive = false): HandleFactory {
  const factory: HandleFactory = (options) => {
    const { chroot } = parseConnectString(options.connect);
    const settings = (onEvent: (e: ClientEvent) => void): WireClientSettings => ({
      sessionTimeoutMs: options.sessionTimeoutMs,
      onEvent,
      ...(options.auth ? { auth: [{ scheme: options.auth.scheme, auth: Buffer.from(authData(options.auth), 'utf8') }] } : {}),
      ...(options.tls ? { tls: { material: { ...tlsBuffers(options.tls), files: {} } } } : {}),
    });
    return new WireHandle(options, (onEvent) => make(settings(onEvent), options), chroot, keepProcessAlive);
  };
  return Object.assign(factory, { speaksTls: true });
}

function tlsBuffers(tls: TlsOptions): { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const b = (v: string | Buffer | undefined) => (v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'));
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  const ca = b(tls.ca);
  const cert = b(tls.cert);
  const key = b(tls.key);
  if (ca) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  return out;
}

/** The servers of a connect string as the client dials them (`host:port`, IPv6 in brackets). */
export function serversOf(connect: string): string[] {
  return parseConnectString(connect).servers.map((s) => `${s.host}:${s.port}`);
}

/** The wire transport on the process's own sockets and clocks. */
export const wireHandle: HandleFactory = wireTransport(
  (settings, options) =>
    new WireClient({ ...settings, network: nodeNetwork, clock: options.clock, rng: mathRandom, servers: serversOf(options.connect), reconnectAtOnce: true }),
  true,
);
