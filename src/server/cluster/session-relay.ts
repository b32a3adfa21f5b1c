/**
 * Sessions across a cluster: who owns each one, and how the leader learns what its owner saw.
 *
 * The leader alone expires sessions, but a follower answers the clients connected to it. So
 * that "a client that heard from a server within its timeout is never expired" holds across
 * servers (ZooKeeper's followers can answer a client whose session the leader is expiring):
 *   - every session has an owner, the server its client talks to; the leader takes writes for
 *     it only from the owner (ZOOKEEPER-417: SESSIONMOVED otherwise);
 *   - a client reattaching elsewhere is revalidated by the leader, which moves the owner and
 *     holds the session until the old owner's lease (what it may still answer) has run out;
 *   - before expiring a session a follower owns, the leader asks it how long the session has
 *     been idle there; the owner answers and, if idle for the whole timeout, cuts the client
 *     at once, so no answer of its can follow the expiry. An owner the leader cannot reach
 *     answers nobody after its last granted lease, so the session is held until then.
 *   - a new leader knows no owners: it holds every session for a follower lease first (the old
 *     leader's followers may answer until then; see zab/leader.ts).
 * Touches from any follower keep active sessions alive without questions.
 */
import type { Timer } from '../node/clock.js';
import type { NodeServices, WritePath } from '../node/write-path.js';
import { OpCode } from '../../protocol/constants.js';
import type { WriteRequest } from '../tree/types.js';
import type { Forwarded, LeaderNote } from './forwarding.js';
import type { LeaseClock } from './lease-clock.js';

type OwnerAnswer = Parameters<Parameters<WritePath['askOwner']>[2]>[0];

export interface RelayOptions {
  node: NodeServices;
  leases: LeaseClock;
  myId: number;
  /** How long a new leader holds every session (the followers' lease length). */
  unknownOwnerHoldMs: number;
  /** An idle query unanswered this long is asked again at the next expiry check. */
  queryTimeoutMs: number;
  toLeader(note: Forwarded): void;
  toFollower(peer: number, note: LeaderNote): void;
  isSyncedFollower(peer: number): boolean;
}

interface Query {
  owner: number;
  sessionId: bigint;
  done: (a: OwnerAnswer) => void;
  timer: Timer;
}

export class SessionRelay {
  private nonce = 0;
  /** Sessions active here since the last batch, with the monotonic time of their last activity. */
  private touchedIds = new Map<bigint, number>();
  private readonly revalidations = new Map<number, (live: boolean) => void>();
  private readonly queries = new Map<number, Query>();

  constructor(private readonly o: RelayOptions) {}

  private get now(): number {
    return this.o.node.tracker.now();
  }

  // ---- follower side --------------------------------------------------------------------------

  touched(sessionId: bigint): void {
    this.touchedIds.set(sessionId, this.now);
  }

  /** Once a tick: the sessions active here since the last batch. */
  flushTouches(): void {
    if (this.touchedIds.size === 0) return;
    const now = this.now;
    const sessionIds = [...this.touchedIds.keys()];
    const idleMs = [...this.touchedIds.values()].map((at) => Math.max(0, Math.round(now - at)));
    this.touchedIds = new Map();
    this.o.toLeader({ k: 'touch', sessionIds, idleMs });
  }

  revalidateVia(sessionId: bigint, timeoutMs: number, done: (live: boolean) => void): void {
    const nonce = ++this.nonce;
    this.revalidations.set(nonce, done);
    this.o.toLeader({ k: 'revalidate', nonce, sessionId, timeoutMs });
  }

  onLeaderNote(note: LeaderNote): void {
    if (note.k === 'revalidated') {
      const done = this.revalidations.get(note.nonce);
      this.revalidations.delete(note.nonce);
      done?.(note.live);
    } else if (note.k === 'idleQuery') {
      const idle = this.o.node.idleHere(note.sessionId, note.timeoutMs);
      this.o.toLeader({ k: 'idle', nonce: note.nonce, sessionId: note.sessionId, idleMs: Number.isFinite(idle) ? idle : null });
    }
  }

  // ---- leader side ----------------------------------------------------------------------------

  /** A newly established leader: no owner is known; hold every session for a follower lease. */
  becameLeader(): void {
    const { tracker, state } = { tracker: this.o.node.tracker, state: this.o.node.state() };
    const holdUntil = this.now + this.o.unknownOwnerHoldMs;
    for (const [id, info] of state.sessions) {
      tracker.add(id, info.timeoutMs, holdUntil);
      tracker.setOwner(id, undefined);
    }
  }

  /** Moves `sessionId` to `owner` if it is alive; false if it expired or is closing. */
  revalidateAt(owner: number, sessionId: bigint, timeoutMs: number): boolean {
    const { tracker } = this.o.node;
    const state = this.o.node.state();
    if (!state.sessionExists(sessionId) || state.sessionIsClosing(sessionId) || !tracker.isActive(sessionId)) return false;
    this.moveOwner(sessionId, owner);
    tracker.setTimeout(sessionId, timeoutMs);
    tracker.touch(sessionId, this.now);
    return true;
  }

  private moveOwner(sessionId: bigint, owner: number): void {
    const { tracker } = this.o.node;
    const old = tracker.ownerOf(sessionId);
    if (old === owner) return;
    // The old owner may still answer this client until its lease runs out: hold the session.
    if (old !== undefined && old !== this.o.myId) tracker.touch(sessionId, this.o.leases.grantedUntil(old));
    if (old === this.o.myId) this.o.node.sessionMovedAway(sessionId);
    tracker.setOwner(sessionId, owner);
  }

  /**
   * Leader, before prepping a write of `sessionId` that arrived through server `from`: true when
   * the session belongs to another server (the write is answered SESSIONMOVED). A createSession
   * makes `from` the owner; a session with no known owner (after a leader change) is adopted.
   */
  checkOwner(sessionId: bigint, from: number, request: WriteRequest): boolean {
    const { tracker } = this.o.node;
    if (request.op === OpCode.createSession) {
      tracker.add(sessionId, request.timeoutMs, this.now, from);
      tracker.setOwner(sessionId, from);
      return false;
    }
    const owner = tracker.ownerOf(sessionId);
    if (owner === undefined && tracker.has(sessionId)) tracker.setOwner(sessionId, from);
    else if (owner !== undefined && owner !== from) return true;
    tracker.touch(sessionId, this.now);
    return false;
  }

  /**
   * Touches reported by `from`. Every server's count, owner or not: a client active anywhere is
   * alive. (The owner can be stale: a connect the client had already given up on, processed
   * late by a server that was paused, moves the session there while the client talks to
   * another server. Writes from the other server then get SESSIONMOVED and the client
   * reattaches; its reads and pings must not let the session expire meanwhile. Found by the
   * simulator, seed 124.)
   */
  touchFrom(_from: number, sessionIds: readonly bigint[], idleMs?: readonly number[]): void {
    const { tracker } = this.o.node;
    const now = this.now;
    // Receipt time minus the idle time at sending is never earlier than the activity itself.
    sessionIds.forEach((id, i) => tracker.touch(id, now - Math.max(0, idleMs?.[i] ?? 0)));
  }

  onForwarded(from: number, note: Forwarded): void {
    switch (note.k) {
      case 'touch':
        return this.touchFrom(from, note.sessionIds, note.idleMs);
      case 'revalidate': {
        const live = this.revalidateAt(from, note.sessionId, note.timeoutMs);
        return this.o.toFollower(from, { k: 'revalidated', nonce: note.nonce, live });
      }
      case 'idle': {
        const q = this.queries.get(note.nonce);
        if (!q || q.owner !== from || q.sessionId !== note.sessionId) return;
        this.queries.delete(note.nonce);
        q.timer.cancel();
        return q.done({ idleMs: note.idleMs ?? Infinity });
      }
      default:
        return;
    }
  }

  /** Asks `owner` how long `sessionId` has been idle there (see the header). */
  askOwner(owner: number, sessionId: bigint, done: (a: OwnerAnswer) => void): void {
    if (!this.o.isSyncedFollower(owner)) {
      done({ unreachable: true, holdUntilMono: this.o.leases.grantedUntil(owner) });
      return;
    }
    const nonce = ++this.nonce;
    const timer = this.o.node.clock.after(this.o.queryTimeoutMs, () => {
      if (this.queries.delete(nonce)) done('retry');
    });
    this.queries.set(nonce, { owner, sessionId, done, timer });
    const timeoutMs = this.o.node.tracker.timeoutOf(sessionId) ?? 0;
    this.o.toFollower(owner, { k: 'idleQuery', nonce, sessionId, timeoutMs });
  }

  /** Leadership changed: every question in flight is moot. */
  reset(): void {
    for (const done of this.revalidations.values()) done(false);
    this.revalidations.clear();
    for (const q of this.queries.values()) {
      q.timer.cancel();
      q.done('retry');
    }
    this.queries.clear();
    this.touchedIds.clear();
  }

  stop(): void {
    for (const q of this.queries.values()) q.timer.cancel();
    this.queries.clear();
    this.revalidations.clear();
  }
}
