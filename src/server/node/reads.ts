/**
 * Requests that change nothing durable (reads, watches, auth), answered from the applied
 * state once every earlier write of the session has been applied here.
 */
import { AddWatchMode, ErrorCode, WatcherType } from '../../protocol/constants.js';
import type { Request } from '../../protocol/requests.js';
import { encodeMultiReadResponse, encodeReply } from '../../protocol/responses.js';
import type { ClientConnection } from '../net/client-connection.js';
import { authenticate } from '../tree/acl.js';
import { addAuthInfo, userName } from './auth-info.js';
import { answerSasl, type SaslContext } from './sasl.js';
import type { ZkState } from '../tree/state.js';
import type { WatchTrigger } from '../tree/types.js';

export interface ReadContext extends SaslContext {
  readonly state: ZkState;
  readonly superDigest: string | undefined;
  /** ServerConfig.reconfigEnabled (standalone only). */
  readonly reconfigEnabled: boolean;
  /** Delivers the notifications setWatches fires at once. */
  deliver(triggers: readonly WatchTrigger[]): void;
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
        ctx.authFailed(conn, `addAuth with scheme ${req.body.scheme ?? '<null>'}`);
        ctx.closeSoon(conn);
        return encodeReply({ xid: req.xid, zxid: 0n, err: ErrorCode.AUTHFAILED });
      }
      addAuthInfo(conn, r.ids);
      return encodeReply({ xid: req.xid, zxid: 0n, err: 0 });
    }
    case 'sasl':
      return answerSasl(ctx, conn, req.xid, req.body.token);
    case 'reconfig':
      // PrepRequestProcessor: RECONFIGDISABLED unless reconfigEnabled; then a standalone
      // server (not a LeaderZooKeeperServer) answers UNIMPLEMENTED.
      return fail(ctx.reconfigEnabled ? ErrorCode.UNIMPLEMENTED : ErrorCode.RECONFIGDISABLED);
    default:
      return fail(ErrorCode.UNIMPLEMENTED);
  }
}
