/**
 * zk-elect's own ZooKeeper client: the election's wire transport in production (over
 * node:net, see src/election/wire-handle.ts) and the simulator's client (over its seeded
 * network). It speaks the real wire protocol (src/protocol) over an injected Network, and it
 * behaves like the C client and kazoo where that matters to a server: reconnects with
 * lastZxidSeen and the session's id and password, re-sends its credentials, pings, gives up
 * on silent servers, re-registers watches with SetWatches, and never retries a request.
 *
 * Every call resolves (never rejects) with `{ err, zxid, ...body }`; `err` is the
 * ZooKeeper code, including the ones the client makes up itself (CONNECTIONLOSS when the
 * connection drops with the call outstanding, SESSIONEXPIRED once the session is over).
 * `onEvent` sees every call, reply, notification, state change and protocol violation,
 * which is what a history recorder and a checker need.
 *
 * See session-core.ts for the connection and ordering rules, watch-table.ts for watches.
 */
import { CreateMode, ErrorCode, OpCode, type ACL, type ResponseBodies } from '../protocol/index.js';
import { SessionCore } from './session-core.js';
import {
  OPEN_ACL_UNSAFE,
  type CallMeta, type ChildrenResult, type CreateResult, type DataResult, type Outcome, type Result, type WireClientOptions,
  type StatResult, type SyncResult, type WatchArg, type WatchCallback,
} from './types.js';
import { DEFAULT_WATCHER, type WatchKind } from './watch-table.js';

export * from './types.js';
export { DEFAULT_WATCHER } from './watch-table.js';

export class WireClient extends SessionCore {
  constructor(options: WireClientOptions) {
    super(options);
  }

  create(path: string, data: Buffer | null, flags: number = CreateMode.PERSISTENT, acl: ACL[] = OPEN_ACL_UNSAFE): Promise<CreateResult> {
    // Like the C client: a container is created with its own opcode (its reply is create2-shaped).
    if (flags === CreateMode.CONTAINER) {
      return this.call(
        (xid) => ({ kind: 'createContainer', xid, type: OpCode.createContainer, body: { path, data, acl, flags } }),
        { op: OpCode.createContainer, path },
        (b: ResponseBodies['createContainer']) => ({ path: b.path }),
      );
    }
    return this.call(
      (xid) => ({ kind: 'create', xid, type: OpCode.create, body: { path, data, acl, flags } }),
      { op: OpCode.create, path },
      (b: ResponseBodies['create']) => ({ path: b.path }),
    );
  }

  delete(path: string, version = -1): Promise<Result> {
    return this.call((xid) => ({ kind: 'delete', xid, type: OpCode.delete, body: { path, version } }), { op: OpCode.delete, path }, () => ({}));
  }

  /** With a watch: registered as a data watch if the node exists, an exist watch if it does not (NONODE). */
  exists(path: string, watch?: WatchArg): Promise<StatResult> {
    return this.call(
      (xid) => ({ kind: 'exists', xid, type: OpCode.exists, body: { path, watch: !!watch } }),
      withWatch({ op: OpCode.exists, path }, watch, (err) => (err === ErrorCode.OK ? 'data' : err === ErrorCode.NONODE ? 'exist' : undefined)),
      (b: ResponseBodies['exists']) => ({ stat: b.stat }),
    );
  }

  getData(path: string, watch?: WatchArg): Promise<DataResult> {
    return this.call(
      (xid) => ({ kind: 'getData', xid, type: OpCode.getData, body: { path, watch: !!watch } }),
      withWatch({ op: OpCode.getData, path }, watch, (err) => (err === ErrorCode.OK ? 'data' : undefined)),
      (b: ResponseBodies['getData']) => ({ data: b.data, stat: b.stat }),
    );
  }

  setData(path: string, data: Buffer | null, version = -1): Promise<StatResult> {
    return this.call(
      (xid) => ({ kind: 'setData', xid, type: OpCode.setData, body: { path, data, version } }),
      { op: OpCode.setData, path },
      (b: ResponseBodies['setData']) => ({ stat: b.stat }),
    );
  }

  /** `version` is the ACL version (aversion) expected, -1 for any. */
  setACL(path: string, acl: ACL[], version = -1): Promise<StatResult> {
    return this.call(
      (xid) => ({ kind: 'setACL', xid, type: OpCode.setACL, body: { path, acl, version } }),
      { op: OpCode.setACL, path },
      (b: ResponseBodies['setACL']) => ({ stat: b.stat }),
    );
  }

  getChildren(path: string, watch?: WatchArg): Promise<ChildrenResult> {
    return this.call(
      (xid) => ({ kind: 'getChildren', xid, type: OpCode.getChildren, body: { path, watch: !!watch } }),
      withWatch({ op: OpCode.getChildren, path }, watch, (err) => (err === ErrorCode.OK ? 'child' : undefined)),
      (b: ResponseBodies['getChildren']) => ({ children: b.children }),
    );
  }

  sync(path: string): Promise<SyncResult> {
    return this.call(
      (xid) => ({ kind: 'sync', xid, type: OpCode.sync, body: { path } }),
      { op: OpCode.sync, path },
      (b: ResponseBodies['sync']) => (b.path === null ? {} : { path: b.path }),
    );
  }

  /**
   * Ends the session: closeSession, then the socket. While connected, err is the server's
   * answer (0: ephemerals are gone). While disconnected nothing can be sent: CONNECTIONLOSS,
   * and the session lingers until the server expires it. After close every call gets SESSIONEXPIRED.
   */
  async close(): Promise<Result> {
    const o = await this.closeSession();
    return { err: o.err, zxid: o.zxid };
  }

  /** The body is read only on success, as both reference clients do. */
  private async call<B, R extends object>(build: Parameters<SessionCore['submit']>[0], meta: CallMeta, pick: (body: B) => R): Promise<Result & Partial<R>> {
    const o: Outcome = await this.submit(build, meta);
    const base = { err: o.err, zxid: o.zxid };
    return o.err === ErrorCode.OK && o.body !== undefined ? { ...base, ...pick(o.body as B) } : (base as Result & Partial<R>);
  }
}

function withWatch(meta: CallMeta, watch: WatchArg, kindFor: (err: number) => WatchKind | undefined): CallMeta {
  if (!watch) return meta;
  const cb: WatchCallback = watch === true ? DEFAULT_WATCHER : watch;
  return { ...meta, watch: { cb, kindFor } };
}
