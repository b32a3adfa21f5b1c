/**
 * ZabNode: the state shared by all roles and the dispatch of inputs to the role-specific step
 * functions (election.ts, leader.ts, follower.ts). It never does I/O: every effect is an action
 * appended to the batch returned by `step`.
 */
import { startElection, lookingTick, onNotification, type LookingState } from './election.js';
import { invariant } from './errors.js';
import { followerPersisted, followerRetry, followerTick, forwardRequest, onLeaderMessage, startFollowing, type FollowerState } from './follower.js';
import { leaderNextZxid, leaderPeerConnected, leaderOnSnapshotChunk, leaderOnSnapshotOpened, leaderPersisted, leaderSnapPin, leaderPropose, leaderSendOpaque, leaderTick, onFollowerMessage, onFollowerDisconnected, onStale, startLeading, endSnapStream, type LeaderState } from './leader.js';
import { MAX_SNAP_CHUNK_BYTES } from './codec.js';
import { MemLog } from './log.js';
import { FOLLOWER_MESSAGES, LEADER_MESSAGES, type NotificationMsg, type PeerState, type Vote, type ZabMessage } from './messages.js';
import { DURABLE_ACTIONS, type EpochName, type LogEntry, type Role, type ZabAction, type ZabConfig, type ZabDurableState, type ZabInput } from './types.js';
import { quorumSize } from './vote.js';
import { formatZxid, MAX_COUNTER, MAX_EPOCH } from './zxid.js';

export interface ResolvedConfig extends Required<ZabConfig> {}

export class ZabNode {
  readonly cfg: ResolvedConfig;
  readonly myId: number;
  readonly voters: ReadonlySet<number>;
  readonly quorum: number;

  acceptedEpoch: number;
  currentEpoch: number;
  readonly log: MemLog;
  /** The driver reported the log durable up to here. */
  durableZxid: number;
  /** Committed and handed to the driver up to here. */
  commitZxid: number;
  /** Ticks seen. */
  now = 0;

  role: Role = 'looking';
  /** Election round (FLE logicalclock). */
  round = 0;
  /** The vote this server stands by: its proposal while looking, the decided one after. */
  vote: Vote;
  looking: LookingState | null = null;
  leader: LeaderState | null = null;
  follower: FollowerState | null = null;
  /** Counters for follower attempts and leader sessions; unique within this incarnation. */
  attemptSeq = 0;
  sessionSeq = 0;

  /** Voters whose quorum link is up (peerConnected/peerDisconnected): an election needs no
   * finalize wait once all of them agree. */
  readonly reachable = new Set<number>();
  /** Tick of the last STALE reply per peer: one per tick is enough. */
  private readonly staleSentAt = new Map<number, number>();
  private out: ZabAction[] = [];
  private stepping = false;

  constructor(config: ZabConfig, durable: ZabDurableState) {
    const peers = [...new Set(config.peers)];
    invariant(peers.includes(config.myId), 'myId must be one of peers');
    invariant(peers.every((p) => Number.isInteger(p) && p >= 0 && p < 0x1_0000_0000), 'peer ids must be u32');
    invariant(config.initLimit >= 1 && config.electionFinalizeTicks >= 0, 'limits must be positive');
    this.cfg = {
      electionMaxBackoffTicks: 8,
      zxidCounterLimit: MAX_COUNTER,
      followerLeaseTicks: 3,
      snapChunkBytes: 256 * 1024,
      snapWindowBytes: 1024 * 1024,
      maxSnapshotBytes: 2 ** 31,
      ...config,
      peers,
    };
    invariant(this.cfg.syncLimit >= 2, 'syncLimit must be at least 2 (the leader lease is syncLimit - 1 ticks)');
    invariant(this.cfg.followerLeaseTicks >= 1, 'followerLeaseTicks must be positive');
    invariant(Number.isInteger(this.cfg.snapChunkBytes) && this.cfg.snapChunkBytes >= 1 && this.cfg.snapChunkBytes <= MAX_SNAP_CHUNK_BYTES, () => `snapChunkBytes must be 1..${MAX_SNAP_CHUNK_BYTES}`);
    invariant(this.cfg.snapWindowBytes >= this.cfg.snapChunkBytes, 'snapWindowBytes must hold at least one chunk');
    invariant(this.cfg.maxSnapshotBytes >= 1, 'maxSnapshotBytes must be positive');
    invariant(this.cfg.zxidCounterLimit >= 2 && this.cfg.zxidCounterLimit <= MAX_COUNTER, 'zxidCounterLimit out of range');
    this.myId = config.myId;
    this.voters = new Set(peers);
    this.quorum = quorumSize(peers.length);
    invariant(durable.currentEpoch <= durable.acceptedEpoch, 'currentEpoch > acceptedEpoch on disk');
    invariant(durable.acceptedEpoch <= MAX_EPOCH, 'acceptedEpoch out of range');
    this.acceptedEpoch = durable.acceptedEpoch;
    this.currentEpoch = durable.currentEpoch;
    this.log = new MemLog(durable.snapshotZxid, durable.log);
    this.durableZxid = this.log.lastZxid;
    this.commitZxid = durable.snapshotZxid;
    this.vote = this.selfVote();
  }

  /**
   * Leader in broadcast: the zxid the next `propose` will be given, so the driver can prep the
   * txn (which embeds its zxid) before proposing it. Undefined when a propose would be rejected.
   */
  nextProposalZxid(): number | undefined {
    return this.role === 'leading' ? leaderNextZxid(this) : undefined;
  }

  /** Start (or restart) this server: it begins by looking for a leader. */
  start(): ZabAction[] {
    return this.run(() => this.becomeLooking('start'));
  }

  /** Feed one input; returns the actions the driver must execute in order. */
  step(input: ZabInput): ZabAction[] {
    return this.run(() => this.dispatch(input));
  }

  private run(fn: () => void): ZabAction[] {
    invariant(!this.stepping, 'step() is not re-entrant');
    this.stepping = true;
    try {
      fn();
      this.checkInvariants();
    } finally {
      this.stepping = false;
    }
    const batch = this.out;
    this.out = [];
    // Durable writes first, then sends, then the rest; each group keeps its order. Nothing the
    // core sends ever needs to wait for a later durable write, and a commit never precedes the
    // truncation/snapshot it depends on.
    const durable = batch.filter((a) => DURABLE_ACTIONS.has(a.type));
    const sends = batch.filter((a) => a.type === 'send');
    const rest = batch.filter((a) => a.type !== 'send' && !DURABLE_ACTIONS.has(a.type));
    return [...durable, ...sends, ...rest];
  }

  private dispatch(input: ZabInput): void {
    switch (input.type) {
      case 'tick':
        this.now++;
        if (this.role === 'looking') lookingTick(this);
        else if (this.role === 'leading') leaderTick(this);
        else followerTick(this);
        return;
      case 'message':
        return this.onMessage(input.from, input.msg);
      case 'persisted': {
        const upTo = Math.min(input.upToZxid, this.log.lastZxid);
        if (upTo <= this.durableZxid) return;
        this.durableZxid = upTo;
        if (this.role === 'leading') leaderPersisted(this);
        else if (this.role === 'following') followerPersisted(this);
        return;
      }
      case 'propose':
        if (this.role !== 'leading') this.emit({ type: 'rejected', reason: 'not-leader', payload: input.payload });
        else leaderPropose(this, input.payload);
        return;
      case 'snapshotOpened':
        if (this.role === 'leading') leaderOnSnapshotOpened(this, input.peer, input.stream, input.zxid);
        else this.emit({ type: 'closeSnapshot', peer: input.peer, stream: input.stream });
        return;
      case 'snapshotChunk':
        if (this.role === 'leading') leaderOnSnapshotChunk(this, input.peer, input.stream, input.bytes, input.last);
        else this.emit({ type: 'closeSnapshot', peer: input.peer, stream: input.stream });
        return;
      case 'snapshotInstalled':
        invariant(input.zxid <= this.commitZxid, () => `snapshot at ${formatZxid(input.zxid)} beyond commit ${formatZxid(this.commitZxid)}`);
        // A SNAP being streamed needs the log from its image on (the proposals that follow it).
        this.log.compact(Math.min(input.zxid, this.role === 'leading' ? leaderSnapPin(this) : Infinity));
        return;
      case 'forward':
        if (this.role === 'leading') this.emit({ type: 'forwarded', from: this.myId, payload: input.payload });
        else forwardRequest(this, input.payload);
        return;
      case 'sendOpaque':
        if (this.role === 'leading') leaderSendOpaque(this, input.to, input.payload);
        return;
      case 'peerConnected':
        if (!this.voters.has(input.peer) || input.peer === this.myId) return;
        this.reachable.add(input.peer);
        if (this.role === 'looking') this.send(input.peer, this.notification());
        // What went to this peer while our link to it was down was dropped: the discovery step
        // waiting on it goes again now rather than at the next tick.
        else if (this.role === 'following' && this.follower?.leaderId === input.peer) followerRetry(this);
        else if (this.role === 'leading') leaderPeerConnected(this, input.peer);
        return;
      case 'electionLinkUp':
        // Our vote (looking) or the leader we are established with, to a peer we could not send
        // to until now: a restarted peer asked while our link to it was still down, and would
        // otherwise wait for its next re-notification, a tick or more away.
        if (this.voters.has(input.peer) && input.peer !== this.myId) this.send(input.peer, this.notification());
        return;
      case 'peerDisconnected':
        this.reachable.delete(input.peer);
        if (this.role === 'following' && this.follower?.leaderId === input.peer) this.becomeLooking(`lost connection to leader ${input.peer}`);
        else if (this.role === 'leading') onFollowerDisconnected(this, input.peer);
        return;
    }
  }

  private onMessage(from: number, msg: ZabMessage): void {
    if (from === this.myId || !this.voters.has(from)) return;
    if (msg.type === 'notification') {
      if (this.role === 'looking') return onNotification(this, from, msg);
      // Out of the election: tell a looking peer who leads, so a restarted server joins quickly.
      if (msg.state === 'looking') this.send(from, this.notification());
      // Our chosen leader has just decided too: register with it now, not at the next tick.
      else if (msg.state === 'leading' && this.follower?.leaderId === from && this.follower.phase === 'discovery') followerRetry(this);
      return;
    }
    if (msg.type === 'stale') {
      if (this.role === 'leading') onStale(this, from, msg.epoch);
      return;
    }
    if (LEADER_MESSAGES.has(msg.type)) {
      if (this.role === 'following' && this.follower?.leaderId === from) return onLeaderMessage(this, from, msg);
      // A leader from an epoch we have moved past: tell it, so a paused or partitioned leader
      // learns it has been replaced instead of waiting for its own quorum check.
      const epoch = (msg as { epoch: number }).epoch;
      if (epoch < this.acceptedEpoch && this.staleSentAt.get(from) !== this.now) {
        this.staleSentAt.set(from, this.now);
        this.send(from, { type: 'stale', epoch: this.acceptedEpoch });
      }
      return;
    }
    if (FOLLOWER_MESSAGES.has(msg.type) && this.role === 'leading') return onFollowerMessage(this, from, msg);
  }

  // ---- helpers for the role modules ----

  emit(a: ZabAction): void {
    this.out.push(a);
  }

  send(to: number, msg: ZabMessage): void {
    invariant(to !== this.myId, 'send to self');
    this.out.push({ type: 'send', to, msg });
  }

  otherVoters(): number[] {
    return this.cfg.peers.filter((p) => p !== this.myId);
  }

  selfVote(): Vote {
    return { leader: this.myId, zxid: this.log.lastZxid, peerEpoch: this.currentEpoch };
  }

  notification(): NotificationMsg {
    const state: PeerState = this.role;
    return { type: 'notification', state, round: this.round, ...this.vote };
  }

  persistEpoch(name: EpochName, value: number): void {
    if (name === 'acceptedEpoch') {
      invariant(value >= this.acceptedEpoch, 'acceptedEpoch never decreases');
      if (value === this.acceptedEpoch) return;
      this.acceptedEpoch = value;
    } else {
      invariant(value >= this.currentEpoch && value <= this.acceptedEpoch, 'currentEpoch in [currentEpoch, acceptedEpoch]');
      if (value === this.currentEpoch) return;
      this.currentEpoch = value;
    }
    this.emit({ type: 'persistEpoch', name, value });
  }

  appendLocal(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.log.append(e);
    this.emit({ type: 'appendLog', entries });
  }

  /** Discard entries after `after`. Never below what this server has committed: that would undo
   * applied state (and means the leader's TRUNC point is wrong, ZOOKEEPER-1156). */
  truncateLocal(after: number): void {
    invariant(after >= this.commitZxid, () => `truncate to ${formatZxid(after)} below commit ${formatZxid(this.commitZxid)}`);
    this.log.truncateAfter(after);
    this.emit({ type: 'truncateLog', afterZxid: after });
    // Contract: the driver leaves what remains durable before it returns from truncateLog.
    this.durableZxid = this.log.lastZxid;
  }

  /** Replace state machine and log by a snapshot (the `chunks` the driver took) plus the entries that follow it, atomically. */
  installSnapshotLocal(zxid: number, chunks: number, bytes: number, entries: readonly LogEntry[]): void {
    this.log.reset(zxid);
    for (const e of entries) this.log.append(e);
    this.emit({ type: 'installSnapshot', zxid, chunks, bytes, entries });
    this.durableZxid = this.log.lastZxid;
    this.commitZxid = zxid;
  }

  /** Commit (hand to the state machine) everything up to `zxid`, in order, once. */
  commitTo(zxid: number): void {
    const target = Math.min(zxid, this.log.lastZxid);
    if (target <= this.commitZxid) return;
    const entries = this.log.range(this.commitZxid, target);
    const last = entries[entries.length - 1];
    if (last === undefined) return;
    this.commitZxid = last.zxid;
    this.emit({ type: 'commit', upToZxid: last.zxid, entries });
  }

  becomeLooking(_reason: string): void {
    // Abandoning a leader (or followers) resets those links, so the other end learns it now and
    // not only after its own timeout: a leader that keeps counting a follower which already
    // left would serve on a quorum it no longer has.
    if (this.follower !== null) this.emit({ type: 'disconnect', peer: this.follower.leaderId });
    if (this.follower?.pendingSnap) this.emit({ type: 'snapshotDropped', zxid: this.follower.pendingSnap.zxid });
    if (this.leader !== null) {
      for (const h of this.leader.handlers.values()) {
        endSnapStream(this, h);
        this.emit({ type: 'disconnect', peer: h.sid });
      }
    }
    this.leader = null;
    this.follower = null;
    this.role = 'looking';
    this.emit({ type: 'role', role: 'looking', epoch: this.currentEpoch, synced: false });
    startElection(this);
  }

  /** Election outcome. */
  decide(vote: Vote, round: number): void {
    this.looking = null;
    this.vote = vote;
    this.round = round;
    if (vote.leader === this.myId) {
      this.role = 'leading';
      this.emit({ type: 'role', role: 'leading', leaderId: this.myId, epoch: this.acceptedEpoch, synced: false });
      // Tell everyone at once: followers that decided before us register right away.
      const n = this.notification();
      for (const p of this.otherVoters()) this.send(p, n);
      startLeading(this);
    } else {
      this.role = 'following';
      this.emit({ type: 'role', role: 'following', leaderId: vote.leader, epoch: this.acceptedEpoch, synced: false });
      startFollowing(this, vote.leader);
    }
  }

  private checkInvariants(): void {
    invariant(this.currentEpoch <= this.acceptedEpoch, 'currentEpoch <= acceptedEpoch');
    invariant(this.commitZxid <= this.log.lastZxid, () => `commit ${formatZxid(this.commitZxid)} beyond log end ${formatZxid(this.log.lastZxid)}`);
    invariant(this.log.base <= this.commitZxid, 'log base <= commit');
    invariant(this.durableZxid <= this.log.lastZxid, 'durable <= log end');
    invariant((this.role === 'looking') === (this.looking !== null), 'looking state iff looking');
    invariant((this.role === 'leading') === (this.leader !== null), 'leader state iff leading');
    invariant((this.role === 'following') === (this.follower !== null), 'follower state iff following');
  }
}
