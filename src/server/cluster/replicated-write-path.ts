/**
 * The cluster write path: the I/O edge around the pure ZAB core (src/server/zab).
 *
 * One serial job loop drives the core: timers become `tick` inputs, peer messages become
 * `message` inputs, and every batch of actions the core returns is executed in order —
 * epochs and truncations durably before anything else, log appends with group commit
 * (feeding `persisted` back when the fsync lands), sends, then commits applied to the state
 * machine. The leader preps client writes (its own and forwarded ones) against its pending
 * changes and proposes them; every server applies committed txns and answers the writes
 * that were submitted to it, matched by session id and cxid.
 *
 * Backpressure: a leader keeps at most `maxUncommittedProposals` proposals that a quorum has not
 * acknowledged. Writes beyond wait here unproposed, in arrival order (its own clients' and the
 * forwarded ones alike), and are proposed as commits make room; meanwhile the leader stops
 * reading its clients that have requests in flight and tells its followers to do the same with
 * theirs (a `hold` note, renewed every tick, so a lost one lapses). Reads keep flowing. A
 * leader whose own log is congested (too much waiting for fsync) defers proposals and holds
 * its followers' clients the same way, until its disk has caught up to half.
 *
 * SNAP (see zab/leader.ts and zab/follower.ts): as leader, this holds one image of the applied
 * state per follower being sent a SNAP (SnapshotSource) and reads the next chunk of it whenever
 * the core asks (`readSnapshot`, issued only while that follower's window has room), after a turn
 * of the event loop; as follower, it parses each chunk the core takes and streams it to a temp
 * file as it arrives (`snapshotChunkTaken`, SnapReceiver), and installs the image in one durable
 * step (`installSnapshot`), the tree never joined into one Buffer nor held twice.
 *
 * Leases (see zab/leader.ts): this server answers clients only while the core's lease holds,
 * measured on the monotonic clock (LeaseClock); frames wait otherwise. Sessions have owners
 * (the server their client talks to); the leader's side of that lives in session-relay.ts.
 *
 * The session secret (storage/session-secret.ts) is the leader's: each member announces its
 * secret on its quorum links, and a follower takes (and stores) its leader's before it acts on
 * any message from that leader. A client only gets a password after its createSession is
 * committed, i.e. logged by a quorum that had taken the secret first; every later leader holds
 * that txn, so it took the same secret, and so does everyone who syncs with it. Without TLS
 * on the quorum links the secret crosses the network in the clear.
 */
import { encodeMessage, decodeMessage, MAX_MESSAGE_BYTES, zxidCounter, zxidEpoch, ZabNode, type LogEntry, type ZabAction, type ZabInput, type ZabMessage } from '../zab/index.js';
import { ErrorCode, OpCode } from '../../protocol/constants.js';
import type { QuorumState } from '../admin/figures.js';
import type { ServerConfig } from '../config.js';
import type { NodeIo } from '../node/io.js';
import type { Timer } from '../node/clock.js';
import type { SnapshotPolicy } from '../node/snapshot-policy.js';
import type { NodeMode, NodeServices, ProposalFigures, WriteOrigin, WritePath } from '../node/write-path.js';
import { PeerTransport } from '../net/peer-transport.js';
import type { DataDir, Recovered } from '../storage/data-dir.js';
import type { TxnLog } from '../storage/txn-log.js';
import { openSnapshot } from '../tree/snapshot-stream.js';
import { decodeTxn, encodeTxn } from '../tree/txn-codec.js';
import type { ApplyResult, Txn, WriteRequest } from '../tree/types.js';
import type { ClusterConfig } from './cluster-config.js';
import { decodeNote, encodeNote, type Forwarded, type LeaderNote, type Sequenced } from './forwarding.js';
import { LeaseClock } from './lease-clock.js';
import { SessionRelay } from './session-relay.js';
import { SnapReceiver } from './snap-receiver.js';
import { SnapshotSource } from './snapshot-source.js';

export interface ReplicatedOptions {
  server: ServerConfig;
  cluster: { id: number; config: ClusterConfig };
  io: NodeIo;
  dataDir: DataDir;
  recovered: Recovered<unknown>;
  node: NodeServices;
  snapshots: SnapshotPolicy;
}

type QueueEntry = { kind: 'write'; key: string } | { kind: 'wait'; fn: () => void } | { kind: 'sync'; fn: () => void; nonce: number; untilZxid: number | undefined };

interface Pending {
  done: (r: ApplyResult) => void;
  failed: () => void;
}

/** A write a leader could not propose yet (uncommitted proposals at their limit). */
interface Deferred {
  origin: WriteOrigin;
  request: WriteRequest;
  /** The server its client is on. */
  from: number;
}

/** A follower told to hold its clients' writes lets go after this many ticks without renewal. */
const HOLD_LAPSE_TICKS = 2;

const keyOf = (sessionId: bigint, cxid: number) => `${sessionId}:${cxid}`;

export class ReplicatedWritePath implements WritePath {
  readonly core: ZabNode;
  private readonly log: TxnLog;
  private readonly quorumLinks: PeerTransport;
  private readonly electionLinks: PeerTransport;
  private readonly jobs: Array<() => Promise<void> | void> = [];
  private running = false;
  private stopped = false;
  private role: 'leading' | 'following' | 'looking' = 'looking';
  private synced = false;
  private leaderId: number | undefined;
  private epoch = 0;
  /** Bumped by truncation/snapshot install: fsyncs started before must not report `persisted`. */
  private flushGeneration = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly queues = new Map<bigint, QueueEntry[]>();
  private nonce = 0;
  /** The log is congested (too much waits for fsync): we push back on our clients. */
  private pushingBack = false;
  /** Leader: writes waiting to be proposed, in order, while uncommitted proposals are at the limit. */
  private readonly deferred: Deferred[] = [];
  private deferredTotal = 0;
  private deferredScheduled = false;
  private peakUncommitted = 0;
  /** Leader: uncommitted proposals are at their limit (until down to half): we push back. */
  private proposalsFull = false;
  /** Leader: our followers are told to hold their clients' writes. */
  private followersHeld = false;
  /** Follower: the leader told us to hold our clients' writes, until this tick unless renewed (-1: not held). */
  private heldUntilTick = -1;
  private ticker: Timer | undefined;
  /** Follower: the next sequence number of our note stream to the leader (and whose stream). */
  private outStream = { leader: -1, epoch: -1, stream: -1, seq: 0 };
  /** Leader: the next expected sequence number of each follower's current note stream. */
  private readonly inStreams = new Map<number, { epoch: number; stream: number; seq: number }>();
  readonly leases: LeaseClock;
  private readonly relay: SessionRelay;
  private readonly node: NodeServices;
  /** Leader: the SNAP streams being read, by follower (the core's `stream` is its session). */
  private readonly snapSources = new Map<number, { stream: number; source: SnapshotSource; openedMs: number; readMs: number }>();
  /** Follower: when the first chunk of the SNAP being received arrived (for the 'snap received' line). */
  private snapArrival: { epoch: number; session: number; ms: number; bytes: number } | undefined;
  /** Follower: the SNAP image being received, parsed and written as its chunks arrive (snap-receiver.ts). */
  private snapReceiver: SnapReceiver | undefined;
  /** Each peer's announced session secret (quorum links; see the header). */
  private readonly peerSecrets = new Map<number, Buffer>();

  private constructor(
    private readonly o: ReplicatedOptions,
    acceptedEpoch: number,
    currentEpoch: number,
  ) {
    const { id, config } = o.cluster;
    this.node = o.node;
    this.log = o.recovered.log;
    this.leases = new LeaseClock(config.tickMs);
    this.core = new ZabNode(
      {
        myId: id,
        peers: config.servers.map((s) => s.id),
        initLimit: config.initLimit,
        syncLimit: config.syncLimit,
        electionFinalizeTicks: 1,
        ...(o.server.zxidCounterLimit === undefined ? {} : { zxidCounterLimit: o.server.zxidCounterLimit }),
        ...(o.server.snapChunkBytes === undefined ? {} : { snapChunkBytes: o.server.snapChunkBytes }),
        ...(o.server.snapWindowBytes === undefined ? {} : { snapWindowBytes: o.server.snapWindowBytes }),
      },
      {
        acceptedEpoch,
        currentEpoch,
        snapshotZxid: Number(o.recovered.snapshot?.zxid ?? 0n),
        log: o.recovered.records.map((r) => ({ zxid: Number(r.zxid), payload: r.payload })),
      },
    );
    const link = (port: (s: ClusterConfig['servers'][number]) => number, announce: boolean) => {
      const me = config.servers.find((s) => s.id === id)!;
      return new PeerTransport(
        {
          myId: id,
          listenHost: o.server.host === '0.0.0.0' ? '0.0.0.0' : me.host,
          listenPort: port(me),
          peers: new Map(config.servers.map((s) => [s.id, { host: s.host, port: port(s) }])),
          // No message carries the whole tree any more: a SNAP travels in bounded chunks.
          maxMessageBytes: MAX_MESSAGE_BYTES,
          maxQueuedBytes: 1024 * 1024 * 1024,
          ...(o.server.quorumTls ? { tls: o.server.quorumTls } : {}),
          ...(announce ? { announcement: () => o.node.sessionSecret() } : {}),
          log: o.node.logger,
        },
        { network: o.io.network, clock: o.io.clock },
      );
    };
    this.quorumLinks = link((s) => s.quorumPort, true);
    this.electionLinks = link((s) => s.electionPort, false);
    this.relay = new SessionRelay({
      node: o.node,
      leases: this.leases,
      myId: id,
      unknownOwnerHoldMs: this.core.cfg.followerLeaseTicks * config.tickMs,
      queryTimeoutMs: config.tickMs,
      toLeader: (note) => this.enqueue(() => this.forward(note)),
      toFollower: (peer, note) => this.enqueue(() => this.input({ type: 'sendOpaque', to: peer, payload: encodeNote(note) })),
      isSyncedFollower: (peer) => this.core.leader?.handlers.get(peer)?.phase === 'synced',
    });
  }

  static async start(o: ReplicatedOptions): Promise<ReplicatedWritePath> {
    const acceptedEpoch = Number((await o.dataDir.readEpoch('acceptedEpoch')) ?? 0n);
    const currentEpoch = Number((await o.dataDir.readEpoch('currentEpoch')) ?? 0n);
    const path = new ReplicatedWritePath(o, acceptedEpoch, currentEpoch);
    for (const links of [path.quorumLinks, path.electionLinks]) {
      links.on('message', (from, bytes) => path.enqueue(() => path.onPeerMessage(from, bytes)));
      await links.start();
    }
    // In the job queue, so it is recorded before the messages that followed it on the link.
    path.quorumLinks.on('announced', (from, bytes) => path.enqueue(() => void path.peerSecrets.set(from, bytes)));
    path.quorumLinks.on('up', (peer) => path.enqueue(() => path.input({ type: 'peerConnected', peer })));
    path.quorumLinks.on('down', (peer) => path.enqueue(() => path.input({ type: 'peerDisconnected', peer })));
    // Notifications travel on the election links: one sent while ours to that peer was down was lost.
    path.electionLinks.on('up', (peer) => path.enqueue(() => path.input({ type: 'electionLinkUp', peer })));
    path.leases.fed(path.core.now, o.io.clock.monoMs());
    path.enqueue(() => path.execute(path.core.start()));
    path.ticker = o.io.clock.every(o.cluster.config.tickMs, () => path.enqueue(() => path.tick()));
    return path;
  }

  mode(): NodeMode {
    if (!this.synced) return 'looking';
    return this.role === 'leading' ? 'leader' : 'follower';
  }

  get serving(): boolean {
    return this.synced && !this.stopped;
  }

  mayReply(): boolean {
    return this.serving && this.leases.holds(this.node.clock.monoMs());
  }

  get expiresSessions(): boolean {
    return this.synced && this.role === 'leading';
  }

  /** Requests waiting here: writes not yet applied, and reads and syncs queued behind them. */
  get depth(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  proposals(): ProposalFigures {
    return { uncommitted: this.uncommitted(), peakUncommitted: this.peakUncommitted, deferred: this.deferred.length, deferredTotal: this.deferredTotal };
  }

  /**
   * For the admin views and mntr: who leads, in which epoch, and (on the leader) its learners,
   * read from the consensus core and the request queues, never assumed. `appliedZxid`: the
   * node's last applied txn, for the commit lag.
   */
  quorumState(appliedZxid: bigint): QuorumState & { role: 'leader' | 'follower' | 'looking'; epoch: number } {
    const mode = this.mode();
    const role = mode === 'leader' || mode === 'follower' ? mode : 'looking';
    const leaderId = this.synced ? (this.leaderId ?? null) : null;
    const servers = this.o.cluster.config.servers;
    // Commits are applied in the step that hands them over, so this is 0 unless that breaks.
    // Unknown (null) while the state is behind what the log still holds (a snapshot being
    // installed): the entries in between are no longer there to count.
    const applied = Number(appliedZxid);
    const log = this.core.log;
    const commitLag = this.core.commitZxid <= applied ? 0 : applied < log.base ? null : log.range(applied, this.core.commitZxid).length;
    const out: QuorumState & { role: 'leader' | 'follower' | 'looking'; epoch: number } = {
      role,
      epoch: this.epoch,
      leaderId,
      leaderAddress: leaderId === null ? null : (servers.find((s) => s.id === leaderId)?.host ?? null),
      commitLag,
      zabState: this.zabState(),
      members: servers.length,
      quorumSize: this.core.quorum,
    };
    const L = this.core.leader;
    if (role === 'leader' && L) {
      let synced = 0;
      for (const h of L.handlers.values()) if (h.phase === 'synced') synced++;
      out.learners = L.handlers.size;
      out.syncedFollowers = synced;
      out.pendingSyncs = this.pendingSyncs();
    }
    return out;
  }

  /** The consensus core's phase, in ZooKeeper's ZabState terms. */
  private zabState(): NonNullable<QuorumState['zabState']> {
    const phase = this.core.leader?.phase ?? this.core.follower?.phase;
    if (this.core.role === 'looking' || phase === undefined) return 'election';
    if (phase === 'broadcast') return 'broadcast';
    if (phase === 'discovery' || phase === 'epochAck' || phase === 'epochAcked') return 'discovery';
    return 'synchronization';
  }

  /**
   * Client syncs this server holds until the writes before them are applied. A leader answers
   * a follower's forwarded sync at once (the follower waits for its own apply), so on the
   * leader only its own clients' syncs can be pending.
   */
  private pendingSyncs(): number {
    let n = 0;
    for (const q of this.queues.values()) for (const e of q) if (e.kind === 'sync') n++;
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ticker?.cancel();
    this.relay.stop();
    this.closeSnapSources();
    const receiver = this.snapReceiver;
    this.dropSnapReceiver();
    await Promise.all([this.quorumLinks.stop(), this.electionLinks.stop(), receiver?.settled()]);
  }

  // ---- the client-facing side ---------------------------------------------------------------

  submit(origin: WriteOrigin, request: WriteRequest, done: (result: ApplyResult) => void, failed: () => void = () => undefined): void {
    const key = keyOf(origin.sessionId, origin.cxid);
    this.pending.set(key, { done, failed });
    this.queueOf(origin.sessionId).push({ kind: 'write', key });
    this.enqueue(() => {
      if (!this.synced) return this.failAll('no synced leader');
      if (this.role === 'leading') return this.proposeWrite(origin, request, this.o.cluster.id);
      return this.forward({ k: 'write', sessionId: origin.sessionId, cxid: origin.cxid, authIds: [...origin.authIds], request });
    });
  }

  after(sessionId: bigint, fn: () => void): void {
    const q = this.queues.get(sessionId);
    if (!q || q.length === 0) fn();
    else q.push({ kind: 'wait', fn });
  }

  sync(sessionId: bigint, fn: () => void): void {
    const entry: QueueEntry = { kind: 'sync', fn, nonce: ++this.nonce, untilZxid: undefined };
    this.queueOf(sessionId).push(entry);
    this.enqueue(() => {
      if (!this.synced) return this.failAll('no synced leader');
      if (this.role === 'leading') {
        entry.untilZxid = this.core.log.lastZxid;
        this.drain(sessionId);
        return;
      }
      return this.forward({ k: 'sync', nonce: entry.nonce });
    });
  }

  /** Follower: the next note of our ordered stream to the leader (dropped if we have no leader). */
  private forward(note: Forwarded): Promise<void> | void {
    const f = this.core.follower;
    if (f === null || f.phase !== 'broadcast') return; // the role change that follows drops our clients
    const o = this.outStream;
    if (o.leader !== f.leaderId || o.epoch !== f.epoch || o.stream !== f.session) this.outStream = { leader: f.leaderId, epoch: f.epoch, stream: f.session, seq: 0 };
    const payload = encodeNote({ epoch: f.epoch, stream: f.session, seq: this.outStream.seq++, note } satisfies Sequenced);
    return this.input({ type: 'forward', payload });
  }

  touched(sessionId: bigint): void {
    if (this.role === 'following') this.relay.touched(sessionId);
  }

  revalidate(sessionId: bigint, timeoutMs: number, done: (live: boolean) => void): void {
    this.enqueue(() => {
      if (!this.synced) return done(false);
      if (this.role === 'leading') return done(this.relay.revalidateAt(this.o.cluster.id, sessionId, timeoutMs));
      this.relay.revalidateVia(sessionId, timeoutMs, done);
    });
  }

  askOwner(owner: number, sessionId: bigint, done: Parameters<WritePath['askOwner']>[2]): void {
    this.enqueue(() => this.relay.askOwner(owner, sessionId, done));
  }

  private queueOf(sessionId: bigint): QueueEntry[] {
    let q = this.queues.get(sessionId);
    if (!q) this.queues.set(sessionId, (q = []));
    return q;
  }

  /** Runs what waits at the head of a session's queue, up to its next unapplied write or unmet sync. */
  private drain(sessionId: bigint): void {
    const q = this.queues.get(sessionId);
    if (!q) return;
    const applied = Number(this.node.state().lastProcessedZxid);
    while (q.length > 0) {
      const head = q[0]!;
      if (head.kind === 'write') break;
      if (head.kind === 'sync' && (head.untilZxid === undefined || applied < head.untilZxid)) break;
      q.shift();
      head.fn();
    }
    if (q.length === 0) this.queues.delete(sessionId);
  }

  /** Leadership moved or was lost: nothing in flight here can be answered any more. */
  private failAll(why: string): void {
    if (this.pending.size > 0 || this.queues.size > 0) this.node.logger.warn('dropping client requests in flight', { why, pending: this.pending.size });
    this.pending.clear();
    this.queues.clear();
    // Writes that waited for room belong to the clients dropped here; nothing holds them any more.
    this.deferred.length = 0;
    this.updateProposalPressure();
    this.releaseHold();
    this.node.dropClients();
  }

  /** One request cannot be proposed: only its client is cut (it retries elsewhere). */
  private failOne(sessionId: bigint, cxid: number): void {
    const key = keyOf(sessionId, cxid);
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    const q = this.queues.get(sessionId);
    const i = q?.findIndex((x) => x.kind === 'write' && x.key === key) ?? -1;
    if (q && i >= 0) q.splice(i, 1);
    p.failed();
  }

  // ---- the job loop --------------------------------------------------------------------------

  enqueue(job: () => Promise<void> | void): void {
    if (this.stopped) return;
    this.jobs.push(job);
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.jobs.length > 0 && !this.stopped) {
        const job = this.jobs.shift()!;
        await job();
      }
    } catch (e) {
      this.node.fatal(e as Error);
    } finally {
      this.running = false;
    }
  }

  private input(input: ZabInput): Promise<void> {
    return this.execute(this.core.step(input));
  }

  private async tick(): Promise<void> {
    const actions = this.core.step({ type: 'tick' });
    this.leases.fed(this.core.now, this.node.clock.monoMs());
    await this.execute(actions);
    if (this.synced && this.role === 'following') this.relay.flushTouches();
    if (this.heldUntilTick >= 0 && this.core.now > this.heldUntilTick) this.releaseHold();
    if (this.followersHeld && this.role === 'leading') await this.tellFollowers(true);
  }

  private async onPeerMessage(from: number, bytes: Buffer): Promise<void> {
    let msg: ZabMessage;
    try {
      msg = decodeMessage(bytes);
    } catch (e) {
      this.node.logger.warn('dropping a malformed peer message', { from, error: (e as Error).message });
      return;
    }
    if (msg.type === 'snapchunk') this.noteSnapChunk(from, msg.epoch, msg.session, msg.zxid, msg.seq, msg.last, msg.bytes.length);
    const actions = this.core.step({ type: 'message', from, msg });
    // Following `from` now: its secret is ours before anything it sent is logged or answered.
    if (this.core.follower?.leaderId === from) await this.takeLeaderSecret(from);
    await this.execute(actions);
  }

  /** Follower: the first and last chunk of a SNAP as they arrive, logged (the bench's catch-up timeline reads them). */
  private noteSnapChunk(from: number, epoch: number, session: number, zxid: number, seq: number, last: boolean, bytes: number): void {
    const nowMs = this.node.clock.monoMs();
    if (seq === 0) {
      this.snapArrival = { epoch, session, ms: nowMs, bytes: 0 };
      this.node.logger.info('snap receiving', { from, zxid: `0x${zxid.toString(16)}` });
    }
    const a = this.snapArrival;
    if (a === undefined || a.epoch !== epoch || a.session !== session) return;
    a.bytes += bytes;
    if (last) this.node.logger.info('snap transferred', { from, zxid: `0x${zxid.toString(16)}`, chunks: seq + 1, bytes: a.bytes, ms: Math.round(nowMs - a.ms) });
  }

  private async takeLeaderSecret(leader: number): Promise<void> {
    const theirs = this.peerSecrets.get(leader);
    if (!theirs || theirs.equals(this.node.sessionSecret())) return;
    await this.node.adoptSessionSecret(theirs);
    this.quorumLinks.announce(); // a later leader among our peers must pass on this one
  }

  /**
   * Leader: a write to propose, now if there is room, else after those already waiting (so each
   * session's writes keep their order). `from` is the server the client is on.
   */
  private async proposeWrite(origin: WriteOrigin, request: WriteRequest, from: number): Promise<void> {
    if (this.deferred.length > 0 || !this.roomToPropose()) {
      this.deferred.push({ origin, request, from });
      this.deferredTotal++;
      this.updateProposalPressure();
      return;
    }
    await this.proposeNow(origin, request, from);
    this.updateProposalPressure();
  }

  /**
   * Leader: room for another proposal: fewer than the limit uncommitted, and our own log not
   * congested (a quorum of fast followers would otherwise let a leader on a slow disk pile up
   * log records in memory without bound).
   */
  private roomToPropose(): boolean {
    return this.uncommitted() < this.o.server.maxUncommittedProposals && !this.log.congested;
  }

  /** Leader: proposes what waits, in a job of its own, once there may be room again. */
  private scheduleDeferred(): void {
    if (this.deferred.length === 0 || this.deferredScheduled) return;
    this.deferredScheduled = true;
    this.enqueue(() => this.proposeDeferred());
  }

  /** Leader: proposes waiting writes while commits (and fsyncs) have made room. */
  private async proposeDeferred(): Promise<void> {
    this.deferredScheduled = false;
    while (this.deferred.length > 0 && this.role === 'leading' && this.roomToPropose()) {
      const d = this.deferred.shift()!;
      await this.proposeNow(d.origin, d.request, d.from);
    }
    this.updateProposalPressure();
  }

  /**
   * Leader: proposals a quorum has not acknowledged. All are of our epoch: every entry of an
   * older one was committed when we were established, and ours count from 1.
   */
  private uncommitted(): number {
    if (this.role !== 'leading' || this.core.leader === null) return 0;
    const last = this.core.log.lastZxid;
    const commit = this.core.commitZxid;
    if (last <= commit) return 0;
    return zxidEpoch(last) === zxidEpoch(commit) ? last - commit : zxidCounter(last);
  }

  /** Leader: pushes back on our clients at the proposal limit, until down to half (or nothing waits). */
  private updateProposalPressure(): void {
    const n = this.uncommitted();
    if (n > this.peakUncommitted) this.peakUncommitted = n;
    const limit = this.o.server.maxUncommittedProposals;
    const full = this.deferred.length > 0 || (this.proposalsFull ? n > limit / 2 : n >= limit);
    if (full !== this.proposalsFull) {
      this.proposalsFull = full;
      this.node.pushBack('proposals', full);
    }
    this.updateFollowersHeld();
  }

  /** Leader: followers hold their clients' writes while our proposals are full or our log is congested. */
  private updateFollowersHeld(): void {
    const hold = this.role === 'leading' && this.synced && (this.proposalsFull || this.pushingBack);
    if (hold === this.followersHeld) return;
    this.followersHeld = hold;
    this.enqueue(() => this.tellFollowers(hold));
  }

  private async tellFollowers(hold: boolean): Promise<void> {
    if (this.role !== 'leading' || hold !== this.followersHeld) return; // superseded
    const payload = encodeNote({ k: 'hold', on: hold });
    for (const [peer, h] of this.core.leader?.handlers ?? []) if (h.phase === 'synced') await this.input({ type: 'sendOpaque', to: peer, payload });
  }

  /** Follower: the leader asks us to hold (or release) our clients' writes. */
  private onHold(on: boolean): void {
    if (this.role !== 'following' || !this.synced) return;
    if (!on) return this.releaseHold();
    this.heldUntilTick = this.core.now + HOLD_LAPSE_TICKS;
    this.node.pushBack('leader', true);
  }

  private releaseHold(): void {
    if (this.heldUntilTick < 0) return;
    this.heldUntilTick = -1;
    this.node.pushBack('leader', false);
  }

  /** Leader: prep (against pending changes) and propose. */
  private async proposeNow(origin: WriteOrigin, request: WriteRequest, from: number): Promise<void> {
    const zxid = this.core.nextProposalZxid();
    if (zxid === undefined) {
      // The core cannot give this write a zxid: the counter ran out (ZOOKEEPER-1277) or we are
      // no longer established. Let the core decide; on rollover it steps down, forcing a new
      // epoch, and the role change drops the clients. Only this write fails here.
      await this.execute(this.core.step({ type: 'propose', payload: Buffer.alloc(0) }));
      if (from === this.o.cluster.id) this.failOne(origin.sessionId, origin.cxid);
      return;
    }
    const header = { zxid: BigInt(zxid), timeMs: BigInt(this.node.clock.wallMs()), sessionId: origin.sessionId, authIds: origin.authIds, cxid: origin.cxid };
    const moved = !origin.internal && this.relay.checkOwner(origin.sessionId, from, request);
    const txn: Txn = moved
      ? { sessionId: header.sessionId, cxid: header.cxid, zxid: header.zxid, time: header.timeMs, body: { type: OpCode.error, err: ErrorCode.SESSIONMOVED } }
      : this.node.state().prep(request, header);
    const actions = this.core.step({ type: 'propose', payload: encodeTxn(txn) });
    const outcome = actions.find((a) => a.type === 'proposed' || a.type === 'rejected');
    if (outcome?.type === 'proposed' && outcome.zxid !== zxid) throw new Error(`the core proposed 0x${outcome.zxid.toString(16)}, prep used 0x${zxid.toString(16)}`);
    await this.execute(actions);
    if (outcome?.type === 'rejected' && from === this.o.cluster.id) this.failOne(origin.sessionId, origin.cxid);
  }

  private async execute(actions: readonly ZabAction[]): Promise<void> {
    for (const a of actions) {
      switch (a.type) {
        case 'persistEpoch':
          await this.o.dataDir.writeEpoch(a.name, a.value);
          break;
        case 'truncateLog':
          // Always through truncateAfter: it also makes what remains (pending appends included)
          // durable, which the core assumes once this action returns.
          this.flushGeneration++;
          await this.log.truncateAfter(BigInt(a.afterZxid));
          break;
        case 'installSnapshot':
          await this.installSnapshot(a.zxid, a.chunks, a.bytes, a.entries);
          break;
        case 'snapshotChunkTaken':
          this.takeSnapChunk(a.zxid, a.seq, a.bytes);
          break;
        case 'snapshotDropped':
          this.dropSnapReceiver();
          break;
        case 'appendLog':
          this.append(a.entries);
          break;
        case 'send': {
          const links = a.msg.type === 'notification' ? this.electionLinks : this.quorumLinks;
          links.send(a.to, encodeMessage(a.msg));
          break;
        }
        case 'commit':
          this.applyEntries(a.entries);
          break;
        case 'openSnapshot':
          this.openSnapSource(a.peer, a.stream);
          break;
        case 'readSnapshot':
          this.readSnapSource(a.peer, a.stream, a.maxBytes);
          break;
        case 'closeSnapshot':
          this.closeSnapSource(a.peer, a.stream);
          break;
        case 'role':
          this.onRole(a.role, a.leaderId, a.epoch, a.synced);
          break;
        case 'lease':
          this.leases.lease(a.anchorTick, a.ticks);
          if (this.mayReply()) this.node.leaseRenewed();
          break;
        case 'leaseGranted':
          this.leases.grant(a.peer, a.ticks, this.node.clock.monoMs());
          break;
        case 'disconnect':
          this.quorumLinks.reset(a.peer);
          break;
        case 'forwarded':
          await this.onForwarded(a.from, a.payload);
          break;
        case 'opaque':
          this.onNote(decodeNote<LeaderNote>(a.payload));
          break;
        case 'rejected':
        case 'proposed':
          // proposeWrite reads the outcome of its own propose; a rejected forward (we lost the
          // leader meanwhile) needs nothing: the role change drops the clients.
          break;
      }
    }
  }

  private append(entries: readonly LogEntry[]): void {
    for (const e of entries) this.log.append(BigInt(e.zxid), e.payload);
    this.checkPressure();
    const upToZxid = entries.at(-1)!.zxid;
    const generation = this.flushGeneration;
    this.log.flush().then(
      () => {
        this.checkPressure();
        if (generation === this.flushGeneration) this.enqueue(() => this.input({ type: 'persisted', upToZxid }));
      },
      (e: unknown) => this.node.fatal(e as Error),
    );
  }

  /** Too much waits for fsync: stop reading client requests here until the disk catches up. */
  private checkPressure(): void {
    const congested = this.log.congested;
    if (congested === this.pushingBack) return;
    this.pushingBack = congested;
    this.node.pushBack('log', congested);
    this.updateFollowersHeld();
    // A leader's log caught up: what waited for it may be proposed.
    if (!congested) this.scheduleDeferred();
  }

  // ---- SNAP, leader side: one image per follower, read a chunk at a time when the core asks ----

  /** A consistent image of the applied state as it is now (the commits the core emitted before are applied). */
  private openSnapSource(peer: number, stream: number): void {
    this.closeSnapSource(peer);
    const reader = openSnapshot(this.node.state());
    const source = new SnapshotSource(reader, this.node.clock, this.core.cfg.snapChunkBytes);
    this.snapSources.set(peer, { stream, source, openedMs: this.node.clock.monoMs(), readMs: 0 });
    const zxid = Number(reader.zxid);
    this.enqueue(() => this.input({ type: 'snapshotOpened', peer, stream, zxid }));
  }

  /** Reads the next chunk outside the job loop (a turn of the event loop first) and feeds it back as a job. */
  private readSnapSource(peer: number, stream: number, maxBytes: number): void {
    const s = this.snapSources.get(peer);
    if (s === undefined || s.stream !== stream) throw new Error(`the core asked for a chunk of SNAP stream ${stream} to ${peer}, which is not open`);
    const { source } = s;
    const askedMs = this.node.clock.monoMs();
    source.take(maxBytes).then(
      ({ bytes, last }) => {
        if (source.isClosed) return; // the stream ended meanwhile (the core said so)
        s.readMs += this.node.clock.monoMs() - askedMs;
        if (last) {
          // readMs: time spent cutting chunks (turns of the event loop included); the rest of ms
          // the stream waited for its window (the follower's acks) or for the job loop.
          this.node.logger.info('snap sent', { peer, zxid: `0x${source.zxid.toString(16)}`, bytes: source.bytes, chunks: source.chunks, ms: Math.round(this.node.clock.monoMs() - s.openedMs), readMs: Math.round(s.readMs) });
        }
        this.enqueue(() => this.input({ type: 'snapshotChunk', peer, stream, bytes, last }));
      },
      (e: unknown) => this.node.fatal(e as Error),
    );
  }

  /** Idempotent; without `stream`, whatever stream to `peer` is open. */
  private closeSnapSource(peer: number, stream?: number): void {
    const s = this.snapSources.get(peer);
    if (s === undefined || (stream !== undefined && s.stream !== stream)) return;
    this.snapSources.delete(peer);
    s.source.close();
  }

  private closeSnapSources(): void {
    for (const peer of [...this.snapSources.keys()]) this.closeSnapSource(peer);
  }

  // ---- SNAP, follower side ------------------------------------------------------------------

  /** A chunk the core took: parsed and queued for the temp file now (its SNAPACK is already out: sends precede this action). */
  private takeSnapChunk(zxid: number, seq: number, bytes: Buffer): void {
    if (seq === 0) {
      this.dropSnapReceiver();
      this.snapReceiver = new SnapReceiver(zxid, this.node.state().options, this.o.dataDir, () => this.node.clock.monoMs());
    }
    const r = this.snapReceiver;
    if (r === undefined || r.zxid !== BigInt(zxid)) throw new Error(`SNAP chunk ${seq} of 0x${zxid.toString(16)} without its image`);
    r.take(seq, bytes);
  }

  private dropSnapReceiver(): void {
    const r = this.snapReceiver;
    this.snapReceiver = undefined;
    r?.abort();
  }

  /**
   * The SNAP and the proposals after it, in one durable step. The SnapReceiver has parsed the
   * image and written it to a temp file while it arrived: here the state is built (the image is
   * checked whole before anything is written), then the temp file is fsynced and renamed into
   * place, then the log restarts after it with the entries. A crash at any point leaves the old
   * state (no snapshot file yet, at most a temp file that recovery removes) or the new complete
   * snapshot, whose zxid the log then restarts from (DataDir.recover).
   */
  private async installSnapshot(zxid: number, chunks: number, bytes: number, entries: readonly LogEntry[]): Promise<void> {
    const startedMs = this.node.clock.monoMs();
    const hex = `0x${zxid.toString(16)}`;
    this.node.logger.info('snap installing', { zxid: hex, chunks, entries: entries.length });
    this.flushGeneration++;
    const receiver = this.snapReceiver;
    this.snapReceiver = undefined;
    const z = BigInt(zxid);
    if (receiver === undefined || receiver.zxid !== z) throw new Error(`installing the SNAP at ${hex}, but ${receiver ? `0x${receiver.zxid.toString(16)}` : 'none'} was received`);
    const next = receiver.finishParse(chunks, bytes);
    const parsedMs = this.node.clock.monoMs();
    this.node.logger.info('snap parsed', { zxid: hex, ms: Math.round(parsedMs - startedMs), parseMs: Math.round(receiver.parseMs), estimatedBytes: receiver.estimatedBytes });
    const unwritten = receiver.unwrittenBytes;
    await receiver.commitFile();
    this.node.logger.info('snap file written', { zxid: hex, bytes, ms: Math.round(this.node.clock.monoMs() - parsedMs), unwrittenAtParse: unwritten });
    if (this.log.lastZxid > z) await this.log.truncateAfter(z);
    if (this.log.lastZxid < z) {
      await this.log.flush();
      await this.log.resetTo(z);
    }
    for (const e of entries) this.log.append(BigInt(e.zxid), e.payload);
    await this.log.flush();
    this.node.replaceState(next);
    const nowMs = this.node.clock.monoMs();
    const f = this.core.follower;
    const arrival = this.snapArrival;
    const fromMs = arrival !== undefined && f !== null && arrival.epoch === f.epoch && arrival.session === f.session ? arrival.ms : startedMs;
    this.snapArrival = undefined;
    // Parsed by the bench harness: keep the name and the fields.
    this.node.logger.info('snap received', { zxid: hex, bytes, chunks, entries: entries.length, ms: Math.round(nowMs - fromMs), installMs: Math.round(nowMs - startedMs) });
  }

  private applyEntries(entries: readonly LogEntry[]): void {
    const touchedSessions = new Set<bigint>();
    for (const e of entries) {
      const result = this.node.state().apply(decodeTxn(e.payload));
      this.node.applied(result);
      const key = keyOf(result.sessionId, result.cxid);
      const p = this.pending.get(key);
      if (p) {
        this.pending.delete(key);
        const q = this.queues.get(result.sessionId);
        const i = q?.findIndex((x) => x.kind === 'write' && x.key === key) ?? -1;
        if (q && i >= 0) q.splice(i, 1);
        p.done(result);
      }
      touchedSessions.add(result.sessionId);
    }
    for (const id of this.queues.keys()) touchedSessions.add(id);
    for (const id of touchedSessions) this.drain(id);
    this.o.snapshots.applied(entries.length);
    // Commits made room for proposals: propose what waits (in a job of its own, after this one).
    if (this.deferred.length > 0) {
      this.scheduleDeferred();
    } else if (this.proposalsFull) {
      this.updateProposalPressure();
    }
  }

  /** The snapshot policy wrote a snapshot of our applied state at `zxid`: the core may forget the log up to it. */
  snapshotWritten(zxid: bigint): void {
    this.enqueue(() => this.input({ type: 'snapshotInstalled', zxid: Number(zxid) }));
  }

  private onRole(role: 'leading' | 'following' | 'looking', leaderId: number | undefined, epoch: number, synced: boolean): void {
    const wasServing = this.synced;
    const changed = role !== this.role || leaderId !== this.leaderId;
    this.role = role;
    this.leaderId = leaderId;
    this.epoch = epoch;
    this.synced = synced && role !== 'looking';
    // Any role action ends the lease it was given under; a new one follows if we serve again.
    this.leases.endLease();
    // The core ends its streams when it stops leading (closeSnapshot); this is the backstop.
    if (role !== 'leading') this.closeSnapSources();
    if (wasServing && (!this.synced || changed)) {
      this.failAll(`role is now ${role}`);
      this.resetPreparedState();
    }
    if (!wasServing && this.synced) {
      this.node.logger.info(role === 'leading' ? 'leading' : 'following', { leader: leaderId, epoch });
      // Prep state of a previous leadership (outstanding changes, closing sessions) belongs to
      // proposals that may have been truncated: start clean.
      this.resetPreparedState();
      if (role === 'leading') {
        this.leases.clearGrants();
        this.relay.becameLeader();
        this.node.becameLeader();
      }
    } else if (!this.synced) {
      this.node.logger.info('role', { role, leader: leaderId, epoch });
    }
  }

  /** Forget prepared-but-uncommitted changes (issue 8, defect 2: they outlived leadership). */
  private resetPreparedState(): void {
    this.node.state().clearOutstanding();
    this.node.tracker.clearClosing();
    this.relay.reset();
  }

  private async onForwarded(from: number, payload: Buffer): Promise<void> {
    let envelope: Sequenced;
    try {
      envelope = decodeNote<Sequenced>(payload);
    } catch {
      this.node.logger.warn('dropping a malformed forwarded request', { from });
      return;
    }
    if (this.role !== 'leading') return;
    const handler = this.core.leader?.handlers.get(from);
    if (handler === undefined || envelope.epoch !== this.core.leader?.epoch || envelope.stream !== handler.session) return; // an earlier connection's
    const expect = this.inStreams.get(from);
    const next = expect?.stream === envelope.stream && expect.epoch === envelope.epoch ? expect.seq : 0;
    if (envelope.seq < next) return; // a duplicate
    if (envelope.seq > next) {
      // A note is missing: what follows may depend on it. Break the stream as TCP would.
      this.node.logger.warn('a follower note stream has a gap; resetting the link', { from, expected: next, got: envelope.seq });
      this.inStreams.delete(from);
      this.quorumLinks.reset(from);
      return;
    }
    this.inStreams.set(from, { epoch: envelope.epoch, stream: envelope.stream, seq: next + 1 });
    const note = envelope.note;
    switch (note.k) {
      case 'write':
        this.relay.touchFrom(from, [note.sessionId]);
        return this.proposeWrite({ sessionId: note.sessionId, cxid: note.cxid, authIds: note.authIds }, note.request, from);
      case 'sync':
        // Answered only on a lease: a leader that may have been replaced must not vouch for freshness.
        if (!this.mayReply()) return;
        return this.input({ type: 'sendOpaque', to: from, payload: encodeNote({ k: 'synced', nonce: note.nonce, zxid: this.core.log.lastZxid }) });
      default:
        return this.relay.onForwarded(from, note);
    }
  }

  private onNote(note: LeaderNote): void {
    if (note.k === 'hold') return this.onHold(note.on);
    if (note.k !== 'synced') return this.relay.onLeaderNote(note);
    for (const [sessionId, q] of this.queues) {
      const entry = q.find((x) => x.kind === 'sync' && x.nonce === note.nonce);
      if (entry && entry.kind === 'sync') {
        entry.untilZxid = note.zxid;
        this.drain(sessionId);
        return;
      }
    }
  }
}
