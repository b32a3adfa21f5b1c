/**
 * One ZooKeeper-compatible server, built from injected I/O (clock, network, files). `zk-elect
 * server` builds it with the real ones (via ZkServer, which adds the admin HTTP server); the
 * simulator builds exactly this class with seeded, fault-injecting ones.
 *
 * Request flow: a write is prepped (against pending changes), logged, fsynced (replicated in a
 * cluster), applied, and only then answered; a read is answered from the applied state once
 * every earlier write of its session has been applied here. Every frame to a client leaves
 * only while this server's lease holds (a cluster member cut off from its quorum goes quiet
 * before anyone could expire the sessions it answers).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, OpCode } from '../../protocol/constants.js';
import type { ConnectRequest } from '../../protocol/records.js';
import type { Request } from '../../protocol/requests.js';
import { encodeConnectResponse, encodeReply, encodeWatcherEvent } from '../../protocol/responses.js';
import { silentLogger, type Logger } from '../../log.js';
import { RequestMetrics } from '../admin/request-metrics.js';
import { ReplicatedWritePath } from '../cluster/replicated-write-path.js';
import { negotiateTimeout, type ServerConfig } from '../config.js';
import { fourLetterWord, type ServerView } from '../admin/four-letter.js';
import { newCounters, recordResponseSize, type BackpressureFigures, type QuorumState } from '../admin/figures.js';
import type { ClientConnection } from '../net/client-connection.js';
import { ClientPort } from '../net/client-port.js';
import { multiMarshallingErrorIndex, refusedBeforePrep, toWriteRequest, writeReply } from '../requests.js';
import { LocalWritePath } from '../standalone/local-write-path.js';
import { DataDir } from '../storage/data-dir.js';
import type { TxnLog, TxnLogStats } from '../storage/txn-log.js';
import { mayDeliver } from '../tree/acl.js';
import { SnapshotLoader } from '../tree/snapshot-stream.js';
import { ZkState } from '../tree/state.js';
import { decodeTxn } from '../tree/txn-codec.js';
import type { ApplyResult, WatchTrigger, WriteRequest } from '../tree/types.js';
import type { NodeIo } from './io.js';
import { answerRead, type ReadContext } from './reads.js';
import { passwordMatches, sessionPassword } from '../storage/session-secret.js';
import { SessionTracker } from './session-tracker.js';
import { SnapshotPolicy } from './snapshot-policy.js';
import type { Timer } from './clock.js';
import type { NodeMode, NodeServices, WritePath } from './write-path.js';

const NOTIFICATION_ZXID = -1n;
/** How often the deciding server looks for expired sessions, at most. */
const EXPIRY_CHECK_MS = 50;

export class ZkNode implements ServerView {
  readonly startedAtMs: number;
  private state!: ZkState;
  private dataDir!: DataDir;
  private writes!: WritePath;
  private port!: ClientPort;
  readonly tracker: SessionTracker;
  private readonly bySession = new Map<bigint, ClientConnection>();
  private readonly byWatcher = new Map<number, ClientConnection>();
  /** Monotonic time of the last request of each session that reached this server. */
  private readonly lastActive = new Map<bigint, number>();
  /** Sessions whose owner is being asked whether they are idle (no second question meanwhile). */
  private readonly asking = new Set<bigint>();
  private readonly timers: Timer[] = [];
  private snapshots!: SnapshotPolicy;
  private stopped = false;
  private txnLog: TxnLog | undefined;
  /** What session passwords are derived from: this data dir's, or in a cluster the leader's. */
  private secret!: Buffer;
  /** Cxids for the server's own requests (container reaper), unique so replies never collide. */
  private internalCxid = 0;
  /** Listeners for every applied txn (the dashboard's change feed, the simulator's checkers). */
  private readonly applyListeners: Array<(r: ApplyResult) => void> = [];
  readonly requestMetrics = new RequestMetrics();
  readonly counters = { ...newCounters(), requests: 0, writes: 0 };

  private constructor(
    readonly config: ServerConfig,
    readonly io: NodeIo,
    readonly logger: Logger,
  ) {
    this.startedAtMs = io.clock.wallMs();
    this.tracker = new SessionTracker(config.cluster?.id ?? config.serverId, io.clock.wallMs(), () => io.clock.monoMs());
  }

  static async start(config: ServerConfig, io: NodeIo, logger: Logger = silentLogger()): Promise<ZkNode> {
    const node = new ZkNode(config, io, logger);
    await node.open();
    return node;
  }

  get clientPort(): number {
    return this.port.port;
  }

  /** The TLS client port as bound; undefined when none is configured. */
  get securePort(): number | undefined {
    return this.port.securePort;
  }

  get connectString(): string {
    return `${this.config.host}:${this.clientPort}`;
  }

  get lastZxid(): bigint {
    return this.state.lastProcessedZxid;
  }

  /** The write path (the replicated one exposes the consensus core and leases, for tests and admin). */
  get writePath(): WritePath {
    return this.writes;
  }

  private async open(): Promise<void> {
    const { clock } = this.io;
    const storageLog = {
      warn: (m: string, meta?: object) => this.logger.warn(m, meta),
      info: (m: string, meta?: object) => this.logger.info(m, meta),
    };
    this.dataDir = await DataDir.open(this.config.dataDir, {
      logger: storageLog,
      fs: this.io.fs,
      ...(this.io.lock ? { lock: this.io.lock } : {}),
      log: {
        fsync: this.config.fsync,
        fsyncWarningThresholdMs: this.config.fsyncWarningThresholdMs,
        maxRecordBytes: this.config.maxFrameBytes + 4096,
        maxPendingBytes: this.config.maxPendingLogBytes,
      },
    });
    try {
      this.secret = await this.dataDir.sessionSecret();
      const options = {
        extendedTypesEnabled: this.config.extendedTypesEnabled,
        maxDataBytes: this.config.maxFrameBytes,
        aclProviders: { sasl: this.config.saslUsers !== undefined },
      };
      const loadStartMs = clock.monoMs();
      // The snapshot streams into the tree as it is read: never held whole, read behind the parse.
      const recovered = await this.dataDir.recover(() => new SnapshotLoader(options, { prefault: true }));
      this.txnLog = recovered.log;
      this.state = recovered.snapshot?.payload ?? new ZkState(options);
      this.logger.info('snapshot loaded', { snapshotZxid: `0x${(recovered.snapshot?.zxid ?? 0n).toString(16)}`, logRecords: recovered.records.length, ms: Math.round(clock.monoMs() - loadStartMs) });
      const services = this.services();
      this.snapshots = new SnapshotPolicy({
        snapCount: this.config.snapCount,
        snapRetain: this.config.snapRetain,
        dataDir: this.dataDir,
        clock,
        logger: this.logger,
        state: () => this.state,
        written: (zxid) => {
          if (this.writes instanceof ReplicatedWritePath) this.writes.snapshotWritten(zxid);
        },
      });
      if (this.config.cluster) {
        // In a cluster the log after the snapshot is replayed by the consensus core, which
        // re-commits each entry only once it knows the entry is committed.
        this.writes = await ReplicatedWritePath.start({
          server: this.config,
          cluster: this.config.cluster,
          io: this.io,
          dataDir: this.dataDir,
          recovered,
          node: services,
          snapshots: this.snapshots,
        });
      } else {
        this.replay(recovered.records);
        const applied = this.state.lastProcessedZxid;
        const logged = recovered.log.lastZxid;
        this.writes = new LocalWritePath(services, recovered.log, (applied > logged ? applied : logged) + 1n);
        // Sessions restart their clocks at recovery, as in ZooKeeper: clients get a full timeout to come back.
        this.becameLeader();
      }
      this.port = new ClientPort(
        {
          host: this.config.host,
          port: this.config.port,
          maxClientConnections: this.config.maxClientConnections,
          ...(this.config.secureClientPort !== undefined && this.config.clientTls ? { secure: { port: this.config.secureClientPort, material: this.config.clientTls } } : {}),
          maxFrameBytes: this.config.maxFrameBytes,
          maxOutstanding: this.config.maxOutstandingPerConnection,
          maxQueuedBytes: this.config.maxQueuedBytesPerConnection,
          globalOutstandingLimit: this.config.globalOutstandingLimit,
          maxQueuedBytesTotal: this.config.maxQueuedBytesTotal,
        },
        {
          fourLetter: (c, w) => fourLetterWord(this, c, w),
          connect: (c, r) => this.onConnect(c, r),
          request: (c, r) => this.onRequest(c, r),
          closed: (c) => this.onClosed(c),
          sent: (_conn, bytes, kind) => {
            this.counters.packetsSent++;
            if (kind === 'response') recordResponseSize(this.counters, bytes);
          },
          mayReply: () => this.writes.mayReply(),
        },
        this.io,
        this.logger,
      );
      await this.port.listen();
    } catch (e) {
      await this.writes?.stop().catch(() => undefined);
      await this.dataDir.close().catch(() => undefined);
      throw e;
    }
    this.timers.push(clock.every(Math.min(this.config.tickMs, EXPIRY_CHECK_MS), () => this.expireSessions()));
    this.timers.push(clock.every(this.config.containerCheckIntervalMs, () => this.reapContainers()));
    this.timers.push(clock.every(this.config.tickMs, () => this.touchHeldSessions()));
    this.logger.info('serving', { address: this.connectString, ...(this.securePort === undefined ? {} : { tlsAddress: `${this.config.host}:${this.securePort}` }), dataDir: this.config.dataDir });
  }

  /** Standalone recovery: apply the log after the snapshot, saying how far along a large one is. */
  private replay(records: ReadonlyArray<{ payload: Buffer }>): void {
    const startMs = this.io.clock.monoMs();
    const total = records.length;
    const every = Math.max(50_000, Math.ceil(total / 10));
    records.forEach((record, i) => {
      this.state.apply(decodeTxn(record.payload));
      if ((i + 1) % every === 0 && i + 1 < total) this.logger.info('replaying the transaction log', { done: i + 1, total, percent: Math.round(((i + 1) * 100) / total) });
    });
    if (total > 0) this.logger.info('recovered', { dataDir: this.config.dataDir, txns: total, lastZxid: this.state.lastProcessedZxid, replayMs: Math.round(this.io.clock.monoMs() - startMs) });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    await this.port.close();
    await this.writes.stop();
    await this.dataDir.close();
  }

  /** What the write path may call back into. */
  private services(): NodeServices {
    return {
      clock: this.io.clock,
      logger: this.logger,
      tracker: this.tracker,
      serverId: this.config.cluster?.id ?? this.config.serverId,
      state: () => this.state,
      replaceState: (next) => {
        this.state = next;
      },
      applied: (r) => this.applied(r),
      dropClients: () => {
        for (const c of this.port?.connections ?? []) c.close();
      },
      leaseRenewed: () => this.port?.flushHeld(),
      becameLeader: () => this.becameLeader(),
      sessionMovedAway: (id) => this.bySession.get(id)?.close(),
      idleHere: (id, timeoutMs) => this.idleHere(id, timeoutMs),
      pushBack: (source, on) => this.port?.pushBack(source, on),
      fatal: (e) => this.fatal(e),
      sessionSecret: () => this.secret,
      adoptSessionSecret: async (secret) => {
        await this.dataDir.writeSessionSecret(secret);
        this.secret = secret;
        this.logger.info('took the leader\'s session secret', { file: `${this.config.dataDir}/session-secret` });
      },
    };
  }

  /** Standalone start: every recovered session gets a full timeout from now. */
  private becameLeader(): void {
    if (this.config.cluster) return; // the relay holds sessions for a new cluster leader
    const now = this.tracker.now();
    for (const [id, info] of this.state.sessions) this.tracker.add(id, info.timeoutMs, now);
  }

  /** Calls `fn` with every txn this server applies from now on, in order. */
  onApplied(fn: (r: ApplyResult) => void): void {
    this.applyListeners.push(fn);
  }

  /** Runs for every applied txn, whichever server it came from. */
  private applied(result: ApplyResult): void {
    this.counters.writes++;
    for (const fn of this.applyListeners) fn(result);
    this.deliver(result.triggers);
    if (result.err === 0 && result.type === OpCode.createSession) {
      this.tracker.add(result.sessionId, this.state.sessions.get(result.sessionId)?.timeoutMs ?? this.config.minSessionTimeoutMs, this.tracker.now());
    } else if (result.type === OpCode.closeSession) {
      this.tracker.remove(result.sessionId);
      this.lastActive.delete(result.sessionId);
      const conn = this.bySession.get(result.sessionId);
      if (conn) this.io.clock.soon(() => conn.close());
    }
    if (!this.config.cluster) this.snapshots.applied();
  }

  private fatal(e: Error): void {
    this.logger.error('storage failure; stopping the server so nothing unsafe is acknowledged', { error: e.message });
    void this.stop().finally(() => this.io.exit?.(1));
  }

  // ---- sessions --------------------------------------------------------------------------

  private onConnect(conn: ClientConnection, req: ConnectRequest): void {
    this.counters.packetsReceived++;
    if (req.lastZxidSeen > this.state.lastProcessedZxid) {
      // The client has seen a newer state than ours (it talked to a server ahead of us).
      this.logger.info('refusing a client that has seen a newer zxid', { client: conn.address, clientZxid: req.lastZxidSeen, ours: this.state.lastProcessedZxid });
      conn.close();
      return;
    }
    if (!this.writes.serving) {
      conn.close(); // no synced leader: the client tries another server
      return;
    }
    const timeoutMs = negotiateTimeout(this.config, req.timeOut);
    const readOnly = req.readOnly;
    const respond = (sessionId: bigint, timeOut: number) =>
      conn.established(encodeConnectResponse({ protocolVersion: 0, timeOut, sessionId, passwd: sessionId === 0n ? Buffer.alloc(16) : sessionPassword(this.secret, sessionId), ...(readOnly === undefined ? {} : { readOnly: false }) }));
    if (req.sessionId !== 0n) {
      const expired = () => {
        // ZooKeeper's answer to an expired or unknown session: timeout 0, id 0.
        respond(0n, 0);
        conn.close();
      };
      if (req.passwd === null || !passwordMatches(this.secret, req.sessionId, req.passwd)) {
        this.logger.warn('refused a reconnect with a wrong session password', { client: conn.address, session: `0x${req.sessionId.toString(16)}` });
        return expired();
      }
      // The leader decides (and, in a cluster, makes this server the session's owner).
      this.writes.revalidate(req.sessionId, timeoutMs, (live) => {
        if (conn.closed) return;
        if (!live) return expired();
        this.attach(conn, req.sessionId, timeoutMs);
        respond(req.sessionId, timeoutMs);
      });
      return;
    }
    const sessionId = this.tracker.newSessionId();
    this.submitWrite(conn, sessionId, 0, { op: OpCode.createSession, timeoutMs }, (result) => {
      if (conn.closed) return;
      if (result.err !== 0) {
        conn.close();
        return;
      }
      this.attach(conn, sessionId, timeoutMs);
      respond(sessionId, timeoutMs);
    });
  }

  private attach(conn: ClientConnection, sessionId: bigint, timeoutMs: number): void {
    const previous = this.bySession.get(sessionId);
    if (previous && previous !== conn) previous.close(); // the session moved to this connection
    conn.sessionId = sessionId;
    conn.sessionTimeoutMs = timeoutMs;
    this.bySession.set(sessionId, conn);
    this.byWatcher.set(conn.id, conn);
    this.active(sessionId);
  }

  /** A request (or connect) of this session reached us. */
  private active(sessionId: bigint): void {
    const now = this.tracker.now();
    this.lastActive.set(sessionId, now);
    // Activity anywhere keeps a session alive, whoever the leader believes owns it.
    if (this.writes.expiresSessions) this.tracker.touch(sessionId, now);
    this.writes.touched(sessionId);
  }

  /** Backpressure must not cost a session: one whose requests this server is not reading (for its
   * own load, not the client's) is touched every tick, as its unread pings would have. */
  private touchHeldSessions(): void {
    for (const c of this.port.connections) if (c.heldByServer) this.active(c.sessionId!);
  }

  private onClosed(conn: ClientConnection): void {
    this.byWatcher.delete(conn.id);
    this.state.removeWatcher(conn.id);
    if (conn.sessionId !== undefined && this.bySession.get(conn.sessionId) === conn) this.bySession.delete(conn.sessionId);
  }

  private sessionLive(id: bigint): boolean {
    return this.state.sessionExists(id) && !this.state.sessionIsClosing(id);
  }

  /**
   * Owner side of expiry: how long the session has been idle here. One idle for its whole
   * timeout is cut at once, so nothing more reaches its client from here before the leader
   * expires it.
   */
  private idleHere(sessionId: bigint, timeoutMs: number): number {
    const last = this.lastActive.get(sessionId);
    const idle = last === undefined ? Infinity : this.tracker.now() - last;
    if (idle >= timeoutMs) {
      this.bySession.get(sessionId)?.close();
      this.lastActive.delete(sessionId);
    }
    return idle;
  }

  private expireSessions(): void {
    if (!this.writes.expiresSessions || !this.writes.mayReply()) return;
    const me = this.services().serverId;
    const now = this.tracker.now();
    for (const id of this.tracker.due(now)) {
      const owner = this.tracker.ownerOf(id);
      if (owner === undefined || owner === me) {
        this.expire(id);
        continue;
      }
      if (this.asking.has(id)) continue;
      this.asking.add(id);
      this.writes.askOwner(owner, id, (answer) => {
        this.asking.delete(id);
        // The session may have been touched or moved while we asked: only a still-due session
        // of the same owner is expired on this answer.
        if (answer === 'retry' || this.tracker.ownerOf(id) !== owner) return;
        const t = this.tracker.now();
        if ('unreachable' in answer) {
          // The owner answers nobody after its last lease: hold until then, then no one owns it.
          this.tracker.touch(id, answer.holdUntilMono);
          this.tracker.setOwner(id, undefined);
        } else if ((this.tracker.deadlineOf(id) ?? Infinity) <= t && answer.idleMs >= (this.tracker.timeoutOf(id) ?? Infinity)) {
          this.expire(id);
        } else {
          this.tracker.touch(id, t - answer.idleMs);
        }
      });
    }
  }

  private expire(id: bigint): void {
    this.logger.info('session expired', { session: `0x${id.toString(16)}` });
    this.closeSession(id);
  }

  private closeSession(id: bigint, reply?: { conn: ClientConnection; xid: number; startedAtMono: number }): void {
    this.tracker.setClosing(id);
    this.submitWrite(reply?.conn, id, reply?.xid ?? 0, { op: OpCode.closeSession }, (result) => {
      if (reply) reply.conn.reply(encodeReply({ xid: reply.xid, zxid: result.zxid, err: result.err }), reply.startedAtMono);
      const conn = this.bySession.get(id);
      if (conn) conn.close();
      reply?.conn.close();
    });
  }

  private reapContainers(): void {
    if (!this.writes.expiresSessions || !this.writes.mayReply()) return;
    for (const path of this.state.expiredContainersAndTtls(BigInt(this.io.clock.wallMs()))) {
      // Each of the server's own requests needs a cxid of its own: replies are matched by
      // (session, cxid), and a shared key would hand one reaper request another's result.
      this.submitWrite(undefined, 0n, --this.internalCxid, { op: OpCode.deleteContainer, path }, () => undefined);
    }
  }

  // ---- requests --------------------------------------------------------------------------

  private submitWrite(conn: ClientConnection | undefined, sessionId: bigint, cxid: number, request: WriteRequest, done: (r: ApplyResult) => void): void {
    // A write this server cannot get proposed costs its client the connection (it retries elsewhere).
    this.writes.submit({ sessionId, cxid, authIds: conn?.authIds ?? [], internal: conn === undefined }, request, done, () => conn?.close());
  }

  private deliver(triggers: readonly WatchTrigger[]): void {
    for (const trigger of triggers) {
      for (const id of trigger.watcherIds) {
        const conn = this.byWatcher.get(id);
        if (!conn || !mayDeliver(trigger, conn.authIds)) continue;
        conn.notify(encodeWatcherEvent(NOTIFICATION_ZXID, { type: trigger.event.type, state: trigger.event.state, path: trigger.event.path }));
      }
    }
  }

  private onRequest(conn: ClientConnection, req: Request): void {
    const sessionId = conn.sessionId;
    this.counters.packetsReceived++;
    if (sessionId === undefined) {
      conn.close(); // a request before the session was established
      return;
    }
    this.active(sessionId);
    if (!this.sessionLive(sessionId) && req.kind !== 'closeSession') {
      // The session is closing (or gone). ZooKeeper answers SESSIONEXPIRED in order, i.e. after
      // the pending closeSession, whose completion has already closed this connection: a
      // request pipelined behind a closeSession is never answered, and the closeSession reply
      // is not lost.
      this.writes.after(sessionId, () => {
        if (conn.closed) return;
        conn.replyError(req.xid, this.state.lastProcessedZxid, ErrorCode.SESSIONEXPIRED);
        conn.close();
      });
      return;
    }
    const startedAtMono = this.io.clock.monoMs();
    this.counters.requests++;
    if (req.kind === 'ping') {
      this.writes.after(sessionId, () => conn.reply(encodeReply({ xid: req.xid, zxid: this.state.lastProcessedZxid, err: 0 }), startedAtMono, true));
      return;
    }
    if (req.kind === 'closeSession') {
      this.closeSession(sessionId, { conn, xid: req.xid, startedAtMono });
      return;
    }
    const refused = refusedBeforePrep(req);
    if (refused !== undefined) {
      // Answered in order, like a read, and nothing is logged.
      this.writes.after(sessionId, () => {
        if (!conn.closed) conn.replyError(req.xid, this.state.lastProcessedZxid, refused, startedAtMono);
      });
      return;
    }
    const write = toWriteRequest(req);
    if (write) {
      this.submitWrite(conn, sessionId, req.xid, write, (result) => {
        conn.lastZxid = result.zxid;
        conn.reply(writeReply(req.kind, req.xid, result, multiMarshallingErrorIndex(req)), startedAtMono);
        this.recordLatency(startedAtMono, req.kind);
      });
      return;
    }
    // sync must catch up with the leader first; other reads only with this session's own writes.
    const order = req.kind === 'sync' ? this.writes.sync.bind(this.writes) : this.writes.after.bind(this.writes);
    order(sessionId, () => {
      if (conn.closed) return;
      const frame = answerRead(this.readContext(), conn, sessionId, req);
      // No frame: ZooKeeper drops the connection without an answer (e.g. a null SASL token).
      if (frame === undefined) return conn.close();
      conn.reply(frame, startedAtMono);
      this.recordLatency(startedAtMono, req.kind);
    });
  }

  private readContext(): ReadContext {
    return {
      state: this.state,
      superDigest: this.config.superDigest,
      reconfigEnabled: this.config.reconfigEnabled,
      saslUsers: this.config.saslUsers,
      nonce: () => randomBytes(24).toString('base64'),
      authFailed: (c, reason) => this.authFailed(c, reason),
      deliver: (t) => this.deliver(t),
      closeSoon: (c) => this.io.clock.soon(() => c.close()),
    };
  }

  /**
   * Every refused authentication ends here (auth_failed_count): addAuth with an unknown scheme
   * or credentials its provider rejects, a failed SASL login; client certificates report here too.
   */
  authFailed(conn: ClientConnection, reason: string): void {
    this.counters.authFailed++;
    this.logger.warn('authentication failed; closing the connection', { client: conn.address, session: conn.sessionId === undefined ? undefined : `0x${conn.sessionId.toString(16)}`, reason });
  }

  private recordLatency(startedAtMono: number, op: string): void {
    const ms = Math.round(this.io.clock.monoMs() - startedAtMono);
    this.requestMetrics.record(op, ms);
    const c = this.counters;
    c.minLatencyMs = Math.min(c.minLatencyMs, ms);
    c.maxLatencyMs = Math.max(c.maxLatencyMs, ms);
    c.totalLatencyMs += ms;
    c.latencyCount++;
  }

  // ---- snapshots -------------------------------------------------------------------------

  /** Writes a snapshot of the applied state now and drops what is no longer needed. */
  snapshot(): Promise<void> {
    return this.snapshots.take();
  }

  get snapshotCount(): number {
    return this.snapshots.count;
  }

  // ---- ServerView (four-letter words, admin) -----------------------------------------------

  connections(): ClientConnection[] {
    return [...this.port.connections];
  }
  stateView(): ZkState {
    return this.state;
  }
  sessionCount(): number {
    return this.writes.expiresSessions ? this.tracker.size : this.state.sessions.size;
  }
  sessionsWithEphemerals(): Map<bigint, string[]> {
    const out = new Map<bigint, string[]>();
    for (const id of this.state.sessions.keys()) out.set(id, this.state.ephemeralsOf(id));
    return out;
  }
  outstandingRequests(): number {
    return this.writes.depth;
  }
  txnLogStats(): TxnLogStats | undefined {
    return this.txnLog?.stats();
  }
  /** What backpressure measures now (and the highest since start): for mntr and /metrics. */
  backpressure(): BackpressureFigures {
    const load = this.port.figures();
    const proposals = this.writes.proposals?.() ?? { uncommitted: 0, peakUncommitted: 0, deferred: 0, deferredTotal: 0 };
    return {
      ...load,
      pendingLogBytes: this.txnLog?.pendingByteCount ?? 0,
      peakPendingLogBytes: this.txnLog?.peakPendingByteCount ?? 0,
      uncommittedProposals: proposals.uncommitted,
      peakUncommittedProposals: proposals.peakUncommitted,
      deferredWrites: proposals.deferred,
      deferredWritesTotal: proposals.deferredTotal,
    };
  }
  /** When each session expires unless touched, as wall-clock ms (for `dump`). */
  sessionExpiries(): Array<[bigint, number]> {
    const offset = this.io.clock.wallMs() - this.io.clock.monoMs();
    const out: Array<[bigint, number]> = [];
    for (const id of this.tracker.ids()) out.push([id, Math.round((this.tracker.deadlineOf(id) ?? 0) + offset)]);
    return out;
  }
  /** For the admin server and mntr (lead, zabstate, learners, role metrics) on a cluster node. */
  quorumState(): (QuorumState & { role: 'leader' | 'follower' | 'looking'; epoch: number }) | undefined {
    if (!(this.writes instanceof ReplicatedWritePath)) return undefined;
    return this.writes.quorumState(this.state.lastProcessedZxid);
  }

  monoMs(): number {
    return this.io.clock.monoMs();
  }

  mode(): NodeMode {
    return this.writes.mode();
  }
}
