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
 */
import { encodeMessage, decodeMessage, ZabNode, type LogEntry, type ZabAction, type ZabInput, type ZabMessage } from '../zab/index.js';
import type { Logger } from '../../log.js';
import type { ServerConfig } from '../config.js';
import { PeerTransport } from '../net/peer-transport.js';
import type { DataDir, Recovered } from '../storage/data-dir.js';
import type { TxnLog } from '../storage/txn-log.js';
import { deserializeState, serializeState } from '../tree/snapshot-codec.js';
import type { ZkState } from '../tree/state.js';
import { decodeTxn, encodeTxn } from '../tree/txn-codec.js';
import type { ApplyResult, WriteRequest } from '../tree/types.js';
import type { ApplyHooks, WriteOrigin, WritePath } from '../write-path.js';
import type { ClusterConfig } from './cluster-config.js';
import { decodeNote, encodeNote, type Forwarded, type LeaderNote } from './forwarding.js';

export interface ReplicatedOptions {
  server: ServerConfig;
  cluster: { id: number; config: ClusterConfig };
  dataDir: DataDir;
  recovered: Recovered;
  state(): ZkState;
  replaceState(next: ZkState): void;
  hooks: ApplyHooks;
  dropClients(): void;
  becameLeader(): void;
  touchRemote(ids: bigint[]): void;
  logger: Logger;
  fatal(e: Error): void;
}

type QueueEntry = { kind: 'write'; key: string } | { kind: 'wait'; fn: () => void } | { kind: 'sync'; fn: () => void; nonce: number; untilZxid: number | undefined };

const keyOf = (sessionId: bigint, cxid: number) => `${sessionId}:${cxid}`;

export class ReplicatedWritePath implements WritePath {
  private readonly core: ZabNode;
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
  private readonly pending = new Map<string, (r: ApplyResult) => void>();
  private readonly queues = new Map<bigint, QueueEntry[]>();
  private readonly touchedIds = new Set<bigint>();
  private nonce = 0;
  private commitsSinceSnapshot = 0;
  private snapshotting = false;
  private ticker: NodeJS.Timeout | undefined;

  private constructor(
    private readonly o: ReplicatedOptions,
    acceptedEpoch: number,
    currentEpoch: number,
  ) {
    const { id, config } = o.cluster;
    this.log = o.recovered.log;
    this.core = new ZabNode(
      { myId: id, peers: config.servers.map((s) => s.id), initLimit: config.initLimit, syncLimit: config.syncLimit, electionFinalizeTicks: 1 },
      {
        acceptedEpoch,
        currentEpoch,
        snapshotZxid: Number(o.recovered.snapshot?.zxid ?? 0n),
        log: o.recovered.records.map((r) => ({ zxid: Number(r.zxid), payload: r.payload })),
      },
    );
    const link = (port: (s: ClusterConfig['servers'][number]) => number) => {
      const me = config.servers.find((s) => s.id === id)!;
      return new PeerTransport({
        myId: id,
        listenHost: o.server.host === '0.0.0.0' ? '0.0.0.0' : me.host,
        listenPort: port(me),
        peers: new Map(config.servers.map((s) => [s.id, { host: s.host, port: port(s) }])),
        maxMessageBytes: 600 * 1024 * 1024,
        maxQueuedBytes: 1024 * 1024 * 1024,
        log: o.logger,
      });
    };
    this.quorumLinks = link((s) => s.quorumPort);
    this.electionLinks = link((s) => s.electionPort);
  }

  static async start(o: ReplicatedOptions): Promise<ReplicatedWritePath> {
    const acceptedEpoch = Number((await o.dataDir.readEpoch('acceptedEpoch')) ?? 0n);
    const currentEpoch = Number((await o.dataDir.readEpoch('currentEpoch')) ?? 0n);
    const path = new ReplicatedWritePath(o, acceptedEpoch, currentEpoch);
    for (const links of [path.quorumLinks, path.electionLinks]) {
      links.on('message', (from, bytes) => path.enqueue(() => path.onPeerMessage(from, bytes)));
      await links.start();
    }
    path.quorumLinks.on('up', (peer) => path.enqueue(() => path.input({ type: 'peerConnected', peer })));
    path.quorumLinks.on('down', (peer) => path.enqueue(() => path.input({ type: 'peerDisconnected', peer })));
    path.enqueue(() => path.execute(path.core.start()));
    path.ticker = setInterval(() => path.enqueue(() => path.tick()), o.cluster.config.tickMs);
    path.ticker.unref();
    return path;
  }

  mode(): 'leader' | 'follower' | 'looking' {
    if (!this.synced) return 'looking';
    return this.role === 'leading' ? 'leader' : 'follower';
  }

  get serving(): boolean {
    return this.synced && !this.stopped;
  }

  get expiresSessions(): boolean {
    return this.synced && this.role === 'leading';
  }

  get depth(): number {
    return this.pending.size;
  }

  /** For the admin view and 4lw: who leads, in which epoch. */
  quorumState(): { role: string; leaderId: number | undefined; epoch: number; synced: boolean } {
    return { role: this.role, leaderId: this.leaderId, epoch: this.epoch, synced: this.synced };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    await Promise.all([this.quorumLinks.stop(), this.electionLinks.stop()]);
  }

  // ---- the client-facing side ---------------------------------------------------------------

  submit(origin: WriteOrigin, request: WriteRequest, done: (result: ApplyResult) => void): void {
    const key = keyOf(origin.sessionId, origin.cxid);
    this.pending.set(key, done);
    this.queueOf(origin.sessionId).push({ kind: 'write', key });
    this.enqueue(() => {
      if (!this.synced) return this.failAll('no synced leader');
      if (this.role === 'leading') return this.proposeWrite(origin, request);
      const payload = encodeNote({ k: 'write', sessionId: origin.sessionId, cxid: origin.cxid, authIds: [...origin.authIds], request });
      return this.input({ type: 'forward', payload });
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
      return this.input({ type: 'forward', payload: encodeNote({ k: 'sync', nonce: entry.nonce }) });
    });
  }

  touched(sessionId: bigint): void {
    if (this.role !== 'leading') this.touchedIds.add(sessionId);
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
    const applied = Number(this.o.state().lastProcessedZxid);
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
    if (this.pending.size > 0 || this.queues.size > 0) this.o.logger.warn('dropping client requests in flight', { why, pending: this.pending.size });
    this.pending.clear();
    this.queues.clear();
    this.o.dropClients();
  }

  // ---- the job loop --------------------------------------------------------------------------

  private enqueue(job: () => Promise<void> | void): void {
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
      this.o.fatal(e as Error);
    } finally {
      this.running = false;
    }
  }

  private input(input: ZabInput): Promise<void> {
    return this.execute(this.core.step(input));
  }

  private async tick(): Promise<void> {
    await this.input({ type: 'tick' });
    if (this.synced && this.role === 'following' && this.touchedIds.size > 0) {
      const sessionIds = [...this.touchedIds];
      this.touchedIds.clear();
      await this.input({ type: 'forward', payload: encodeNote({ k: 'touch', sessionIds }) });
    }
  }

  private async onPeerMessage(from: number, bytes: Buffer): Promise<void> {
    let msg: ZabMessage;
    try {
      msg = decodeMessage(bytes);
    } catch (e) {
      this.o.logger.warn('dropping a malformed peer message', { from, error: (e as Error).message });
      return;
    }
    await this.input({ type: 'message', from, msg });
  }

  private async proposeWrite(origin: WriteOrigin, request: WriteRequest): Promise<void> {
    const zxid = this.core.nextProposalZxid();
    if (zxid === undefined) return this.failAll('this leader cannot propose now');
    const txn = this.o.state().prep(request, { zxid: BigInt(zxid), timeMs: BigInt(Date.now()), sessionId: origin.sessionId, authIds: origin.authIds, cxid: origin.cxid });
    const actions = this.core.step({ type: 'propose', payload: encodeTxn(txn) });
    const outcome = actions.find((a) => a.type === 'proposed' || a.type === 'rejected');
    if (outcome?.type === 'proposed' && outcome.zxid !== zxid) throw new Error(`the core proposed 0x${outcome.zxid.toString(16)}, prep used 0x${zxid.toString(16)}`);
    await this.execute(actions);
  }

  private async execute(actions: readonly ZabAction[]): Promise<void> {
    for (const a of actions) {
      switch (a.type) {
        case 'persistEpoch':
          await this.o.dataDir.writeEpoch(a.name, a.value);
          break;
        case 'truncateLog':
          this.flushGeneration++;
          if (this.log.lastZxid > BigInt(a.afterZxid)) await this.log.truncateAfter(BigInt(a.afterZxid));
          break;
        case 'installSnapshot':
          await this.installSnapshot(a.zxid, a.bytes, a.entries);
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
        case 'requestSnapshot': {
          const state = this.o.state();
          const peer = a.peer;
          const zxid = Number(state.lastProcessedZxid);
          const bytes = serializeState(state);
          this.enqueue(() => this.input({ type: 'snapshot', peer, zxid, bytes }));
          break;
        }
        case 'role':
          this.onRole(a.role, a.leaderId, a.epoch, a.synced);
          break;
        case 'rejected':
          this.failAll(`request rejected: ${a.reason}`);
          break;
        case 'forwarded':
          await this.onForwarded(a.from, a.payload);
          break;
        case 'opaque':
          this.onNote(decodeNote<LeaderNote>(a.payload));
          break;
        case 'proposed':
          break;
      }
    }
  }

  private append(entries: readonly LogEntry[]): void {
    for (const e of entries) this.log.append(BigInt(e.zxid), e.payload);
    const upToZxid = entries.at(-1)!.zxid;
    const generation = this.flushGeneration;
    this.log.flush().then(
      () => {
        if (generation === this.flushGeneration) this.enqueue(() => this.input({ type: 'persisted', upToZxid }));
      },
      (e: unknown) => this.o.fatal(e as Error),
    );
  }

  private async installSnapshot(zxid: number, bytes: Buffer, entries: readonly LogEntry[]): Promise<void> {
    this.flushGeneration++;
    const next = deserializeState(bytes, this.o.state().options);
    const z = BigInt(zxid);
    await this.o.dataDir.writeSnapshot(z, bytes);
    if (this.log.lastZxid > z) await this.log.truncateAfter(z);
    if (this.log.lastZxid < z) {
      await this.log.flush();
      await this.log.resetTo(z);
    }
    for (const e of entries) this.log.append(BigInt(e.zxid), e.payload);
    await this.log.flush();
    this.o.replaceState(next);
    this.o.logger.info('installed a snapshot from the leader', { zxid: `0x${zxid.toString(16)}`, entries: entries.length });
  }

  private applyEntries(entries: readonly LogEntry[]): void {
    const touchedSessions = new Set<bigint>();
    for (const e of entries) {
      const result = this.o.state().apply(decodeTxn(e.payload));
      this.o.hooks.applied(result);
      const key = keyOf(result.sessionId, result.cxid);
      const done = this.pending.get(key);
      if (done) {
        this.pending.delete(key);
        const q = this.queues.get(result.sessionId);
        const i = q?.findIndex((x) => x.kind === 'write' && x.key === key) ?? -1;
        if (q && i >= 0) q.splice(i, 1);
        done(result);
      }
      touchedSessions.add(result.sessionId);
    }
    for (const id of this.queues.keys()) touchedSessions.add(id);
    for (const id of touchedSessions) this.drain(id);
    this.commitsSinceSnapshot += entries.length;
    if (this.commitsSinceSnapshot >= this.o.server.snapCount) void this.snapshot();
  }

  private async snapshot(): Promise<void> {
    if (this.snapshotting) return;
    this.snapshotting = true;
    this.commitsSinceSnapshot = 0;
    try {
      const state = this.o.state();
      const zxid = state.lastProcessedZxid;
      await this.o.dataDir.writeSnapshot(zxid, serializeState(state));
      this.enqueue(() => this.input({ type: 'snapshotInstalled', zxid: Number(zxid) }));
      this.enqueue(async () => {
        await this.o.dataDir.purge(this.o.server.snapRetain);
      });
    } catch (e) {
      this.o.logger.error('snapshot failed (the log still holds everything)', { error: (e as Error).message });
    } finally {
      this.snapshotting = false;
    }
  }

  private onRole(role: 'leading' | 'following' | 'looking', leaderId: number | undefined, epoch: number, synced: boolean): void {
    const wasServing = this.synced;
    const changed = role !== this.role || leaderId !== this.leaderId;
    this.role = role;
    this.leaderId = leaderId;
    this.epoch = epoch;
    this.synced = synced && role !== 'looking';
    if (wasServing && (!this.synced || changed)) this.failAll(`role is now ${role}`);
    if (!wasServing && this.synced) {
      this.o.logger.info(role === 'leading' ? 'leading' : 'following', { leader: leaderId, epoch });
      if (role === 'leading') this.o.becameLeader();
    } else if (!this.synced) {
      this.o.logger.info('role', { role, leader: leaderId, epoch });
    }
  }

  private async onForwarded(from: number, payload: Buffer): Promise<void> {
    let note: Forwarded;
    try {
      note = decodeNote<Forwarded>(payload);
    } catch {
      this.o.logger.warn('dropping a malformed forwarded request', { from });
      return;
    }
    if (note.k === 'touch') this.o.touchRemote(note.sessionIds);
    else if (note.k === 'sync') {
      const reply: LeaderNote = { k: 'synced', nonce: note.nonce, zxid: this.core.log.lastZxid };
      await this.input({ type: 'sendOpaque', to: from, payload: encodeNote(reply) });
    } else if (this.role === 'leading') {
      await this.proposeWrite({ sessionId: note.sessionId, cxid: note.cxid, authIds: note.authIds }, note.request);
    }
  }

  private onNote(note: LeaderNote): void {
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
