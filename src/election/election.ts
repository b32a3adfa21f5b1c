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
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import { readCandidates, type CandidateInfo, type LeaderInfo } from './candidates.js';
import { describeAuth, electionAcl } from './auth.js';
import {
  ClosedError,
  ConnectionLossError,
  InvalidArgumentError,
  LeadershipLostError,
  LeadershipWaitError,
  NotAuthorizedError,
  OperationTimeoutError,
  SessionExpiredError,
  ZkElectError,
  ZooKeeperError,
} from './errors.js';
import { ancestry, candidatePrefix, isOwnedByUuid, joinPath, orderCandidates, validatePath } from './names.js';
import { ZkSession, type SessionEvents, type SessionOptions } from './session.js';
import { ZkCode, type WatchEvent } from './zk-types.js';

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
  /** We gave up our place by `resign()`. */
  resigned: [info: { wasLeader: boolean; requeued: boolean }];
  error: [error: Error];
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
}


/** Our fresh node was changed by someone else before its ACL was in place: it was deleted, try again. */
class TamperedNodeError extends ZkElectError {}

function isTransient(e: unknown): boolean {
  return e instanceof ConnectionLossError || e instanceof OperationTimeoutError || e instanceof TamperedNodeError;
}

export class LeaderElection extends EventEmitter<ElectionEvents> implements AsyncDisposable {
  readonly path: string;
  readonly id: string;
  /** Names our nodes (`_c_<uuid>-__lock__<seq>`) so a create whose reply was lost can be found again. */
  readonly uuid: string;
  private readonly rejoin: boolean;
  private readonly logger: Logger;

  private roleValue: Role = 'idle';
  private node: string | undefined;
  /** Bumped whenever our node or session changes, so stale watches and steps are ignored. */
  private epoch = 0;
  private leaderInfo: LeaderInfo | undefined;
  private suspendedFlag = false;
  private pendingReinstate = false;
  private lastFollowing = '';
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
   */
  async resign(options: { requeue?: boolean } = {}): Promise<void> {
    this.assertOpen();
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
    if (requeue) await this.kick();
  }

  /** Deletes our node and stops. Idempotent; closes the session only if we opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.wanted = false;
    this.closed = true;
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
    const epoch = this.epoch;
    if (this.node === undefined) await this.createNode();
    if (epoch !== this.epoch && this.node === undefined) return;
    await this.check();
  }

  /** Creates our node, or adopts one a lost reply already created for this session. */
  private async createNode(): Promise<void> {
    const sessionId = this.session.sessionId;
    const children = await this.listOrCreateParents();
    if (this.session.auth && !this.pathProtected) await this.protectPath();
    let adopted: string | undefined;
    for (const child of children.filter((c) => isOwnedByUuid(c, this.uuid)).sort()) {
      const childPath = joinPath(this.path, child);
      const stat = await this.session.exists(childPath);
      if (stat && stat.ephemeralOwner === sessionId && adopted === undefined) {
        // The create may have committed before its ACL was set: (re)apply it, whatever its aversion.
        if (this.session.auth) await this.protectNode(childPath, -1);
        adopted = child;
        this.logger.info('adopted our node from a create whose reply was lost', { node: child });
      } else if (stat) {
        // Ours by uuid but not by session (or a duplicate): an orphan that would block the queue.
        this.logger.warn('deleting an orphaned node of ours', { node: child, owner: stat.ephemeralOwner });
        await this.removeIgnoringMissing(childPath);
      }
    }
    if (adopted === undefined) {
      const created = await this.session.create(
        joinPath(this.path, candidatePrefix(this.uuid)),
        Buffer.from(this.id, 'utf8'),
        'ephemeral-sequential',
      );
      // The C binding creates every node world-open: the ACL follows at once, and a node that
      // someone changed in between is not trusted.
      if (this.session.auth) await this.protectNode(created, 0);
      adopted = created.slice(created.lastIndexOf('/') + 1);
      this.logger.debug('created our node', { node: adopted });
    }
    this.node = adopted;
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
    let tampered: string | undefined;
    try {
      await this.session.setAcl(nodePath, electionAcl(this.session.auth!), aversion);
      const stat = await this.session.exists(nodePath);
      if (stat !== null && stat.version !== 0) tampered = `its data was changed (version ${stat.version})`;
    } catch (e) {
      if (!(e instanceof ZooKeeperError && (e.code === ZkCode.BADVERSION || e.code === ZkCode.NOAUTH))) throw e;
      tampered = `its ACL was changed (${e.codeName})`;
    }
    if (tampered === undefined) return;
    this.logger.warn('our new candidate node was changed by another session before its ACL was set; replacing it', { node: nodePath, tampered });
    await this.removeIgnoringMissing(nodePath);
    throw new TamperedNodeError(`candidate node ${nodePath} was tampered with: ${tampered}`);
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
    const ordered = orderCandidates(await this.session.getChildren(this.path));
    if (epoch !== this.epoch) return;
    const index = ordered.findIndex((c) => c.name === node);
    if (index < 0) return this.onNodeGone('node-deleted');
    const self = { id: this.id, node, sequence: ordered[index]!.sequence };

    if (index === 0) {
      const stat = await this.session.exists(joinPath(this.path, node));
      if (epoch !== this.epoch) return;
      if (stat === null || stat.ephemeralOwner !== this.session.sessionId) return this.onNodeGone('node-deleted');
      // Never declare while contact is in doubt: `restored` will run this check again.
      if (this.session.state !== 'confirmed' || !this.session.isConnected) return;
      const info: LeaderInfo = { ...self, path: joinPath(this.path, node), token: BigInt(stat.czxid), sessionId: stat.ephemeralOwner };
      const wasLeader = this.roleValue === 'leader';
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
      return;
    }

    const predecessor = ordered[index - 1]!;
    const stat = await this.session.exists(joinPath(this.path, predecessor.name), (event) => {
      if (epoch === this.epoch && event.type !== 'session') void this.kick();
    });
    if (epoch !== this.epoch) return;
    if (stat === null) {
      this.dirty = true; // it left between the listing and the watch: look again
      return;
    }
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
    const key = `${predecessor.name} ${ordered[0]!.name}`;
    if (key === this.lastFollowing) return;
    this.lastFollowing = key;
    const [predInfo, leaderInfo] = await Promise.all([this.describe(predecessor), this.describe(ordered[0]!)]);
    if (epoch !== this.epoch || predInfo === undefined) return;
    this.emit('following', { self, predecessor: predInfo, leader: leaderInfo, position: index });
  }

  private async describe(child: { name: string; sequence: number }): Promise<CandidateInfo | undefined> {
    try {
      const { data } = await this.session.getData(joinPath(this.path, child.name));
      return { id: data.toString('utf8'), node: child.name, sequence: child.sequence };
    } catch (e) {
      if (e instanceof ZooKeeperError && e.code === ZkCode.NONODE) return undefined;
      throw e;
    }
  }

  private async leave(): Promise<void> {
    const node = this.node;
    this.epoch += 1;
    this.node = undefined;
    this.leaderInfo = undefined;
    this.lastFollowing = '';
    this.suspendedFlag = false;
    this.pendingReinstate = false;
    if (node !== undefined) await this.removeIgnoringMissing(joinPath(this.path, node));
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
      if (this.suspendedFlag) this.pendingReinstate = true;
      void this.kick();
    });
    on('expired', () => {
      this.suspendedFlag = false;
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
