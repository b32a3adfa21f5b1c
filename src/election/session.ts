/**
 * One ZooKeeper session that any number of elections share.
 *
 * It owns three things the recipe must not get wrong:
 * - a bounded first connect, failing with the addresses it tried;
 * - the loss deadline, measured on our monotonic clock from the last confirmed contact and
 *   evaluated by a timer, so a hung request cannot delay it;
 * - replacing the handle after the server expires the session (the C client's handle is
 *   dead after that and must never be touched again).
 */
import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type Timer } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import { parseConnectString } from './connect-string.js';
import { ClosedError, ConnectTimeoutError, InvalidArgumentError, SessionExpiredError } from './errors.js';
import { LivenessMonitor, thresholdsFor, type Liveness } from './liveness.js';
import { parseAuth, type AclEntry, type DigestAuth } from './auth.js';
import { TRANSPORT_NAMES, type HandleFactory, type SessionHandle, type TransportName } from './handle.js';
export { TRANSPORT_NAMES, type TransportName } from './handle.js';
import { wireHandle } from './wire-handle.js';
import { nativeHandle } from './native-handle.js';
import { openTlsTunnels, type TlsOptions, type Tunnels } from './tls-tunnel.js';
import type { CreateMode, Watcher, ZkOps, ZkStat } from './zk-types.js';

export interface SessionOptions {
  /** `host:port[,host:port...][/chroot]`. */
  connect: string;
  /** Requested session timeout; the server may grant another (see `timeoutMs`). Default 10000. */
  sessionTimeoutMs?: number;
  /** How long the first connect may take before failing. Default 15000. */
  connectTimeoutMs?: number;
  /**
   * The loss deadline as a fraction of the negotiated session timeout, counted from the
   * last confirmed contact. Default 0.5: half the timeout is left as margin.
   */
  lossDeadlineRatio?: number;
  /** Open a new session after expiry (elections then re-enter). Default true. */
  renewOnExpiry?: boolean;
  logger?: Logger;
  /** The C client's own stderr logging level (0 = off, 1 error ... 4 debug). Default 0. */
  clientLogLevel?: number;
  /** Time for timers and the loss deadline. Default: the process's (monotonic) clocks. */
  clock?: Clock;
  /**
   * How handles reach ZooKeeper: 'native', the official C client (npm `zookeeper`), or
   * 'wire', zk-elect's own TypeScript client (faster handoffs, TLS without tunnels; see
   * wire-handle.ts), or a HandleFactory of your own. Default: the ZK_ELECT_TRANSPORT
   * environment variable if set, else 'native'.
   */
  transport?: HandleFactory | TransportName;
  /**
   * Reach the servers over TLS (their secure client port). The wire transport speaks TLS
   * itself; the C client has none, so with it the session carries TLS through a loopback
   * tunnel per server (see tls-tunnel.ts), torn down with the session.
   */
  tls?: TlsOptions;
  /**
   * Authenticate the session: `digest:USER:PASSWORD` (or its parsed form). Elections on this
   * session then protect their nodes with ACLs for that identity (see auth.ts).
   */
  auth?: string | DigestAuth;
}

export type SessionHealth = Liveness;

export interface SessionEvents {
  /** Contact is in doubt: a leader must pause. */
  suspended: [info: { sinceContactMs: number; reason: 'disconnected' | 'unconfirmed' }];
  /** The loss deadline passed without confirmed contact: a leader must stop. */
  deadline: [info: { sinceContactMs: number }];
  /** The same session confirmed contact again after `suspended` or `deadline`. */
  restored: [];
  /** The session ended on the server (or the client gave it up); ephemerals are gone. */
  expired: [info: { sessionId: string }];
  /** A new session replaced an expired one. */
  renewed: [info: { sessionId: string }];
  closed: [];
  error: [error: Error];
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class ZkSession extends EventEmitter<SessionEvents> implements ZkOps {
  private handle!: SessionHandle;
  private readonly liveness: LivenessMonitor;
  private health: SessionHealth = 'confirmed';
  private connected = false;
  private closing = false;
  private renewing = false;
  private probeTimer: Timer | undefined;
  private livenessTimer: Timer | undefined;
  private generationCounter = 0;
  private connectionLosses = 0;
  readonly logger: Logger;
  readonly connectString: string;
  readonly clock: Clock;

  /** The credentials this session authenticated with, if any. */
  readonly auth: DigestAuth | undefined;

  private constructor(
    private readonly options: Required<Omit<SessionOptions, 'logger' | 'tls' | 'auth' | 'transport'>> & {
      logger: Logger;
      auth: DigestAuth | undefined;
      transport: HandleFactory;
      /** TLS for a transport that speaks it; the others get tunnels instead. */
      tls: TlsOptions | undefined;
    },
    private readonly tunnels: Tunnels | undefined,
  ) {
    super();
    this.logger = options.logger;
    this.connectString = options.connect;
    this.clock = options.clock;
    this.auth = options.auth;
    this.liveness = new LivenessMonitor(thresholdsFor(options.sessionTimeoutMs, options.lossDeadlineRatio), this.clock.monoMs());
  }

  /** Connects, waiting at most `connectTimeoutMs`. */
  static async connect(options: SessionOptions): Promise<ZkSession> {
    parseConnectString(options.connect);
    const sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const lossDeadlineRatio = options.lossDeadlineRatio ?? 0.5;
    if (!Number.isFinite(sessionTimeoutMs) || sessionTimeoutMs < 100) {
      throw new InvalidArgumentError(`session timeout must be at least 100 ms, got ${sessionTimeoutMs}`);
    }
    if (!(lossDeadlineRatio > 0 && lossDeadlineRatio < 1)) {
      throw new InvalidArgumentError(`loss deadline ratio must be between 0 and 1 (exclusive), got ${lossDeadlineRatio}`);
    }
    const auth = typeof options.auth === 'string' ? parseAuth(options.auth) : options.auth;
    const transport = resolveTransport(options.transport);
    if (options.tls && (options.tls.cert === undefined) !== (options.tls.key === undefined)) {
      throw new InvalidArgumentError('a TLS client certificate and its key go together');
    }
    const tunnels = options.tls && !transport.speaksTls ? await openTlsTunnels(options.connect, options.tls) : undefined;
    const session = new ZkSession({
      connect: options.connect,
      sessionTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      lossDeadlineRatio,
      renewOnExpiry: options.renewOnExpiry ?? true,
      clientLogLevel: options.clientLogLevel ?? 0,
      logger: options.logger ?? silentLogger(),
      clock: options.clock ?? systemClock,
      transport,
      auth,
      tls: transport.speaksTls ? options.tls : undefined,
    }, tunnels);
    try {
      await session.open(session.options.connectTimeoutMs);
    } catch (e) {
      await tunnels?.close();
      throw e;
    }
    session.startTimers();
    return session;
  }

  /** Hex session id of the current session. */
  get sessionId(): string {
    return this.handle.sessionId;
  }

  /** Increments each time a new session replaces an expired one. */
  get generation(): number {
    return this.generationCounter;
  }

  /**
   * How many times the connection has dropped (each `connecting` while connected). An election
   * compares it across a suspension: unchanged means the server kept delivering our
   * notifications in order the whole time, so nothing was missed.
   */
  get disconnects(): number {
    return this.connectionLosses;
  }

  /** The session timeout the server granted. */
  get timeoutMs(): number {
    return this.handle.negotiatedTimeoutMs;
  }

  get isClosed(): boolean {
    return this.closing;
  }

  get state(): SessionHealth {
    return this.health;
  }

  get isConnected(): boolean {
    return this.connected && !this.handle.closed;
  }

  /** Milliseconds since the last confirmed contact, on the monotonic clock. */
  sinceContactMs(): number {
    return this.liveness.sinceContactMs(this.clock.monoMs());
  }

  create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.live().create(path, data, mode);
  }
  remove(path: string, version?: number): Promise<void> {
    return this.live().remove(path, version);
  }
  exists(path: string, watcher?: Watcher): Promise<ZkStat | null> {
    return this.live().exists(path, watcher);
  }
  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.live().getChildren(path, watcher);
  }
  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.live().getData(path, watcher);
  }
  /** Compare-and-swap when `version` >= 0: fails with BADVERSION if the node changed since it was read. */
  setData(path: string, data: Buffer, version?: number): Promise<ZkStat> {
    return this.live().setData(path, data, version);
  }

  /** Sets a node's ACL (`version`: the aversion expected, -1 for any). */
  setAcl(path: string, acl: readonly AclEntry[], version?: number): Promise<void> {
    const h = this.live();
    if (!h.setAcl) return Promise.reject(new InvalidArgumentError('this transport cannot set ACLs'));
    return h.setAcl(path, acl, version);
  }

  /** Closes the session: the server deletes its ephemeral nodes at once. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.probeTimer?.cancel();
    this.livenessTimer?.cancel();
    this.handle.close();
    await this.tunnels?.close();
    this.emit('closed');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private live(): SessionHandle {
    if (this.closing) throw new ClosedError('the ZooKeeper session was closed');
    return this.handle;
  }

  /** Opens a new handle and waits until it is connected (or `timeoutMs` passes, if given). */
  private open(timeoutMs: number | undefined): Promise<void> {
    const handle = this.options.transport({
      connect: this.tunnels?.connectString ?? this.options.connect,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      clientLogLevel: this.options.clientLogLevel,
      clock: this.clock,
      ...(this.auth ? { auth: this.auth } : {}),
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      onServerReply: (sentAtMs) => {
        if (handle === this.handle) this.liveness.confirm(sentAtMs);
      },
    });
    this.handle = handle;
    this.connected = false;
    return new Promise<void>((resolve, reject) => {
      let first = true;
      const timer =
        timeoutMs === undefined
          ? undefined
          : this.clock.after(timeoutMs, () => {
              if (!first) return;
              first = false;
              handle.removeAllListeners();
              handle.close();
              reject(new ConnectTimeoutError(this.options.connect, timeoutMs, { detail: this.tunnels?.lastError ?? handle.lastConnectError }));
            });
      handle.on('connected', () => {
        this.connected = true;
        if (first) {
          first = false;
          timer?.cancel();
          handle.opTimeoutMs = handle.negotiatedTimeoutMs;
          this.liveness.reset(this.clock.monoMs(), thresholdsFor(handle.negotiatedTimeoutMs, this.options.lossDeadlineRatio));
          this.health = 'confirmed';
          this.logger.info('connected', { session: handle.sessionId, timeoutMs: handle.negotiatedTimeoutMs, transport: transportName(this.options.transport) });
          resolve();
        } else {
          this.logger.info('reconnected', { session: handle.sessionId });
          this.probe();
        }
      });
      handle.on('connecting', () => {
        if (!this.connected) return;
        this.connected = false;
        this.connectionLosses += 1;
        this.logger.warn('connection lost; reconnecting', { connect: this.options.connect, session: handle.sessionId });
        this.transition('suspended', 'disconnected');
      });
      handle.on('closed', (code) => {
        this.connected = false;
        if (first) {
          first = false;
          timer?.cancel();
          reject(new SessionExpiredError(code, 'SESSION_CLOSED', 'connect', undefined));
          return;
        }
        if (this.closing || handle !== this.handle) return;
        this.onExpired(handle.sessionId, code);
      });
    });
  }

  private onExpired(sessionId: string, code: number): void {
    this.logger.warn('session ended', { session: sessionId, code });
    this.health = 'lost';
    this.emit('expired', { sessionId });
    if (this.options.renewOnExpiry) void this.renew();
    else void this.close();
  }

  /** Keeps trying to open a new session until one connects or we are closed. */
  private async renew(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    let backoffMs = 100;
    try {
      while (!this.closing) {
        try {
          await this.open(Math.max(this.options.connectTimeoutMs, 1000));
          if (this.closing) {
            this.handle.close();
            return;
          }
          this.generationCounter += 1;
          this.emit('renewed', { sessionId: this.handle.sessionId });
          return;
        } catch (e) {
          this.logger.warn('could not open a new session; retrying', { connect: this.options.connect, error: (e as Error).message });
          await new Promise<void>((r) => this.clock.after(backoffMs, r));
          backoffMs = Math.min(backoffMs * 2, 5000);
        }
      }
    } finally {
      this.renewing = false;
    }
  }

  private startTimers(): void {
    // Probe often enough that a healthy session confirms contact several times per suspend window.
    const probeEveryMs = Math.max(50, Math.floor(this.timeoutMs / 6));
    this.probeTimer = this.clock.every(probeEveryMs, () => this.probe());
    const tickMs = Math.min(100, Math.max(10, Math.floor(this.timeoutMs / 50)));
    this.livenessTimer = this.clock.every(tickMs, () => this.evaluate());
  }

  private probe(): void {
    if (this.closing || this.handle.closed) return;
    // Any server answer (even NONODE under a chroot) confirms contact; errors are expected while cut off.
    this.handle.exists('/').then(
      () => this.evaluate(),
      () => undefined,
    );
  }

  private evaluate(): void {
    if (this.closing || this.renewing || this.handle.closed) return;
    const verdict = this.liveness.evaluate(this.clock.monoMs());
    if (verdict === 'confirmed' && !this.connected) return; // wait for the reconnect itself
    this.transition(verdict, 'unconfirmed');
  }

  private transition(next: SessionHealth, reason: 'disconnected' | 'unconfirmed'): void {
    const prev = this.health;
    if (next === prev) return;
    const sinceContactMs = Math.round(this.sinceContactMs());
    if (next === 'confirmed') {
      this.health = 'confirmed';
      this.logger.info('contact confirmed again', { session: this.sessionId });
      this.emit('restored');
    } else if (next === 'suspended') {
      if (prev === 'lost') return; // already past the deadline; only confirmation moves us back
      this.health = 'suspended';
      this.logger.warn('contact in doubt', { reason, sinceContactMs });
      this.emit('suspended', { sinceContactMs, reason });
    } else {
      if (prev === 'confirmed') this.emit('suspended', { sinceContactMs, reason });
      this.health = 'lost';
      this.logger.warn('loss deadline passed without confirmed contact', { sinceContactMs });
      this.emit('deadline', { sinceContactMs });
    }
  }
}


/** A transport option (a name, a factory, or nothing: ZK_ELECT_TRANSPORT, else 'native') as the factory to use. */
/** A transport's name for logs: one of the built-in ones, or 'custom'. */
function transportName(t: HandleFactory): string {
  return t === nativeHandle ? 'native' : t === wireHandle ? 'wire' : 'custom';
}

export function resolveTransport(t: HandleFactory | TransportName | undefined): HandleFactory {
  if (typeof t === 'function') return t;
  const name = t ?? (process.env.ZK_ELECT_TRANSPORT || 'native');
  if (name === 'native') return nativeHandle;
  if (name === 'wire') return wireHandle;
  const from = t === undefined ? ' (from ZK_ELECT_TRANSPORT)' : '';
  throw new InvalidArgumentError(`transport must be one of ${TRANSPORT_NAMES.join(', ')}, got ${JSON.stringify(name)}${from}`);
}
