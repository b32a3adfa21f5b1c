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
  /** ServerConfig.reconfigEnabled (standalone only). */
  readonly reconfigEnabled: boolean;
  /** Delivers the notifications setWatches fires at once. */
  deliver(triggers: readonly WatchTrigger[]): void;
  /** Closes the connection after the reply just queued (failed auth). */
  closeSoon(conn: ClientConnection): void;
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


/**
 * The reply frame for a request that is not a write, ping or closeSession.
 *
 * A null path (length -1 on the wire) is answered as ZooKeeper 3.8's FinalRequestProcessor
 * answers it: where Java dereferences it (getNode(null) and friends), MARSHALLINGERROR with
 * the connection kept; sync echoes it; getEphemerals lists everything; addWatch registers a
 * watch no event can match; removeWatches finds none (NOWATCHER).
 */
export function answerRead(ctx: ReadContext, conn: ClientConnection, sessionId: bigint, req: Request): Buffer | undefined {
  const state = ctx.state;
  const zxid = state.lastProcessedZxid;
  const header = (err = 0) => ({ xid: req.xid, zxid, err });
  const fail = (err: number) => encodeReply(header(err));
  const auth = conn.authIds;
  const watcher = (watch: boolean) => (watch ? conn.id : undefined);
  /** ZooKeeper's handler dereferenced the path: getNode(null) threw. */
  const npe = () => fail(ErrorCode.MARSHALLINGERROR);
  switch (req.kind) {
    case 'exists': {
      const path = req.body.path;
      if (path === null) return npe();
      const r = state.exists(path, { authIds: auth, watcherId: watcher(req.body.watch) });
      return r.ok ? encodeReply(header(), { kind: 'exists', body: { stat: r.stat } }) : fail(r.err);
    }
    case 'getData': {
      const path = req.body.path;
      if (path === null) return npe();
      const r = state.getData(path, { authIds: auth, watcherId: watcher(req.body.watch) });
      return r.ok ? encodeReply(header(), { kind: 'getData', body: { data: r.data, stat: r.stat } }) : fail(r.err);
    }
    case 'getChildren': {
      const path = req.body.path;
      if (path === null) return npe();
      const r = state.getChildren(path, { authIds: auth, watcherId: watcher(req.body.watch) });
      return r.ok ? encodeReply(header(), { kind: 'getChildren', body: { children: r.children } }) : fail(r.err);
    }
    case 'getChildren2': {
      const path = req.body.path;
      if (path === null) return npe();
      const r = state.getChildren2(path, { authIds: auth, watcherId: watcher(req.body.watch) });
      return r.ok ? encodeReply(header(), { kind: 'getChildren2', body: { children: r.children, stat: r.stat } }) : fail(r.err);
    }
    case 'getACL': {
      const path = req.body.path;
      if (path === null) return npe();
      const r = state.getACL(path, auth);
      return r.ok ? encodeReply(header(), { kind: 'getACL', body: { acl: r.acl, stat: r.stat } }) : fail(r.err);
    }
    case 'getAllChildrenNumber': {
      const path = req.body.path;
      if (path === null) return npe();
      const r = state.getAllChildrenNumber(path, auth);
      return r.ok ? encodeReply(header(), { kind: 'getAllChildrenNumber', body: { totalNumber: r.count } }) : fail(r.err);
    }
    case 'getEphemerals':
      return encodeReply(header(), { kind: 'getEphemerals', body: { ephemerals: state.getEphemerals(sessionId, req.body.prefixPath) } });
    case 'multiRead': {
      const ops = [];
      for (const op of req.body.ops) {
        if (op.body.path === null) return npe();
        ops.push({ op: op.type, path: op.body.path, watch: op.body.watch });
      }
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
      if (req.body.path !== null) state.addWatch(req.body.path, req.body.mode, conn.id);
      return encodeReply(header(), { kind: 'addWatch', body: { err: 0 } });
    case 'checkWatches':
      if (!isWatcherType(req.body.type)) return fail(ErrorCode.MARSHALLINGERROR);
      if (req.body.path === null) return npe();
      return fail(state.checkWatches(req.body.path, req.body.type, conn.id));
    case 'removeWatches':
      if (!isWatcherType(req.body.type)) return fail(ErrorCode.MARSHALLINGERROR);
      if (req.body.path === null) return fail(ErrorCode.NOWATCHER);
      return fail(state.removeWatches(req.body.path, req.body.type, conn.id));
    case 'setWatches':
    case 'setWatches2': {
      const lists = req.body;
      const r = state.setWatches(lists.relativeZxid, lists, conn.id);
      ctx.deliver(r.triggers);
      return r.nullPath ? fail(ErrorCode.MARSHALLINGERROR) : encodeReply(header());
    }
    case 'auth': {
      const r = authenticate(req.body.scheme, req.body.auth, conn.remoteAddress, ctx.superDigest);
      // ZooKeeperServer.processPacket answers auth with zxid 0, not the last processed zxid.
      if (!r.ok) {
        // ZooKeeper answers AUTHFAILED and then closes the connection.
        ctx.closeSoon(conn);
        return encodeReply({ xid: req.xid, zxid: 0n, err: ErrorCode.AUTHFAILED });
      }
      conn.authIds = authInfoOrder(addAuthIds(conn.authIds, r.ids));
      return encodeReply({ xid: req.xid, zxid: 0n, err: 0 });
    }
    case 'sasl':
      // A server with no SASL login (no JAAS "Server" section): processSasl reads the token's
      // length (a null token throws and the connection is dropped unanswered), then its
      // missing SaslServer throws a NullPointerException that it catches, and answers OK with
      // no token.
      if (req.body.token === null) return undefined;
      return encodeReply({ xid: req.xid, zxid: 0n, err: 0 }, { kind: 'sasl', body: { token: null } });
    case 'reconfig':
      // PrepRequestProcessor: RECONFIGDISABLED unless reconfigEnabled; then a standalone
      // server (not a LeaderZooKeeperServer) answers UNIMPLEMENTED.
      return fail(ctx.reconfigEnabled ? ErrorCode.UNIMPLEMENTED : ErrorCode.RECONFIGDISABLED);
    default:
      return fail(ErrorCode.UNIMPLEMENTED);
  }
}
