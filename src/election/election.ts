/**
 * The ZooKeeper leader-election recipe: every candidate creates an EPHEMERAL_SEQUENTIAL
 * child of the election path; the lowest sequence leads; every other candidate watches
 * only its immediate predecessor, so a departure wakes exactly one candidate.
 *
 * Safety beyond the textbook recipe:
 * - a create whose reply was lost is recovered by finding our node by its uuid and
 *   adopting it only if the current session owns it (otherwise it is deleted);
 * - before declaring leadership we re-read our node and check its owner is the current
 *   session (the two-leaders bug Curator fixed in CURATOR-696);
 * - a leader learns it is no longer safe from the session's loss deadline, measured on a
 *   monotonic clock from the last confirmed contact, before the server can expire it.
 *
 * All state changes happen in one serialized loop (`run`); watches and session events
 * only mark work as due, so no two checks interleave.
 *
 * Named handoff and priority (handoff.ts has the protocol and its crash-safety argument):
 * - `resign({ to })` and requests from any client (`requestHandoff`, `zk-elect handoff`)
 *   give the lead to one named candidate through a *seat*, a node that sorts first;
 * - a candidate may therefore hold several nodes: its place is its front (first) node, the
 *   others keep the queue behind them intact (deleting them would wake their successors);
 * - a front candidate that sees a zk-elect candidate of higher priority hands it the seat
 *   instead of declaring, so the higher priority leads next (equal priorities: first come);
 *   with `preempt`, such a candidate asks the current leader for the lead at once.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import { decodeCandidateData, encodeCandidateData, validateMeta, type CandidateMeta } from './candidate-data.js';
import { readCandidates, type CandidateInfo, type LeaderInfo } from './candidates.js';
import { describeAuth, electionAcl } from './auth.js';
import { createProtected, protectOwnNode } from './guard.js';
import {
  ClosedError,
  ConnectionLossError,
  HandoffError,
  InvalidArgumentError,
  LeadershipLostError,
  LeadershipWaitError,
  NotAuthorizedError,
  OperationTimeoutError,
  SessionExpiredError,
  TamperedNodeError,
  ZkElectError,
  ZooKeeperError,
} from './errors.js';
import { createOwned, markSeat, offerSeat, readSeatMarker, removeIfOurs, removeIfThere, takeSeat, type HandoffIo, type OfferOutcome } from './handoff.js';
import { decodeRequest, deferTo, encodeRequest, groupCandidates, mayDeclareWith, nextSeatValue, type SeatMarker } from './handoff-plan.js';
import {
  ancestry,
  candidatePrefix,
  grantNode,
  isOwnedByUuid,
  joinPath,
  MAX_PRIORITY,
  orderCandidates,
  parseNode,
  REQUEST_NODE,
  seatName,
  validatePath,
  type OrderedChild,
} from './names.js';
import { ZkSession, type SessionEvents, type SessionOptions } from './session.js';
import { ZkCode, type WatchEvent, type ZkStat } from './zk-types.js';

export type Role = 'idle' | 'joining' | 'follower' | 'leader';
export type LossReason = 'deadline' | 'session-expired' | 'node-deleted';

export interface ElectionEvents {
  elected: [leader: LeaderInfo];
  following: [info: { self: CandidateInfo; predecessor: CandidateInfo; leader: CandidateInfo | undefined; position: number }];
  /** Contact with the ensemble is in doubt. A leader must stop acting until `reinstated`. */
  suspended: [info: { role: Role; sinceContactMs: number; reason: 'disconnected' | 'unconfirmed' }];
  /** Contact confirmed again with the same session; `leader` is set when we still lead. */
  reinstated: [info: { role: Role; leader: LeaderInfo | undefined }];
  /** Our candidacy (and leadership, if we had it) ended. */
  lost: [info: { reason: LossReason; wasLeader: boolean; token: bigint | undefined }];
  /** We gave up our place by `resign()`, or the lead by a named handoff (`to`: the target's node). */
  resigned: [info: { wasLeader: boolean; requeued: boolean; to?: string }];
  /** A named handoff we offered ended: the target took the seat (`taken`), or it did not. */
  handoff: [info: HandoffInfo];
  error: [error: Error];
}

export interface HandoffInfo {
  /** The target's node (what we granted to), or the name we were given when no candidate matched. */
  readonly to: string;
  /** The target's id, when it could be read. */
  readonly id?: string;
  readonly outcome: OfferOutcome | 'no-target';
  /** `resign`: resign({ to }); `request`: a handoff request; `priority`: we gave way to a higher priority. */
  readonly reason: 'resign' | 'request' | 'priority';
}

export interface ElectionOptions {
  /** The election's znode; parents are created when missing. Default `/election`. */
  path?: string;
  /** This candidate's id, stored as its node's data. Default `<hostname>-<pid>`. */
  id?: string;
  /** Re-enter after losing our node (expiry or deletion). Default true. */
  rejoin?: boolean;
  logger?: Logger;
  /** The uuid in our node names. Default: a random UUID; give one to make names reproducible. */
  uuid?: string;
  /**
   * Higher priorities lead first: a candidate at the front gives way to any zk-elect candidate
   * of higher priority. 0 to 999999; default 0 (kazoo's candidates count as 0). Equal
   * priorities keep first-come order.
   */
  priority?: number;
  /** With a priority above the leader's, ask it at once to hand over to us. Default false. */
  preempt?: boolean;
  /** JSON attached to our node (at most 4 KiB): `status`, `watch --json` and the dashboard show it. */
  meta?: CandidateMeta;
  /** How long a named handoff waits for its target before the queue decides. Default: the session timeout. */
  handoffTimeoutMs?: number;
  /**
   * Called when a named handoff takes the lead from us, after `resigned` and before the target
   * is offered the lead, so the work can stop before anyone else starts it (the target waits
   * for it; keep it bounded). `zk-elect run` stops its command here.
   */
  beforeHandover?: () => Promise<void>;
}

/** A resign({ to }) waiting for the loop. */
interface PendingHandoff {
  readonly to: string;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}



function isTransient(e: unknown): boolean {
  return e instanceof ConnectionLossError || e instanceof OperationTimeoutError || e instanceof TamperedNodeError;
}

export class LeaderElection extends EventEmitter<ElectionEvents> implements AsyncDisposable {
  readonly path: string;
  readonly id: string;
  /** Names our nodes (`_c_<uuid>-__lock__<seq>`) so a create whose reply was lost can be found again. */
  readonly uuid: string;
  readonly priority: number;
  readonly preempt: boolean;
  readonly meta: CandidateMeta | undefined;
  private readonly rejoin: boolean;
  private readonly logger: Logger;
  private readonly handoffTimeoutMs: number | undefined;
  private readonly beforeHandover: (() => Promise<void>) | undefined;
  /** What our nodes hold: the id, or JSON with the metadata. */
  private readonly data: Buffer;

  private roleValue: Role = 'idle';
  /** Our front node: the one that decides our place. */
  private node: string | undefined;
  /** Our other nodes (a named handoff leaves them behind): they hold the queue behind them together. */
  private readonly extras = new Set<string>();
  /** Seats (full paths) this session may have created and not adopted: deleted when found ours. */
  private readonly strays = new Set<string>();
  /** A grant of ours (full path) that may still exist: we never lead until it is deleted. */
  private openGrant: string | undefined;
  /** The grant we took a seat by: deleted once we lead, which tells the grantor it is done. */
  private grantCleanup: string | undefined;
  /** The session our grant-path watch is set on. */
  private grantWatchFor: string | undefined;
  private grantDue = false;
  private requestWatchEpoch = -1;
  private requestDue = false;
  /** We created the handoff request (preempt), and delete it once answered. */
  private ownRequest = false;
  /** Fronts of targets a handoff to which failed: not chosen again by priority while they stand. */
  private readonly failedTargets = new Set<string>();
  private pendingHandoff: PendingHandoff | undefined;
  /** Bumped whenever our node or session changes, so stale watches and steps are ignored. */
  private epoch = 0;
  private leaderInfo: LeaderInfo | undefined;
  private suspendedFlag = false;
  private pendingReinstate = false;
  /** session.disconnects when the current suspension began, or -1 when a disconnect began it. */
  private disconnectsAtSuspend = -1;
  private lastFollowing = '';
  /** `<epoch> <predecessor>` while our watch on that predecessor stands (registered, not fired). */
  private watching = '';
  private wanted = false;
  private closed = false;
  private dirty = false;
  private running: Promise<void> | undefined;
  private ownsSession = false;
  /** The election path's ACL was set (or found owned by another identity) for this election. */
  private pathProtected = false;
  /** Why the loop gave up for good; `join()` throws it. */
  private fatal: Error | undefined;
  private readonly detach: Array<() => void> = [];
  private readonly closeWaiters = new Set<() => void>();

  constructor(
    readonly session: ZkSession,
    options: ElectionOptions = {},
  ) {
    super();
    this.path = validatePath(options.path ?? '/election');
    if (this.path === '/') throw new InvalidArgumentError('the election path cannot be "/"');
    this.id = options.id ?? `${hostname()}-${process.pid}`;
    if (this.id.length === 0) throw new InvalidArgumentError('the candidate id must not be empty');
    this.rejoin = options.rejoin ?? true;
    this.uuid = options.uuid ?? randomUUID();
    if (!/^[0-9a-zA-Z-]{1,64}$/.test(this.uuid)) throw new InvalidArgumentError(`the uuid must be 1-64 letters, digits or dashes, got ${JSON.stringify(this.uuid)}`);
    this.priority = options.priority ?? 0;
    if (!Number.isInteger(this.priority) || this.priority < 0 || this.priority > MAX_PRIORITY) {
      throw new InvalidArgumentError(`the priority must be a whole number from 0 to ${MAX_PRIORITY}, got ${options.priority}`);
    }
    this.preempt = options.preempt ?? false;
    this.meta = options.meta === undefined ? undefined : validateMeta(options.meta);
    this.data = encodeCandidateData({ id: this.id, meta: this.meta });
    if (options.handoffTimeoutMs !== undefined && !(Number.isFinite(options.handoffTimeoutMs) && options.handoffTimeoutMs > 0)) {
      throw new InvalidArgumentError(`handoffTimeoutMs must be a positive number of milliseconds, got ${options.handoffTimeoutMs}`);
    }
    this.handoffTimeoutMs = options.handoffTimeoutMs;
    this.beforeHandover = options.beforeHandover;
    this.logger = (options.logger ?? session.logger).child({ election: this.path, id: this.id });
    this.listen();
  }

  /** Connects a session of its own and joins; `close()` then closes that session too. */
  static async join(options: ElectionOptions & SessionOptions): Promise<LeaderElection> {
    const session = await ZkSession.connect(options);
    const election = new LeaderElection(session, options);
    election.ownsSession = true;
    try {
      await election.join();
    } catch (e) {
      await election.close();
      throw e;
    }
    return election;
  }

  get role(): Role {
    return this.roleValue;
  }

  /** True only while we lead and contact is confirmed. */
  get isLeader(): boolean {
    return this.roleValue === 'leader' && !this.suspendedFlag;
  }

  get currentLeader(): LeaderInfo | undefined {
    return this.roleValue === 'leader' ? this.leaderInfo : undefined;
  }

  /** Our node's name, once created. */
  get nodeName(): string | undefined {
    return this.node;
  }

  /** Enters the election. Resolves once our node exists and our first check ran. */
  async join(): Promise<void> {
    this.assertOpen();
    this.wanted = true;
    this.fatal = undefined;
    if (this.roleValue === 'idle') this.roleValue = 'joining';
    await this.kick();
    if (this.fatal) throw this.fatal;
  }

  /**
   * Gives up our place. With `requeue`, re-enters at the back of the queue; otherwise stays
   * out until `join()` is called again.
   *
   * With `to` (a candidate's id, uuid or node name; we must lead): a named handoff. The lead
   * passes to that candidate and nobody else is woken; we stay in the election as the next
   * in line. If the target is gone, or dies or does not answer within `handoffTimeoutMs`,
   * the queue decides: we re-enter at the back, and whoever is then first leads. Rejects
   * with HandoffError (nothing changed) when we do not lead or `to` names several candidates.
   */
  async resign(options: { requeue?: boolean; to?: string } = {}): Promise<void> {
    this.assertOpen();
    if (options.to !== undefined) {
      if (options.requeue !== undefined) throw new InvalidArgumentError('resign({ to }) keeps our place behind the new leader; requeue does not apply');
      if (typeof options.to !== 'string' || options.to.length === 0) throw new InvalidArgumentError('resign({ to }) needs a candidate id, uuid or node name');
      return this.handOver(options.to);
    }
    const requeue = options.requeue ?? false;
    this.wanted = requeue;
    await this.running;
    const wasLeader = this.roleValue === 'leader';
    // Stop leading before the node goes: a successor may be elected the moment its delete
    // commits, possibly before we hear back. (Found by the simulator: the old order left
    // isLeader true, and a suspended leader unsuspended, while the delete was in flight.)
    this.roleValue = requeue ? 'joining' : 'idle';
    this.leaderInfo = undefined;
    this.emit('resigned', { wasLeader, requeued: requeue });
    await this.leave();
    if (requeue) {
      // Our delete's reply and the successor's notification tend to arrive in the same batch of
      // I/O when candidates share a process; let that batch run first, so the successor's reads
      // reach the server before our re-entry's (on ZooKeeper a read queued behind a create
      // waits for that create's fsync).
      await new Promise<void>((resolve) => this.session.clock.soon(resolve));
      await this.kick();
    }
  }

  private handOver(to: string): Promise<void> {
    if (this.roleValue !== 'leader') return Promise.reject(new HandoffError('only the leader can hand over'));
    if (this.pendingHandoff) return Promise.reject(new HandoffError('a handoff is already in progress'));
    return new Promise<void>((resolve, reject) => {
      this.pendingHandoff = { to, resolve, reject };
      void this.kick();
    });
  }

  /** Deletes our node and stops. Idempotent; closes the session only if we opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.wanted = false;
    this.closed = true;
    this.pendingHandoff?.reject(new ClosedError('the election was closed'));
    this.pendingHandoff = undefined;
    for (const off of this.detach.splice(0)) off();
    for (const w of [...this.closeWaiters]) w();
    await this.running?.catch(() => undefined);
    const wasLeader = this.roleValue === 'leader';
    // As in resign(): not a leader any more before the node is deleted.
    this.roleValue = 'idle';
    this.leaderInfo = undefined;
    if (wasLeader) this.emit('resigned', { wasLeader, requeued: false });
    if (!this.session.isClosed) await this.leave().catch(() => undefined);
    if (this.ownsSession) await this.session.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Resolves with our leadership as soon as we hold it (and contact is confirmed). */
  waitForLeadership(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<LeaderInfo> {
    if (this.isLeader && this.leaderInfo) return Promise.resolve(this.leaderInfo);
    return new Promise<LeaderInfo>((resolve, reject) => {
      const cleanups: Array<() => void> = [];
      const done = (fn: () => void) => {
        for (const c of cleanups) c();
        fn();
      };
      const onElected = (info: LeaderInfo) => done(() => resolve(info));
      const onReinstated = (info: { leader: LeaderInfo | undefined }) => {
        if (info.leader) done(() => resolve(info.leader!));
      };
      this.on('elected', onElected);
      this.on('reinstated', onReinstated);
      cleanups.push(() => this.off('elected', onElected), () => this.off('reinstated', onReinstated));
      if (options.timeoutMs !== undefined) {
        const t = this.session.clock.after(options.timeoutMs, () => done(() => reject(new LeadershipWaitError(`not elected within ${options.timeoutMs} ms`))));
        cleanups.push(() => t.cancel());
      }
      if (options.signal) {
        const signal = options.signal;
        if (signal.aborted) return done(() => reject(new LeadershipWaitError('aborted', { cause: signal.reason })));
        const onAbort = () => done(() => reject(new LeadershipWaitError('aborted', { cause: signal.reason })));
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
      const onClosed = () => done(() => reject(new LeadershipWaitError('the election was closed')));
      this.closeWaiters.add(onClosed);
      cleanups.push(() => this.closeWaiters.delete(onClosed));
    });
  }

  /**
   * Waits for leadership, then runs `fn` with a signal that aborts the moment leadership
   * ends (loss deadline, expiry, node deletion, resign or close).
   */
  async runAsLeader<T>(
    fn: (signal: AbortSignal, leader: LeaderInfo) => Promise<T> | T,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    const leader = await this.waitForLeadership(options);
    const controller = new AbortController();
    const abort = (why: string) => controller.abort(new LeadershipLostError(`leadership ended: ${why}`));
    const onLost = (info: { reason: LossReason }) => abort(info.reason);
    const onResigned = () => abort('resigned');
    const onOuterAbort = () => abort('aborted by caller');
    this.on('lost', onLost);
    this.on('resigned', onResigned);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      return await fn(controller.signal, leader);
    } finally {
      this.off('lost', onLost);
      this.off('resigned', onResigned);
      options.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  /** Every candidate, first-come first; the first one leads. */
  candidates(): Promise<LeaderInfo[]> {
    return readCandidates(this.session, this.path);
  }

  /** The current leader as ZooKeeper sees it, or undefined when nobody stands. */
  async leader(): Promise<LeaderInfo | undefined> {
    return (await this.candidates())[0];
  }

  // ---- the serialized loop -------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('the election was closed');
  }

  /** Marks a check as due and returns when the loop has caught up. */
  private kick(): Promise<void> {
    this.dirty = true;
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    let backoffMs = 50;
    while (this.dirty && this.wanted && !this.closed && !this.session.isClosed) {
      this.dirty = false;
      try {
        await this.step();
        backoffMs = 50;
      } catch (e) {
        if (this.closed) return;
        if (e instanceof SessionExpiredError) return; // `renewed` restarts us
        if (e instanceof ZooKeeperError && e.code === ZkCode.NOAUTH && e.operation === 'create') {
          // The election path's ACL keeps us out: retrying cannot help.
          this.fatal = new NotAuthorizedError(
            `not allowed to join the election at ${this.path}: its ACL does not let this session (${describeAuth(this.session.auth)}) create candidates` +
              (this.session.auth ? '' : '; give the credentials of its owner (auth digest:USER:PASSWORD)'),
            { cause: e },
          );
          this.wanted = false;
          this.roleValue = 'idle';
          this.logger.error('cannot join', { error: this.fatal.message });
          if (this.listenerCount('error') > 0) this.emit('error', this.fatal);
          return;
        }
        if (!isTransient(e)) {
          this.logger.error('election step failed', { error: (e as Error).message });
          if (this.listenerCount('error') > 0) this.emit('error', e as Error);
        } else {
          this.logger.debug('transient failure; retrying', { error: (e as Error).message });
        }
        this.dirty = true;
        await new Promise<void>((r) => this.session.clock.after(backoffMs, r));
        backoffMs = Math.min(backoffMs * 2, 2000);
      }
    }
  }

  private async step(): Promise<void> {
    if (!this.session.isConnected) {
      // Nothing can be decided while disconnected; `restored`/`renewed` kick us again.
      return;
    }
    // Leftovers of a handoff that failed half-way go before anything is decided.
    if (this.openGrant !== undefined) {
      await removeIfOurs(this.session, this.openGrant);
      this.openGrant = undefined;
    }
    for (const seat of [...this.strays]) {
      await removeIfOurs(this.session, seat);
      this.strays.delete(seat);
    }
    if (this.grantWatchFor !== this.session.sessionId) this.watchGrant();
    const epoch = this.epoch;
    if (this.node === undefined) await this.createNode();
    if (epoch !== this.epoch && this.node === undefined) return;
    const pending = this.pendingHandoff;
    if (pending) {
      this.pendingHandoff = undefined;
      try {
        await this.resignTo(pending.to);
        pending.resolve();
      } catch (e) {
        pending.reject(e as Error);
      }
      this.dirty = true;
      return;
    }
    await this.check();
  }

  private get io(): HandoffIo {
    return { session: this.session, path: this.path, logger: this.logger };
  }

  /** Our nodes, front first as far as we know. */
  private ownNodes(): Set<string> {
    return new Set([...(this.node === undefined ? [] : [this.node]), ...this.extras]);
  }

  /** Creates our node, or adopts one a lost reply already created for this session. */
  private async createNode(): Promise<void> {
    const sessionId = this.session.sessionId;
    const children = await this.listOrCreateParents();
    if (this.session.auth && !this.pathProtected) await this.protectPath();
    const adopted: string[] = [];
    // In queue order, so the first we adopt is our front.
    for (const child of orderCandidates(children.filter((c) => isOwnedByUuid(c, this.uuid)))) {
      const childPath = joinPath(this.path, child.name);
      const stat = await this.session.exists(childPath);
      if (stat && stat.ephemeralOwner === sessionId) {
        // The create may have committed before its ACL was set: (re)apply it, whatever its aversion.
        if (this.session.auth) await this.protectNode(childPath, -1);
        adopted.push(child.name);
        this.logger.info('adopted a node of ours (a create whose reply was lost, or a place we kept)', { node: child.name });
      } else if (stat) {
        // Ours by uuid but not by session: an orphan that would block the queue.
        this.logger.warn('deleting an orphaned node of ours', { node: child.name, owner: stat.ephemeralOwner });
        await this.removeIgnoringMissing(childPath);
      }
    }
    if (adopted.length === 0) {
      const created = await this.session.create(joinPath(this.path, candidatePrefix(this.uuid, this.priority)), this.data, 'ephemeral-sequential');
      // The C binding creates every node world-open: the ACL follows at once, and a node that
      // someone changed in between is not trusted.
      if (this.session.auth) await this.protectNode(created, 0);
      adopted.push(created.slice(created.lastIndexOf('/') + 1));
      this.logger.debug('created our node', { node: adopted[0] });
    }
    this.node = adopted[0];
    this.extras.clear();
    for (const extra of adopted.slice(1)) this.extras.add(extra);
    this.epoch += 1;
    this.watchOwnNode(this.epoch);
  }

  /**
   * Gives the election path our ACL (only our identity may create or delete candidates;
   * anyone may read). A path whose ACL denies us ADMIN belongs to another identity: it is
   * left as it is, and joining tells whether we may create in it.
   */
  private async protectPath(): Promise<void> {
    try {
      await this.session.setAcl(this.path, electionAcl(this.session.auth!));
    } catch (e) {
      if (!(e instanceof ZooKeeperError && e.code === ZkCode.NOAUTH)) throw e;
      this.logger.warn('the election path has an ACL of another identity; leaving it as it is', { path: this.path });
    }
    this.pathProtected = true;
  }

  /**
   * Sets our candidate node's ACL. `aversion` 0 for a node we just created: if its ACL or its
   * data changed before this, another session touched it in the moment it was world-open,
   * and it is deleted and created again.
   */
  private async protectNode(nodePath: string, aversion: number): Promise<void> {
    try {
      await protectOwnNode(this.session, nodePath, aversion);
    } catch (e) {
      if (e instanceof TamperedNodeError) this.logger.warn('our new candidate node was changed by another session before its ACL was set; replaced', { node: nodePath, error: e.message });
      throw e;
    }
  }

  private async listOrCreateParents(): Promise<string[]> {
    try {
      return await this.session.getChildren(this.path);
    } catch (e) {
      if (!(e instanceof ZooKeeperError && e.code === ZkCode.NONODE)) throw e;
    }
    for (const p of ancestry(this.path)) {
      try {
        await this.session.create(p, Buffer.alloc(0), 'persistent');
      } catch (e) {
        if (!(e instanceof ZooKeeperError && e.code === ZkCode.NODEEXISTS)) throw e;
      }
    }
    return this.session.getChildren(this.path);
  }

  private watchOwnNode(epoch: number): void {
    const node = this.node;
    if (node === undefined) return;
    const onEvent = (event: WatchEvent) => {
      if (epoch !== this.epoch || this.closed) return;
      if (event.type === 'deleted') this.onNodeGone('node-deleted');
      else if (event.type !== 'session') this.watchOwnNode(epoch);
    };
    this.session.exists(joinPath(this.path, node), onEvent).then(
      (stat) => {
        if (stat === null && epoch === this.epoch) this.onNodeGone('node-deleted');
      },
      () => undefined, // the next check re-verifies the node anyway
    );
  }

  private async check(): Promise<void> {
    const epoch = this.epoch;
    const node = this.node!;
    // The listing and the ownership check go out as one batch. ZooKeeper answers a session's
    // requests in the order they were sent, so the server evaluates the exists() after the
    // getChildren(), exactly as if we had waited for the listing's reply before sending it:
    // the owner we see is at least as recent as the order we decide on. Waiting in between
    // only cost a round trip on every handoff.
    // The seat marker (read when we are first, for the fencing rule) travels with them too.
    const listing = this.session.getChildren(this.path);
    const ownership = this.session.exists(joinPath(this.path, node));
    const seatMarker = readSeatMarker(this.io);
    // If the listing fails first, these rejections are not ours to report.
    ownership.catch(() => undefined);
    seatMarker.catch(() => undefined);
    const ordered = orderCandidates(await listing);
    if (epoch !== this.epoch) return;
    const present = new Set(ordered.map((c) => c.name));
    if (!present.has(node)) return this.onNodeGone('node-deleted');
    for (const extra of [...this.extras]) if (!present.has(extra)) this.extras.delete(extra);
    for (const failed of [...this.failedTargets]) if (!present.has(failed)) this.failedTargets.delete(failed);
    const front = ordered.find((c) => c.name === node || this.extras.has(c.name))!;
    if (front.name !== node) {
      // One of our other nodes sorts first (two seats with one value): it is our place.
      this.extras.add(node);
      this.setFront(front.name);
      return;
    }
    // Accepting a grant writes (a seat, the marker): what was read with the listing is then stale.
    let grantTried = false;
    if (this.grantDue) {
      this.grantDue = false;
      grantTried = true;
      if (await this.acceptGrant()) return;
      if (epoch !== this.epoch) return;
    }
    const index = ordered.findIndex((c) => c.name === node);
    const self: CandidateInfo = { id: this.id, node, sequence: ordered[index]!.sequence, priority: this.priority, seat: ordered[index]!.seat, ...this.metaField() };

    if (index === 0) {
      // The ownership check and the seat marker (for a new declaration) went out with the listing.
      const [stat, marker] = await Promise.all([grantTried ? this.session.exists(joinPath(this.path, node)) : ownership, grantTried ? readSeatMarker(this.io) : seatMarker]);
      if (epoch !== this.epoch) return;
      if (stat === null || stat.ephemeralOwner !== this.session.sessionId) return this.onNodeGone('node-deleted');
      // Never declare while contact is in doubt: `restored` will run this check again.
      if (this.session.state !== 'confirmed' || !this.session.isConnected) return;
      const wasLeader = this.roleValue === 'leader';
      if (!wasLeader) {
        // A seat we took by a grant was meant for us: no giving way then.
        if (this.grantCleanup === undefined) {
          const groups = groupCandidates(ordered);
          const better = deferTo(groups, groups[0]!, this.failedTargets);
          if (better) {
            await this.offerTo(better.front, ordered, 'priority');
            return;
          }
        }
        if (!mayDeclareWith({ name: node, czxid: stat.czxid }, marker)) return this.takeOwnSeat(ordered, marker);
      }
      const info: LeaderInfo = {
        ...self,
        path: joinPath(this.path, node),
        token: BigInt(stat.czxid),
        sessionId: stat.ephemeralOwner,
        nodes: ordered.filter((c) => c.name === node || this.extras.has(c.name)).map((c) => c.name),
      };
      this.roleValue = 'leader';
      this.leaderInfo = info;
      this.lastFollowing = '';
      const reinstate = this.pendingReinstate;
      this.pendingReinstate = false;
      this.suspendedFlag = false;
      if (wasLeader && reinstate) this.emit('reinstated', { role: 'leader', leader: info });
      else if (!wasLeader) {
        this.logger.info('elected', { node, token: info.token });
        this.emit('elected', info);
      }
      await this.afterDeclaring(epoch, ordered);
      return;
    }

    const predecessor = ordered[index - 1]!;
    // One watch per predecessor. A re-check (after a restore, say) that registered another
    // would have the client call every registration when the predecessor goes, each a kick.
    const watched = `${epoch} ${predecessor.name}`;
    let fired = false;
    const watcher =
      this.watching === watched
        ? undefined
        : (event: WatchEvent) => {
            if (event.type === 'session') return; // state news only: the watch still stands
            fired = true;
            if (this.watching === watched) this.watching = '';
            this.logger.debug('woken', { by: event.type, path: event.path });
            if (epoch === this.epoch) void this.kick();
          };
    const stat = await this.session.exists(joinPath(this.path, predecessor.name), watcher);
    if (epoch !== this.epoch) return;
    if (stat === null) {
      this.dirty = true; // it left between the listing and the watch: look again
      return;
    }
    if (watcher && !fired) this.watching = watched;
    const wasLeader = this.roleValue === 'leader';
    this.roleValue = 'follower';
    this.leaderInfo = undefined;
    if (wasLeader) {
      // Someone sorts before us now (a wrapped sequence or a foreign node): step down loudly.
      this.emit('lost', { reason: 'node-deleted', wasLeader: true, token: undefined });
    }
    if (this.pendingReinstate) {
      this.pendingReinstate = false;
      this.suspendedFlag = false;
      this.emit('reinstated', { role: 'follower', leader: undefined });
    }
    const groups = groupCandidates(ordered);
    if (this.preempt && !this.ownRequest && groups[0]!.uuid !== undefined && this.priority > groups[0]!.priority) await this.askForLead(epoch);
    const key = `${predecessor.name} ${ordered[0]!.name}`;
    if (key === this.lastFollowing) return;
    this.lastFollowing = key;
    const [predInfo, leaderInfo] = await Promise.all([this.describe(predecessor), this.describe(ordered[0]!)]);
    if (epoch !== this.epoch || predInfo === undefined) return;
    const position = groups.findIndex((g) => g.prefix === front.prefix && g.front.name === node);
    this.emit('following', { self, predecessor: predInfo, leader: leaderInfo, position: position < 0 ? index : position });
  }

  private metaField(): { meta?: CandidateMeta } {
    return this.meta === undefined ? {} : { meta: this.meta };
  }

  private async describe(child: OrderedChild): Promise<CandidateInfo | undefined> {
    try {
      const { data } = await this.session.getData(joinPath(this.path, child.name));
      const { id, meta } = decodeCandidateData(data);
      return { id, node: child.name, sequence: child.sequence, priority: child.priority, seat: child.seat, ...(meta === undefined ? {} : { meta }) };
    } catch (e) {
      if (e instanceof ZooKeeperError && e.code === ZkCode.NONODE) return undefined;
      throw e;
    }
  }

  /** Makes `name` (one of our nodes) our front: watches move to it. */
  private setFront(name: string): void {
    this.extras.delete(name);
    this.node = name;
    this.epoch += 1;
    this.lastFollowing = '';
    this.watchOwnNode(this.epoch);
    this.dirty = true;
  }

  // ---- named handoff (handoff.ts) ------------------------------------------------------

  /** Every candidate watches the grant path of its own uuid: a grant wakes its target only. */
  private watchGrant(): void {
    const sessionId = this.session.sessionId;
    this.grantWatchFor = sessionId;
    const onEvent = (event: WatchEvent) => {
      if (this.closed || this.session.sessionId !== sessionId || event.type === 'session') return;
      this.grantWatchFor = undefined; // fired: set it again on the next step
      if (event.type === 'deleted') return;
      this.logger.debug('woken', { by: event.type, path: event.path });
      this.grantDue = true;
      void this.kick();
    };
    this.session.exists(joinPath(this.path, grantNode(this.uuid)), onEvent).then(
      (stat) => {
        if (stat !== null && this.session.sessionId === sessionId) {
          this.grantDue = true;
          void this.kick();
        }
      },
      () => {
        if (this.grantWatchFor === sessionId) this.grantWatchFor = undefined;
      },
    );
  }

  /** Steps 3 to 5 (handoff.ts). True when we now hold a seat (the next check declares on it). */
  private async acceptGrant(): Promise<boolean> {
    let result: Awaited<ReturnType<typeof takeSeat>>;
    try {
      result = await takeSeat(this.io, joinPath(this.path, grantNode(this.uuid)), this.ownNodes(), this.data, (seat) => this.strays.add(seat));
    } catch (e) {
      this.grantDue = true; // look at the grant again on the retry (its watch will not fire again)
      throw e;
    }
    if (result === undefined) return false;
    if ('refused' in result) {
      this.logger.info('handoff: grant not taken', { why: result.refused });
      return false;
    }
    this.strays.delete(joinPath(this.path, result.seat));
    this.grantCleanup = result.grantPath;
    this.extras.add(this.node!);
    this.setFront(result.seat);
    return true;
  }

  /** A front node older than the newest seat that led takes a seat of its own (fencing; handoff.ts). */
  private async takeOwnSeat(ordered: readonly OrderedChild[], marker: SeatMarker | undefined): Promise<void> {
    const seat = seatName(candidatePrefix(this.uuid, this.priority), nextSeatValue(ordered, marker?.seat));
    const seatPath = joinPath(this.path, seat);
    this.strays.add(seatPath);
    if ((await createOwned(this.session, seatPath, this.data)) === 'theirs') {
      this.strays.delete(seatPath);
      this.dirty = true; // someone holds that name: look again
      return;
    }
    await markSeat(this.io, seat);
    this.strays.delete(seatPath);
    this.logger.info('took a seat: our node is older than the last seat that led', { seat, node: this.node });
    this.extras.add(this.node!);
    this.setFront(seat);
  }

  /**
   * Steps 1, 2 and 6 (handoff.ts): stop leading, grant `target` a seat, wait for the outcome.
   * Whatever it is, the next check decides from a fresh listing.
   */
  private async offerTo(target: OrderedChild, ordered: readonly OrderedChild[], reason: HandoffInfo['reason']): Promise<OfferOutcome> {
    if (target.uuid === undefined) throw new HandoffError(`${target.name} is not a zk-elect candidate: it cannot take a seat`);
    const wasLeader = this.roleValue === 'leader';
    // Step 1: not a leader any more before anything is written.
    this.roleValue = 'follower';
    this.leaderInfo = undefined;
    this.lastFollowing = '';
    if (wasLeader) this.emit('resigned', { wasLeader: true, requeued: false, to: target.name });
    this.logger.info('handing over', { to: target.name, reason });
    if (wasLeader && this.beforeHandover) {
      await this.beforeHandover().catch((e: unknown) => this.logger.warn('beforeHandover failed; handing over anyway', { error: (e as Error).message }));
    }
    let interrupt!: () => void;
    const interrupted = new Promise<void>((r) => (interrupt = r));
    this.closeWaiters.add(interrupt);
    const offSession = () => interrupt();
    this.session.once('expired', offSession);
    try {
      const outcome = await offerSeat(this.io, {
        front: this.node!,
        target: { ...target, uuid: target.uuid },
        ordered,
        timeoutMs: this.handoffTimeoutMs ?? this.session.timeoutMs,
        interrupted,
        onGrantWritten: (path) => (this.openGrant = path),
      });
      this.openGrant = undefined; // taken (the target deleted it) or deleted by offerSeat
      if (outcome !== 'taken') this.failedTargets.add(target.name);
      // For the report only, off the handoff's path: the target already leads (or it failed).
      const id = (await this.describe(target).catch(() => undefined))?.id;
      this.emit('handoff', { to: target.name, ...(id === undefined ? {} : { id }), outcome, reason });
      return outcome;
    } finally {
      this.closeWaiters.delete(interrupt);
      this.session.off('expired', offSession);
      this.dirty = true;
    }
  }

  /** resign({ to }), run by the loop. */
  private async resignTo(to: string): Promise<void> {
    if (this.roleValue !== 'leader' || this.node === undefined) throw new HandoffError('only the leader can hand over');
    const list = await readCandidates(this.session, this.path);
    const mine = this.ownNodes();
    const matches = list.filter((c) => !mine.has(c.node) && (c.node === to || c.id === to || parseNode(c.node)?.uuid === to));
    if (matches.length > 1) {
      throw new HandoffError(`"${to}" names ${matches.length} candidates (${matches.map((c) => c.node).join(', ')}): give a node name`);
    }
    const target = matches[0] === undefined ? undefined : parseNode(matches[0].node);
    let outcome: OfferOutcome | 'no-target' = 'no-target';
    if (target?.uuid !== undefined) {
      const ordered = orderCandidates(list.flatMap((c) => c.nodes ?? [c.node]));
      outcome = await this.offerTo(target, ordered, 'resign');
    } else {
      this.roleValue = 'joining';
      this.leaderInfo = undefined;
      this.emit('resigned', { wasLeader: true, requeued: true, to });
      this.emit('handoff', { to, outcome, reason: 'resign' });
    }
    if (outcome === 'taken') return;
    // The queue decides: we re-enter at the back, and whoever is then first leads.
    this.logger.info('handoff did not happen; re-entering at the back', { to, outcome });
    this.roleValue = 'joining';
    this.leaderInfo = undefined;
    await this.leave();
  }

  /** The leader watches the request path (only the leader: a request wakes nobody else). */
  private async afterDeclaring(epoch: number, ordered: readonly OrderedChild[]): Promise<void> {
    if (this.grantCleanup !== undefined) {
      const grant = this.grantCleanup;
      this.grantCleanup = undefined;
      await removeIfThere(this.session, grant); // step 6: tells the grantor we lead
    }
    if (this.ownRequest) {
      this.ownRequest = false;
      await removeIfOurs(this.session, joinPath(this.path, REQUEST_NODE));
    }
    if (this.requestWatchEpoch !== epoch) {
      this.requestWatchEpoch = epoch;
      const stat = await this.session.exists(joinPath(this.path, REQUEST_NODE), (event) => {
        if (event.type === 'session' || epoch !== this.epoch) return;
        this.requestWatchEpoch = -1;
        if (this.roleValue !== 'leader') return;
        this.logger.debug('woken', { by: event.type, path: event.path });
        // Created or changed: read it. Deleted: look again only to set the watch for the next one.
        if (event.type !== 'deleted') this.requestDue = true;
        void this.kick();
      });
      if (stat !== null) this.requestDue = true;
    }
    if (this.requestDue && this.roleValue === 'leader' && epoch === this.epoch) {
      this.requestDue = false;
      await this.answerRequest(ordered);
    }
  }

  /**
   * A handoff request reached us as leader: hand over if it names a live zk-elect candidate.
   * Then a preempting candidate's request is deleted (it sees the lead move); a client's gets
   * the outcome written into it, for the client to read and delete.
   */
  private async answerRequest(ordered: readonly OrderedChild[]): Promise<void> {
    const path = joinPath(this.path, REQUEST_NODE);
    let read: { data: Buffer; stat: ZkStat };
    try {
      read = await this.session.getData(path);
    } catch (e) {
      if (e instanceof ZooKeeperError && e.code === ZkCode.NONODE) return;
      throw e;
    }
    const request = decodeRequest(read.data);
    if (request?.outcome !== undefined) return; // answered already; its requester deletes it
    const target = request === undefined ? undefined : ordered.find((c) => c.name === request.to);
    let why: string | undefined;
    if (request === undefined) why = 'unreadable request';
    else if (this.ownNodes().has(request.to)) why = 'we are the target';
    else if (target === undefined || target.uuid === undefined) why = `${request.to} is not a live zk-elect candidate`;
    else if (request.preempt && target.priority <= this.priority) why = `preempt by priority ${target.priority} does not beat our ${this.priority}`;
    let outcome = why === 'we are the target' ? 'taken' : 'refused';
    if (why === undefined) outcome = await this.offerTo(target!, ordered, 'request');
    else this.logger.info('handoff request not followed', { to: request?.to, by: request?.by, why });
    try {
      // Only this request (same version): another may have replaced it meanwhile.
      if (request === undefined || request.preempt) {
        const now = await this.session.exists(path);
        if (now !== null && now.czxid === read.stat.czxid) await this.session.remove(path, now.version);
      } else {
        await this.session.setData(path, encodeRequest({ ...request, outcome, why }), read.stat.version);
      }
    } catch (e) {
      if (!(e instanceof ZooKeeperError && (e.code === ZkCode.NONODE || e.code === ZkCode.BADVERSION))) throw e;
    }
  }

  /** preempt: we outrank the leader, so we ask it to hand over to us. */
  private async askForLead(epoch: number): Promise<void> {
    const path = joinPath(this.path, REQUEST_NODE);
    try {
      await createProtected(this.session, path, encodeRequest({ to: this.node!, preempt: true, by: this.id }), 'ephemeral');
      this.ownRequest = true;
      this.logger.info('asked the leader to hand over (preempt)', { priority: this.priority });
      // The leader deletes it once answered; if we still outrank the leader then, we ask again.
      const stat = await this.session.exists(path, (event) => {
        if (event.type !== 'deleted' || epoch !== this.epoch) return;
        this.ownRequest = false;
        void this.kick();
      });
      if (stat === null && epoch === this.epoch) {
        this.ownRequest = false;
        this.dirty = true;
      }
    } catch (e) {
      if (!(e instanceof ZooKeeperError && e.code === ZkCode.NODEEXISTS)) throw e;
      // Someone else's request is pending: ask again once it is answered.
      const stat = await this.session.exists(path, (event) => {
        if (event.type === 'deleted' && epoch === this.epoch) void this.kick();
      });
      if (stat === null) this.dirty = true;
    }
  }

  private async leave(): Promise<void> {
    const nodes = [...this.ownNodes()];
    this.epoch += 1;
    this.node = undefined;
    this.extras.clear();
    this.leaderInfo = undefined;
    this.lastFollowing = '';
    this.suspendedFlag = false;
    this.pendingReinstate = false;
    this.grantCleanup = undefined;
    // The front first: its successor may be elected as soon as that delete commits.
    const removals = nodes.map((n) => this.removeIgnoringMissing(joinPath(this.path, n)));
    if (this.ownRequest) {
      this.ownRequest = false;
      removals.push(removeIfOurs(this.session, joinPath(this.path, REQUEST_NODE)));
    }
    await Promise.all(removals);
  }

  private async removeIgnoringMissing(path: string): Promise<void> {
    try {
      await this.session.remove(path);
    } catch (e) {
      if (!(e instanceof ZooKeeperError && e.code === ZkCode.NONODE)) throw e;
    }
  }

  private onNodeGone(reason: LossReason): void {
    if (this.node === undefined) return;
    const wasLeader = this.roleValue === 'leader';
    const token = this.leaderInfo?.token;
    this.epoch += 1;
    this.node = undefined;
    this.extras.clear(); // any that remain are adopted again when we re-enter
    this.grantCleanup = undefined;
    this.leaderInfo = undefined;
    this.lastFollowing = '';
    this.pendingReinstate = false;
    this.roleValue = 'joining';
    this.logger.warn('lost our place', { reason, wasLeader });
    this.emit('lost', { reason, wasLeader, token });
    if (!this.rejoin) {
      this.wanted = false;
      this.roleValue = 'idle';
    } else if (this.wanted) {
      void this.kick();
    }
  }

  // ---- session events --------------------------------------------------------------------

  private listen(): void {
    const s = this.session;
    const on = <K extends keyof SessionEvents>(event: K, fn: (...args: SessionEvents[K]) => void) => {
      s.on(event, fn as never);
      this.detach.push(() => s.off(event, fn as never));
    };
    on('suspended', (info) => {
      if (this.roleValue === 'idle' || this.suspendedFlag) return;
      this.suspendedFlag = true;
      this.disconnectsAtSuspend = info.reason === 'disconnected' ? -1 : s.disconnects;
      this.emit('suspended', { role: this.roleValue, sinceContactMs: info.sinceContactMs, reason: info.reason });
    });
    on('deadline', () => {
      if (this.roleValue !== 'leader') return;
      // We keep our node: if the same session comes back and we are still first, the next
      // check elects us again (nobody else can have led while our node existed).
      const token = this.leaderInfo?.token;
      this.roleValue = 'joining';
      this.leaderInfo = undefined;
      this.pendingReinstate = false;
      this.logger.warn('leadership lost: no confirmed contact before the deadline');
      this.emit('lost', { reason: 'deadline', wasLeader: true, token });
    });
    on('restored', () => {
      if (this.roleValue === 'idle') return;
      if (this.roleValue === 'follower' && this.suspendedFlag && s.disconnects === this.disconnectsAtSuspend && s.isConnected) {
        // Replies were only slow: the connection never dropped, so the server went on
        // delivering our notifications in order, and our predecessor watch and own-node watch
        // stand. A follower has nothing to re-read. (Under load every follower used to re-list
        // the whole election here: at 1,000 candidates in one process, thousands of listings
        // that kept the process too busy to confirm contact, i.e. more suspensions.)
        this.suspendedFlag = false;
        this.pendingReinstate = false;
        this.emit('reinstated', { role: 'follower', leader: undefined });
        return;
      }
      if (this.suspendedFlag) this.pendingReinstate = true;
      void this.kick();
    });
    on('expired', () => {
      this.suspendedFlag = false;
      // The session's ephemeral nodes (grant, seats, request) went with it.
      this.openGrant = undefined;
      this.strays.clear();
      this.ownRequest = false;
      this.grantWatchFor = undefined;
      if (this.node !== undefined) this.onNodeGone('session-expired');
    });
    on('renewed', () => {
      if (this.wanted) void this.kick();
    });
    on('closed', () => {
      for (const w of [...this.closeWaiters]) w();
    });
  }
}
