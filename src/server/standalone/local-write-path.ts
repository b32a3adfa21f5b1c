/**
 * The standalone write path: prep against pending changes, group-commit log, apply. The
 * counterpart of cluster/replicated-write-path.ts for a server of one.
 */
import type { TxnLog } from '../storage/txn-log.js';
import { encodeTxn } from '../tree/txn-codec.js';
import type { ApplyResult, Txn, WriteRequest } from '../tree/types.js';
import type { NodeServices, WriteOrigin, WritePath } from '../node/write-path.js';
import { Pipeline } from './pipeline.js';

export class LocalWritePath implements WritePath {
  readonly serving = true;
  readonly expiresSessions = true;
  private readonly pipeline: Pipeline;
  private pushingBack = false;

  constructor(
    private readonly node: NodeServices,
    private readonly log: TxnLog,
    private nextZxid: bigint,
  ) {
    this.pipeline = new Pipeline(log, encodeTxn, (txn) => node.state().apply(txn), node.clock, (e) => node.fatal(e), () => this.checkPressure());
  }

  mode(): 'standalone' {
    return 'standalone';
  }

  mayReply(): boolean {
    return true;
  }

  get depth(): number {
    return this.pipeline.depth;
  }

  submit(origin: WriteOrigin, request: WriteRequest, done: (result: ApplyResult) => void): void {
    const zxid = this.nextZxid++;
    const txn: Txn = this.node.state().prep(request, { zxid, timeMs: BigInt(this.node.clock.wallMs()), sessionId: origin.sessionId, authIds: origin.authIds, cxid: origin.cxid });
    this.pipeline.write(txn, (result) => {
      this.node.applied(result);
      done(result);
    });
    this.checkPressure();
  }

  /** Too much waits for fsync: stop reading client requests until the log catches up. */
  private checkPressure(): void {
    const congested = this.log.congested;
    if (congested === this.pushingBack) return;
    this.pushingBack = congested;
    this.node.pushBack('log', congested);
  }

  after(sessionId: bigint, fn: () => void): void {
    this.pipeline.after(sessionId, fn);
  }

  sync(sessionId: bigint, fn: () => void): void {
    this.pipeline.after(sessionId, fn);
  }

  touched(): void {}

  revalidate(sessionId: bigint, timeoutMs: number, done: (live: boolean) => void): void {
    const state = this.node.state();
    const live = state.sessionExists(sessionId) && !state.sessionIsClosing(sessionId) && this.node.tracker.isActive(sessionId);
    if (live) {
      // ZooKeeper's revalidateSession: the timeout negotiated on THIS connect applies from now on.
      this.node.tracker.setTimeout(sessionId, timeoutMs);
      this.node.tracker.touch(sessionId, this.node.tracker.now());
    }
    done(live);
  }

  askOwner(): void {
    throw new Error('a standalone server owns every session');
  }

  async stop(): Promise<void> {}
}
