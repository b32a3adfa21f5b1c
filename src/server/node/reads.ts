/**
 * Requests that change nothing durable (reads, watches, auth), answered from the applied
 * state once every earlier write of the session has been applied here.
 */
import { AddWatchMode, ErrorCode, WatcherType } from '../../protocol/constants.js';
import type { Id } from '../../protocol/records.js';
import type { Request } from '../../protocol/requests.js';
import { encodeMultiReadResponse, encodeReply } from '../../protocol/responses.js';
import type { ClientConnection } from '../net/client-connection.js';
import { addAuthIds, authenticate } from '../tree/acl.js';
import { javaStringHash } from '../tree/java-hash-set.js';
import type { ZkState } from '../tree/state.js';
import type { WatchTrigger } from '../tree/types.js';

export interface ReadContext {
  readonly state: ZkState;
  readonly superDigest: string | undefined;
  /** Delivers the notifications setWatches fires at once. */
  deliver(triggers: readonly WatchTrigger[]): void;
  /** Closes the connection after the reply just queued (failed auth). */
  closeSoon(conn: ClientConnection): void;
  /** Counts and logs a refused authentication (the node's one place for that). */
  authFailed(conn: ClientConnection, scheme: string): void;
}

/**
 * The iteration order of a connection's authInfo in ZooKeeper 3.8: a ConcurrentHashMap-backed
 * set of Id. It shows in whoAmI and in how an "auth" ACL expands (fixupACL walks authInfo).
 * Id.hashCode() is 37 * (37 * 17 + scheme.hashCode()) + id.hashCode(); the map spreads it
 * (h ^ h >>> 16) and keeps insertion order within a bin; its table starts at 16 bins and
 * doubles once it holds 3/4 of that (intra-bin order after such a resize is not modelled).
 */
function authInfoOrder(ids: readonly Id[]): Id[] {
  let bins = 16;
  while (ids.length >= bins - (bins >>> 2)) bins *= 2;
  const binOf = (id: Id) => {
    const h = (Math.imul(37, (Math.imul(37, 17) + javaStringHash(id.scheme)) | 0) + javaStringHash(id.id)) | 0;
    return ((h ^ (h >>> 16)) & 0x7fffffff) & (bins - 1);
  };
  return ids
    .map((id, i) => ({ id, i, bin: binOf(id) }))
    .sort((a, b) => a.bin - b.bin || a.i - b.i)
    .map(({ id }) => id);
}

/** AuthUtil.getUser for whoAmI: the provider's user name; "" for a scheme without one (super). */
function userName(id: Id): string {
  if (id.scheme === 'digest') return id.id.split(':')[0] ?? '';
  return id.scheme === 'ip' ? id.id : '';
}

const isWatcherType = (t: number): boolean => t === WatcherType.Children || t === WatcherType.Data || t === WatcherType.Any;

/** The reply frame for a request that is not a write, ping or closeSession. */
export function answerRead(ctx: ReadContext, conn: ClientConnection, sessionId: bigint, req: Request): Buffer {
  const state = ctx.state;
  const zxid = state.lastProcessedZxid;
  const header = (err = 0) => ({ xid: req.xid, zxid, err });
  const fail = (err: number) => encodeReply(header(err));
  const auth = conn.authIds;
  const watcher = (watch: boolean) => (watch ? conn.id : undefined);
  switch (req.kind) {
    case 'exists': {
      const r = state.exists(req.body.path, { authIds: auth, watcherId: watcher(req.body.watch) });
      return r.ok ? encodeReply(header(), { kind: 'exists', body: { stat: r.stat } }) : fail(r.err);
    }
    case 'getData': {
      const r = state.getData(req.body.path, { authIds: auth, watcherId: watcher(req.body.watch) });
      return r.ok ? encodeReply(header(), { kind: 'getData', body: { data: r.data, stat: r.stat } }) : fail(r.err);
    }
    case 'getChildren': {
      const r = state.getChildren(req.body.path, { authIds: auth, watcherId: watcher(req.body.watch) });
      return r.ok ? encodeReply(header(), { kind: 'getChildren', body: { children: r.children } }) : fail(r.err);
    }
    case 'getChildren2': {
      const r = state.getChildren2(req.body.path, { authIds: auth, watcherId: watcher(req.body.watch) });
      return r.ok ? encodeReply(header(), { kind: 'getChildren2', body: { children: r.children, stat: r.stat } }) : fail(r.err);
    }
    case 'getACL': {
      const r = state.getACL(req.body.path, auth);
      return r.ok ? encodeReply(header(), { kind: 'getACL', body: { acl: r.acl, stat: r.stat } }) : fail(r.err);
    }
    case 'getAllChildrenNumber': {
      const r = state.getAllChildrenNumber(req.body.path, auth);
      return r.ok ? encodeReply(header(), { kind: 'getAllChildrenNumber', body: { totalNumber: r.count } }) : fail(r.err);
    }
    case 'getEphemerals':
      return encodeReply(header(), { kind: 'getEphemerals', body: { ephemerals: state.getEphemerals(sessionId, req.body.prefixPath) } });
    case 'multiRead': {
      const ops = req.body.ops.map((op) => ({ op: op.type, path: op.body.path, watch: op.body.watch }));
      return encodeMultiReadResponse(header(), state.multiRead(ops, auth));
    }
    case 'sync':
      return encodeReply(header(), { kind: 'sync', body: { path: req.body.path } });
    case 'whoAmI':
      return encodeReply(header(), { kind: 'whoAmI', body: { clientInfo: auth.map((id) => ({ authScheme: id.scheme, user: userName(id) })) } });
    // ZooKeeper converts the mode/type with WatcherMode.fromZooKeeperMode / WatcherType.fromInt,
    // which throw for unknown values; FinalRequestProcessor answers that MARSHALLINGERROR.
    case 'addWatch':
      if (req.body.mode !== AddWatchMode.PERSISTENT && req.body.mode !== AddWatchMode.PERSISTENT_RECURSIVE) return fail(ErrorCode.MARSHALLINGERROR);
      state.addWatch(req.body.path, req.body.mode, conn.id);
      return encodeReply(header(), { kind: 'addWatch', body: { err: 0 } });
    case 'checkWatches':
      if (!isWatcherType(req.body.type)) return fail(ErrorCode.MARSHALLINGERROR);
      return fail(state.checkWatches(req.body.path, req.body.type, conn.id));
    case 'removeWatches':
      if (!isWatcherType(req.body.type)) return fail(ErrorCode.MARSHALLINGERROR);
      return fail(state.removeWatches(req.body.path, req.body.type, conn.id));
    case 'setWatches':
    case 'setWatches2': {
      const lists = req.body;
      ctx.deliver(state.setWatches(lists.relativeZxid, lists, conn.id));
      return encodeReply(header());
    }
    case 'auth': {
      const r = authenticate(req.body.scheme, req.body.auth, conn.remoteAddress, ctx.superDigest);
      // ZooKeeperServer.processPacket answers auth with zxid 0, not the last processed zxid.
      if (!r.ok) {
        // ZooKeeper answers AUTHFAILED and then closes the connection.
        ctx.authFailed(conn, req.body.scheme);
        ctx.closeSoon(conn);
        return encodeReply({ xid: req.xid, zxid: 0n, err: ErrorCode.AUTHFAILED });
      }
      conn.authIds = authInfoOrder(addAuthIds(conn.authIds, r.ids));
      return encodeReply({ xid: req.xid, zxid: 0n, err: 0 });
    }
    case 'reconfig':
      return fail(ErrorCode.RECONFIGDISABLED);
    default:
      return fail(ErrorCode.UNIMPLEMENTED);
  }
}
