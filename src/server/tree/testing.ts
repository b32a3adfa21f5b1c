/**
 * A tiny driver for tests and tools: runs requests through prep + apply immediately, with a
 * monotonically increasing zxid and clock. Not used by the server (which owns zxids/time).
 */
import { OPEN_ACL_UNSAFE } from './acl.js';
import { ZkState } from './state.js';
import type { ACL, ApplyResult, Id, PrepContext, Txn, WriteRequest, ZkStateOptions } from './types.js';

export class TreeDriver {
  readonly state: ZkState;
  zxid = 0n;
  timeMs = 1_700_000_000_000n;
  cxid = 0;

  constructor(options: ZkStateOptions = {}, state?: ZkState) {
    this.state = state ?? new ZkState(options);
    this.zxid = this.state.lastProcessedZxid;
  }

  ctx(sessionId: bigint, authIds: readonly Id[] = []): PrepContext {
    this.timeMs += 1n;
    return { zxid: ++this.zxid, timeMs: this.timeMs, sessionId, authIds, cxid: ++this.cxid };
  }

  prep(req: WriteRequest, sessionId = 1n, authIds: readonly Id[] = []): Txn {
    return this.state.prep(req, this.ctx(sessionId, authIds));
  }

  run(req: WriteRequest, sessionId = 1n, authIds: readonly Id[] = []): ApplyResult {
    return this.state.apply(this.prep(req, sessionId, authIds));
  }

  openSession(sessionId: bigint, timeoutMs = 30000): ApplyResult {
    return this.run({ op: -10, timeoutMs }, sessionId);
  }

  closeSession(sessionId: bigint): ApplyResult {
    return this.run({ op: -11 }, sessionId);
  }

  create(path: string, opts: { data?: Buffer | null; flags?: number; acl?: ACL[]; op?: 1 | 15 | 19 | 21; ttl?: bigint; session?: bigint; auth?: Id[] } = {}): ApplyResult {
    const req: WriteRequest = {
      op: opts.op ?? 1,
      path,
      data: opts.data === undefined ? null : opts.data,
      acl: opts.acl ?? [...OPEN_ACL_UNSAFE],
      flags: opts.flags ?? 0,
      ...(opts.ttl === undefined ? {} : { ttl: opts.ttl }),
    };
    return this.run(req, opts.session ?? 1n, opts.auth ?? []);
  }

  delete(path: string, version = -1, session = 1n, auth: Id[] = []): ApplyResult {
    return this.run({ op: 2, path, version }, session, auth);
  }

  setData(path: string, data: Buffer | null, version = -1, session = 1n, auth: Id[] = []): ApplyResult {
    return this.run({ op: 5, path, data, version }, session, auth);
  }
}
