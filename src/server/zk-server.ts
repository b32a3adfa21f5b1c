/**
 * A standalone ZooKeeper-compatible server: the client port, sessions, the request
 * pipeline and durable storage around the pure state machine in ./tree.
 *
 * Request flow: a write is prepped (against pending changes), logged, fsynced with its
 * batch, applied, and only then answered; a read is answered from the applied state once
 * every earlier write of its session has been applied.
 */
import { AddWatchMode, ErrorCode, EventType, KeeperState, OpCode, WatcherType } from '../protocol/constants.js';
import type { ConnectRequest, Id } from '../protocol/records.js';
import type { Request } from '../protocol/requests.js';
import { encodeConnectResponse, encodeMultiReadResponse, encodeReply, encodeWatcherEvent } from '../protocol/responses.js';
import { silentLogger, type Logger } from '../log.js';
import { AdminServer } from './admin/admin-server.js';
import { RequestMetrics } from './admin/request-metrics.js';
import { negotiateTimeout, type ServerConfig } from './config.js';
import { ClientPort } from './net/client-port.js';
import type { ClientConnection } from './net/client-connection.js';
import { fourLetterWord, type ServerView } from './four-letter.js';
import { Pipeline } from './pipeline.js';
import { LocalWritePath, type WritePath } from './write-path.js';
import { ReplicatedWritePath } from './cluster/replicated-write-path.js';
import { launcherControl, peerViewProvider } from './cluster/peer-view.js';
import { multiMarshallingErrorIndex, toWriteRequest, writeReply } from './requests.js';
import { SessionTracker, sessionPassword } from './session-tracker.js';
import { DataDir } from './storage/data-dir.js';
import type { TxnLog, TxnLogStats } from './storage/txn-log.js';
import { addAuthIds, authenticate, mayDeliver } from './tree/acl.js';
import { javaStringHash } from './tree/java-hash-set.js';
import { deserializeState, serializeState } from './tree/snapshot-codec.js';
import { ZkState } from './tree/state.js';
import { decodeTxn, encodeTxn } from './tree/txn-codec.js';
import type { ApplyResult, WatchTrigger, WriteRequest } from './tree/types.js';

const NOTIFICATION_ZXID = -1n;

/**
 * The iteration order of a connection's authInfo in ZooKeeper 3.8: a ConcurrentHashMap-backed
 * set of Id. It shows in whoAmI and in how an "auth" ACL expands (fixupACL walks authInfo).
 * Id.hashCode() is 37 * (37 * 17 + scheme.hashCode()) + id.hashCode(); the map spreads it
 * (h ^ h >>> 16) and keeps insertion order within a bin; its table starts at 16 bins and
 * doubles once it holds 3/4 of that (intra-bin order after such a resize is not modelled).
 */
function authInfoOrder(ids: readonly Id[]): Id[] {
  let bins = 16;
  while (ids.length >= bins - (bins >>> 2)) bins *= 2;
  const binOf = (id: Id) => {
    const h = (Math.imul(37, (Math.imul(37, 17) + javaStringHash(id.scheme)) | 0) + javaStringHash(id.id)) | 0;
    return ((h ^ (h >>> 16)) & 0x7fffffff) & (bins - 1);
  };
  return ids
    .map((id, i) => ({ id, i, bin: binOf(id) }))
    .sort((a, b) => a.bin - b.bin || a.i - b.i)
    .map(({ id }) => id);
}

/** AuthUtil.getUser for whoAmI: the provider's user name; "" for a scheme without one (super). */
function userName(id: Id): string {
  if (id.scheme === 'digest') return id.id.split(':')[0] ?? '';
  return id.scheme === 'ip' ? id.id : '';
}

const isWatcherType = (t: number): boolean => t === WatcherType.Children || t === WatcherType.Data || t === WatcherType.Any;

export class ZkServer implements ServerView {
  readonly startedAtMs = Date.now();
  private state!: ZkState;
  private dataDir!: DataDir;
  private writes!: WritePath;
  private appliedSinceSnapshot = 0;
  private port!: ClientPort;
  private tracker!: SessionTracker;
  private readonly bySession = new Map<bigint, ClientConnection>();
  private readonly byWatcher = new Map<number, ClientConnection>();
  private timers: NodeJS.Timeout[] = [];
  private snapshotting = false;
  private stopped = false;
  private admin: AdminServer | undefined;
  private txnLog: TxnLog | undefined;
  /** Request counts and latencies per op, for the admin server's /metrics. */
  readonly requestMetrics = new RequestMetrics();
  readonly counters = { packetsReceived: 0, packetsSent: 0, requests: 0, writes: 0, snapshots: 0, minLatencyMs: Infinity, maxLatencyMs: 0, totalLatencyMs: 0, latencyCount: 0 };

  private constructor(
    readonly config: ServerConfig,
    readonly logger: Logger,
  ) {}

  static async start(config: ServerConfig, logger: Logger = silentLogger()): Promise<ZkServer> {
    const server = new ZkServer(config, logger);
    await server.open();
    return server;
  }

  get clientPort(): number {
    return this.port.port;
  }

  get connectString(): string {
    return `${this.config.host}:${this.clientPort}`;
  }

  get lastZxid(): bigint {
    return this.state.lastProcessedZxid;
  }

  private async open(): Promise<void> {
    const storageLog = {
      warn: (m: string, meta?: object) => this.logger.warn(m, meta),
      info: (m: string, meta?: object) => this.logger.info(m, meta),
    };
    this.dataDir = await DataDir.open(this.config.dataDir, { logger: storageLog, log: { fsync: this.config.fsync, maxRecordBytes: this.config.maxFrameBytes + 4096 } });
    try {
      const recovered = await this.dataDir.recover();
      this.txnLog = recovered.log;
      const options = { extendedTypesEnabled: this.config.extendedTypesEnabled, maxDataBytes: this.config.maxFrameBytes };
      this.state = recovered.snapshot ? deserializeState(recovered.snapshot.payload, options) : new ZkState(options);
      const hooks = { applied: (r: ApplyResult) => this.applied(r) };
      if (this.config.cluster) {
        // In a cluster the log after the snapshot is replayed by the consensus core, which
        // re-commits each entry only once it knows the entry is committed.
        this.writes = await ReplicatedWritePath.start({
          server: this.config,
          cluster: this.config.cluster,
          dataDir: this.dataDir,
          recovered,
          state: () => this.state,
          replaceState: (next) => {
            this.state = next;
          },
          hooks,
          dropClients: () => this.dropClients(),
          becameLeader: () => this.touchAllSessions(),
          touchRemote: (ids) => ids.forEach((id) => this.tracker.touch(id, Date.now())),
          logger: this.logger,
          fatal: (e) => this.fatal(e),
        });
      } else {
        // Replaying a large log takes a while: say how far along it is.
        const total = recovered.records.length;
        const every = Math.max(50_000, Math.ceil(total / 10));
        recovered.records.forEach((record, i) => {
          this.state.apply(decodeTxn(record.payload));
          if ((i + 1) % every === 0 && i + 1 < total) this.logger.info('replaying the transaction log', { done: i + 1, total, percent: Math.round(((i + 1) * 100) / total) });
        });
        const applied = this.state.lastProcessedZxid;
        const logged = recovered.log.lastZxid;
        if (recovered.snapshot || recovered.records.length > 0) {
          this.logger.info('recovered', { dataDir: this.config.dataDir, snapshotZxid: recovered.snapshot?.zxid, txns: recovered.records.length, lastZxid: applied });
        }
        const pipeline = new Pipeline(recovered.log, encodeTxn, (txn) => this.state.apply(txn), (e) => this.fatal(e));
        this.writes = new LocalWritePath(() => this.state, pipeline, (applied > logged ? applied : logged) + 1n, hooks);
      }
      // Sessions restart their clocks at recovery, as in ZooKeeper: clients get a full timeout to come back.
      const now = Date.now();
      this.tracker = new SessionTracker(this.config.tickMs, this.config.cluster?.id ?? this.config.serverId, now);
      for (const [id, info] of this.state.sessions) this.tracker.add(id, info.timeoutMs, now);
      this.port = new ClientPort(
        {
          host: this.config.host,
          port: this.config.port,
          maxClientConnections: this.config.maxClientConnections,
          maxFrameBytes: this.config.maxFrameBytes,
          maxOutstanding: this.config.maxOutstandingPerConnection,
          maxQueuedBytes: 64 * 1024 * 1024,
        },
        {
          fourLetter: (c, w) => fourLetterWord(this, c, w),
          connect: (c, r) => this.onConnect(c, r),
          request: (c, r) => this.onRequest(c, r),
          closed: (c) => this.onClosed(c),
          sent: () => {
            this.counters.packetsSent++;
          },
        },
        this.logger,
      );
      await this.port.listen();
      if (this.config.adminPort !== undefined) {
        const cluster = this.config.cluster;
        const admin = {
          host: this.config.adminHost ?? '127.0.0.1',
          port: this.config.adminPort,
          ...(cluster ? { clusterView: peerViewProvider(cluster.config, cluster.id) } : {}),
          ...(cluster?.config.controlUrl ? { control: launcherControl(cluster.config.controlUrl) } : {}),
        };
        this.admin = await AdminServer.start(this, admin, this.logger).catch(async (e: unknown) => {
          await this.port.close();
          throw e;
        });
      }
    } catch (e) {
      await this.dataDir.close().catch(() => undefined);
      throw e;
    }
    this.timers.push(setInterval(() => this.expireSessions(), this.config.tickMs));
    this.timers.push(setInterval(() => this.reapContainers(), this.config.containerCheckIntervalMs));
    for (const t of this.timers) t.unref();
    this.logger.info('serving', { address: this.connectString, dataDir: this.config.dataDir });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.admin?.stop();
    await this.port.close();
    await this.writes.stop();
    await this.dataDir.close();
  }

  /** A cluster node that lost its leader closes its clients; they reconnect elsewhere. */
  private dropClients(): void {
    for (const c of this.port?.connections ?? []) c.close();
  }

  /** A new leader restarts every session's clock: followers' touches never reached it before. */
  private touchAllSessions(): void {
    const now = Date.now();
    for (const [id, info] of this.state.sessions) this.tracker.add(id, info.timeoutMs, now);
  }

  /** Runs for every applied txn, whichever server it came from. */
  private applied(result: ApplyResult): void {
    this.counters.writes++;
    this.deliver(result.triggers);
    if (result.err === 0 && result.type === OpCode.createSession) {
      this.tracker.add(result.sessionId, this.state.sessions.get(result.sessionId)?.timeoutMs ?? this.config.minSessionTimeoutMs, Date.now());
    } else if (result.type === OpCode.closeSession) {
      this.tracker.remove(result.sessionId);
      const conn = this.bySession.get(result.sessionId);
      if (conn) setImmediate(() => conn.close());
    }
    this.appliedSinceSnapshot++;
    this.maybeSnapshot();
  }

  private fatal(e: Error): void {
    this.logger.error('storage failure; stopping the server so nothing unsafe is acknowledged', { error: e.message });
    void this.stop().finally(() => process.exit(1));
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
    if (req.sessionId !== 0n) {
      const valid = this.sessionLive(req.sessionId) && sessionPassword(req.sessionId).equals(req.passwd);
      if (!valid) {
        // ZooKeeper's answer to an expired or unknown session: timeout 0, id 0.
        conn.send(encodeConnectResponse({ protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16), ...(readOnly === undefined ? {} : { readOnly: false }) }));
        conn.close();
        return;
      }
      // Like ZooKeeper's revalidateSession, the timeout negotiated on THIS connect applies from
      // now on (touchSession with the connection's timeout), not the one the session began with.
      this.tracker.add(req.sessionId, timeoutMs, Date.now());
      this.attach(conn, req.sessionId, timeoutMs);
      conn.send(encodeConnectResponse({ protocolVersion: 0, timeOut: conn.sessionTimeoutMs, sessionId: req.sessionId, passwd: sessionPassword(req.sessionId), ...(readOnly === undefined ? {} : { readOnly: false }) }));
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
      conn.send(encodeConnectResponse({ protocolVersion: 0, timeOut: timeoutMs, sessionId, passwd: sessionPassword(sessionId), ...(readOnly === undefined ? {} : { readOnly: false }) }));
    });
  }

  private attach(conn: ClientConnection, sessionId: bigint, timeoutMs: number): void {
    const previous = this.bySession.get(sessionId);
    if (previous && previous !== conn) previous.close(); // the session moved to this connection
    conn.sessionId = sessionId;
    conn.sessionTimeoutMs = timeoutMs;
    this.bySession.set(sessionId, conn);
    this.byWatcher.set(conn.id, conn);
    this.tracker.touch(sessionId, Date.now());
  }

  private onClosed(conn: ClientConnection): void {
    this.byWatcher.delete(conn.id);
    this.state.removeWatcher(conn.id);
    if (conn.sessionId !== undefined && this.bySession.get(conn.sessionId) === conn) this.bySession.delete(conn.sessionId);
  }

  private sessionLive(id: bigint): boolean {
    return this.state.sessionExists(id) && !this.state.sessionIsClosing(id);
  }

  private expireSessions(): void {
    if (!this.writes.expiresSessions) return;
    for (const id of this.tracker.expired(Date.now())) {
      this.logger.info('session expired', { session: `0x${id.toString(16)}` });
      this.closeSession(id);
    }
  }

  private closeSession(id: bigint, reply?: { conn: ClientConnection; xid: number; startedAtMs: number }): void {
    this.tracker.setClosing(id);
    this.submitWrite(reply?.conn, id, reply?.xid ?? 0, { op: OpCode.closeSession }, (result) => {
      if (reply) reply.conn.reply(encodeReply({ xid: reply.xid, zxid: result.zxid, err: result.err }), reply.startedAtMs);
      const conn = this.bySession.get(id);
      if (conn) conn.close();
      reply?.conn.close();
    });
  }

  private reapContainers(): void {
    if (!this.writes.expiresSessions) return;
    for (const path of this.state.expiredContainersAndTtls(BigInt(Date.now()))) {
      this.submitWrite(undefined, 0n, 0, { op: OpCode.deleteContainer, path }, () => undefined);
    }
  }

  // ---- requests --------------------------------------------------------------------------

  private submitWrite(conn: ClientConnection | undefined, sessionId: bigint, cxid: number, request: WriteRequest, done: (r: ApplyResult) => void): void {
    this.writes.submit({ sessionId, cxid, authIds: conn?.authIds ?? [] }, request, done);
  }

  private deliver(triggers: readonly WatchTrigger[]): void {
    for (const trigger of triggers) {
      for (const id of trigger.watcherIds) {
        const conn = this.byWatcher.get(id);
        if (!conn || !mayDeliver(trigger, conn.authIds)) continue;
        conn.send(encodeWatcherEvent(NOTIFICATION_ZXID, { type: trigger.event.type, state: trigger.event.state, path: trigger.event.path }));
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
    this.tracker.touch(sessionId, Date.now());
    this.writes.touched(sessionId);
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
    const startedAtMs = Date.now();
    this.counters.requests++;
    if (req.kind === 'ping') {
      this.writes.after(sessionId, () => conn.send(encodeReply({ xid: req.xid, zxid: this.state.lastProcessedZxid, err: 0 })));
      return;
    }
    if (req.kind === 'closeSession') {
      this.closeSession(sessionId, { conn, xid: req.xid, startedAtMs });
      return;
    }
    const write = toWriteRequest(req);
    if (write) {
      this.submitWrite(conn, sessionId, req.xid, write, (result) => {
        conn.lastZxid = result.zxid;
        conn.reply(writeReply(req.kind, req.xid, result, multiMarshallingErrorIndex(req)), startedAtMs);
        this.recordLatency(startedAtMs, req.kind);
      });
      return;
    }
    // sync must catch up with the leader first; other reads only with this session's own writes.
    const order = req.kind === 'sync' ? this.writes.sync.bind(this.writes) : this.writes.after.bind(this.writes);
    order(sessionId, () => {
      if (conn.closed) return;
      conn.reply(this.read(conn, sessionId, req), startedAtMs);
      this.recordLatency(startedAtMs, req.kind);
    });
  }

  private recordLatency(startedAtMs: number, op: string): void {
    const ms = Date.now() - startedAtMs;
    this.requestMetrics.record(op, ms);
    const c = this.counters;
    c.minLatencyMs = Math.min(c.minLatencyMs, ms);
    c.maxLatencyMs = Math.max(c.maxLatencyMs, ms);
    c.totalLatencyMs += ms;
    c.latencyCount++;
  }

  /** Answers a request that changes nothing durable. */
  private read(conn: ClientConnection, sessionId: bigint, req: Request): Buffer {
    const zxid = this.state.lastProcessedZxid;
    const header = (err = 0) => ({ xid: req.xid, zxid, err });
    const fail = (err: number) => encodeReply(header(err));
    const auth = conn.authIds;
    const watcher = (watch: boolean) => (watch ? conn.id : undefined);
    switch (req.kind) {
      case 'exists': {
        const r = this.state.exists(req.body.path, { authIds: auth, watcherId: watcher(req.body.watch) });
        return r.ok ? encodeReply(header(), { kind: 'exists', body: { stat: r.stat } }) : fail(r.err);
      }
      case 'getData': {
        const r = this.state.getData(req.body.path, { authIds: auth, watcherId: watcher(req.body.watch) });
        return r.ok ? encodeReply(header(), { kind: 'getData', body: { data: r.data, stat: r.stat } }) : fail(r.err);
      }
      case 'getChildren': {
        const r = this.state.getChildren(req.body.path, { authIds: auth, watcherId: watcher(req.body.watch) });
        return r.ok ? encodeReply(header(), { kind: 'getChildren', body: { children: r.children } }) : fail(r.err);
      }
      case 'getChildren2': {
        const r = this.state.getChildren2(req.body.path, { authIds: auth, watcherId: watcher(req.body.watch) });
        return r.ok ? encodeReply(header(), { kind: 'getChildren2', body: { children: r.children, stat: r.stat } }) : fail(r.err);
      }
      case 'getACL': {
        const r = this.state.getACL(req.body.path, auth);
        return r.ok ? encodeReply(header(), { kind: 'getACL', body: { acl: r.acl, stat: r.stat } }) : fail(r.err);
      }
      case 'getAllChildrenNumber': {
        const r = this.state.getAllChildrenNumber(req.body.path, auth);
        return r.ok ? encodeReply(header(), { kind: 'getAllChildrenNumber', body: { totalNumber: r.count } }) : fail(r.err);
      }
      case 'getEphemerals':
        return encodeReply(header(), { kind: 'getEphemerals', body: { ephemerals: this.state.getEphemerals(sessionId, req.body.prefixPath) } });
      case 'multiRead': {
        const ops = req.body.ops.map((op) => ({ op: op.type, path: op.body.path, watch: op.body.watch }));
        return encodeMultiReadResponse(header(), this.state.multiRead(ops, auth));
      }
      case 'sync':
        return encodeReply(header(), { kind: 'sync', body: { path: req.body.path } });
      case 'whoAmI':
        return encodeReply(header(), { kind: 'whoAmI', body: { clientInfo: auth.map((id) => ({ authScheme: id.scheme, user: userName(id) })) } });
      // ZooKeeper converts the mode/type with WatcherMode.fromZooKeeperMode / WatcherType.fromInt,
      // which throw for unknown values; FinalRequestProcessor answers that MARSHALLINGERROR.
      case 'addWatch':
        if (req.body.mode !== AddWatchMode.PERSISTENT && req.body.mode !== AddWatchMode.PERSISTENT_RECURSIVE) return fail(ErrorCode.MARSHALLINGERROR);
        this.state.addWatch(req.body.path, req.body.mode, conn.id);
        return encodeReply(header(), { kind: 'addWatch', body: { err: 0 } });
      case 'checkWatches':
        if (!isWatcherType(req.body.type)) return fail(ErrorCode.MARSHALLINGERROR);
        return fail(this.state.checkWatches(req.body.path, req.body.type, conn.id));
      case 'removeWatches':
        if (!isWatcherType(req.body.type)) return fail(ErrorCode.MARSHALLINGERROR);
        return fail(this.state.removeWatches(req.body.path, req.body.type, conn.id));
      case 'setWatches':
      case 'setWatches2': {
        const lists = req.body;
        const triggers = this.state.setWatches(lists.relativeZxid, lists, conn.id);
        this.deliver(triggers);
        return encodeReply(header());
      }
      case 'auth': {
        const r = authenticate(req.body.scheme, req.body.auth, conn.remoteAddress, this.config.superDigest);
        // ZooKeeperServer.processPacket answers auth with zxid 0, not the last processed zxid.
        if (!r.ok) {
          // ZooKeeper answers AUTHFAILED and then closes the connection.
          setImmediate(() => conn.close());
          return encodeReply({ xid: req.xid, zxid: 0n, err: ErrorCode.AUTHFAILED });
        }
        conn.authIds = authInfoOrder(addAuthIds(conn.authIds, r.ids));
        return encodeReply({ xid: req.xid, zxid: 0n, err: 0 });
      }
      case 'reconfig':
        return fail(ErrorCode.RECONFIGDISABLED);
      default:
        return fail(ErrorCode.UNIMPLEMENTED);
    }
  }

  // ---- snapshots -------------------------------------------------------------------------

  private maybeSnapshot(): void {
    if (this.snapshotting || this.config.cluster || this.appliedSinceSnapshot < this.config.snapCount) return;
    void this.snapshot();
  }

  /** Writes a snapshot of the applied state and drops what is no longer needed. */
  async snapshot(): Promise<void> {
    if (this.snapshotting) return;
    this.snapshotting = true;
    this.appliedSinceSnapshot = 0;
    try {
      const zxid = this.state.lastProcessedZxid;
      const payload = serializeState(this.state);
      const file = await this.dataDir.writeSnapshot(zxid, payload);
      this.counters.snapshots++;
      const purged = await this.dataDir.purge(this.config.snapRetain);
      this.logger.info('snapshot written', { file, zxid, bytes: payload.length, ...purged });
    } catch (e) {
      this.logger.error('snapshot failed (the log still holds everything)', { error: (e as Error).message });
    } finally {
      this.snapshotting = false;
    }
  }

  // ---- ServerView (four-letter words, admin) -----------------------------------------------

  connections(): ClientConnection[] {
    return [...this.port.connections];
  }
  stateView(): ZkState {
    return this.state;
  }
  sessionCount(): number {
    return this.tracker.size;
  }
  sessionsWithEphemerals(): Map<bigint, string[]> {
    const out = new Map<bigint, string[]>();
    for (const id of this.state.sessions.keys()) out.set(id, this.state.ephemeralsOf(id));
    return out;
  }
  outstandingRequests(): number {
    return this.writes.depth;
  }
  /** The admin server's address, when `adminPort` is set. */
  get adminUrl(): string | undefined {
    return this.admin?.url;
  }
  txnLogStats(): TxnLogStats | undefined {
    return this.txnLog?.stats();
  }
  sessionExpiries(): Array<[bigint, number]> {
    return [...this.tracker.entries()].map(([id, s]) => [id, s.expiresAtMs]);
  }
  /** For the admin server (lead, zabstate, role metrics) on a cluster node. */
  quorumState(): { role: 'leader' | 'follower' | 'looking'; epoch: number; leaderId: number | null; commitLag: number } | undefined {
    if (!(this.writes instanceof ReplicatedWritePath)) return undefined;
    const q = this.writes.quorumState();
    const role = this.writes.mode();
    // Commits are applied as soon as they arrive, so nothing committed waits here.
    return { role, epoch: q.epoch, leaderId: q.synced ? (q.leaderId ?? null) : null, commitLag: 0 };
  }

  mode(): 'standalone' | 'leader' | 'follower' | 'looking' {
    return this.writes.mode();
  }
}

export { EventType, KeeperState };
