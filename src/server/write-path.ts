/**
 * How a server orders and executes writes. Standalone: prep here, log, fsync, apply
 * (LocalWritePath). In a cluster: prep on the leader, replicate with ZAB, apply on commit
 * (cluster/replicated-write-path.ts). The client-facing server is the same for both.
 */
import type { Id } from '../protocol/records.js';
import type { Pipeline } from './pipeline.js';
import type { ZkState } from './tree/state.js';
import type { ApplyResult, Txn, WriteRequest } from './tree/types.js';

export interface WriteOrigin {
  sessionId: bigint;
  cxid: number;
  authIds: readonly Id[];
}

/** What the server hands every write path: called for EVERY applied txn, local or not. */
export interface ApplyHooks {
  applied(result: ApplyResult): void;
}

export interface WritePath {
  /** 'standalone', or this node's role in the cluster. */
  mode(): 'standalone' | 'leader' | 'follower' | 'looking';
  /** False while a cluster node has no synced leader: it must not serve clients then. */
  readonly serving: boolean;
  /** Orders and executes a write; `done` runs once it has been applied on this server. */
  submit(origin: WriteOrigin, request: WriteRequest, done: (result: ApplyResult) => void): void;
  /** Runs `fn` once every write of this session submitted here so far has been applied here. */
  after(sessionId: bigint, fn: () => void): void;
  /** Runs `fn` once this server has applied everything the leader had when the sync arrived. */
  sync(sessionId: bigint, fn: () => void): void;
  /** Requests in flight. */
  readonly depth: number;
  /** Whether this server decides session expiry (standalone, or the cluster leader). */
  readonly expiresSessions: boolean;
  /** A session was active on this server (a follower reports it to the leader). */
  touched(sessionId: bigint): void;
  stop(): Promise<void>;
}

/** The standalone write path: prep against pending changes, group-commit log, apply. */
export class LocalWritePath implements WritePath {
  readonly serving = true;
  readonly expiresSessions = true;

  constructor(
    private readonly state: () => ZkState,
    private readonly pipeline: Pipeline,
    private nextZxid: bigint,
    private readonly hooks: ApplyHooks,
  ) {}

  mode(): 'standalone' {
    return 'standalone';
  }

  get depth(): number {
    return this.pipeline.depth;
  }

  submit(origin: WriteOrigin, request: WriteRequest, done: (result: ApplyResult) => void): void {
    const zxid = this.nextZxid++;
    const txn: Txn = this.state().prep(request, { zxid, timeMs: BigInt(Date.now()), sessionId: origin.sessionId, authIds: origin.authIds, cxid: origin.cxid });
    this.pipeline.write(txn, (result) => {
      this.hooks.applied(result);
      done(result);
    });
  }

  after(sessionId: bigint, fn: () => void): void {
    this.pipeline.after(sessionId, fn);
  }

  sync(sessionId: bigint, fn: () => void): void {
    this.pipeline.after(sessionId, fn);
  }

  touched(): void {}

  async stop(): Promise<void> {}
}
