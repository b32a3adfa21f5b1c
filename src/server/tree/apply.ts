/**
 * DataTree.processTxn (+ the session bookkeeping of ZooKeeperServer.processTxn and the
 * response mapping of FinalRequestProcessor): the only code that mutates the tree.
 */
import { ErrorCode, OpCode } from '../../protocol/constants.js';
import { CONTAINER_EPHEMERAL_OWNER, ttlToEphemeralOwner } from './ephemeral-type.js';
import { NoNodeError, NodeExistsError, type DataTree } from './data-tree.js';
import type { ApplyResult, MultiOpResult, Stat, Txn, TxnBody, WatchTrigger } from './types.js';

export interface SessionTable {
  addSession(sessionId: bigint, timeoutMs: number): void;
  removeSession(sessionId: bigint): void;
}

interface ProcessResult {
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
  multi?: ProcessResult[];
}

function processBody(tree: DataTree, txn: Txn, body: TxnBody, out: WatchTrigger[], sessions: SessionTable): ProcessResult {
  const rc: ProcessResult = { type: body.type, err: 0 };
  const { zxid, time, sessionId } = txn;
  try {
    switch (body.type) {
      case OpCode.create:
      case OpCode.create2: {
        rc.path = body.path;
        const stat = tree.createNode(body.path, body.data, body.acl, body.ephemeral ? sessionId : 0n, body.parentCVersion, zxid, time, out);
        if (body.type === OpCode.create2) rc.stat = stat;
        break;
      }
      case OpCode.createTTL:
        rc.path = body.path;
        rc.stat = tree.createNode(body.path, body.data, body.acl, ttlToEphemeralOwner(body.ttl), body.parentCVersion, zxid, time, out);
        break;
      case OpCode.createContainer:
        rc.path = body.path;
        rc.stat = tree.createNode(body.path, body.data, body.acl, CONTAINER_EPHEMERAL_OWNER, body.parentCVersion, zxid, time, out);
        break;
      case OpCode.delete:
      case OpCode.deleteContainer:
        rc.path = body.path;
        tree.deleteNode(body.path, zxid, out);
        break;
      case OpCode.setData:
        rc.path = body.path;
        rc.stat = tree.setData(body.path, body.data, body.version, zxid, time, out);
        break;
      case OpCode.setACL:
        rc.path = body.path;
        rc.stat = tree.setACL(body.path, body.acl, body.version);
        break;
      case OpCode.check:
        rc.path = body.path;
        break;
      case OpCode.error:
        rc.err = body.err;
        break;
      case OpCode.createSession:
        sessions.addSession(sessionId, body.timeoutMs);
        break;
      case OpCode.closeSession: {
        // killSession: the txn's paths first, then any the tree still lists for the session.
        const local = tree.ephemerals.get(sessionId);
        tree.ephemerals.delete(sessionId);
        const deleteAll = (paths: Iterable<string>): void => {
          for (const p of paths) {
            try {
              tree.deleteNode(p, zxid, out);
            } catch (e) {
              if (!(e instanceof NoNodeError)) throw e;
            }
          }
        };
        deleteAll(body.paths2Delete);
        if (local) {
          for (const p of body.paths2Delete) local.delete(p);
          deleteAll(local.toArray());
        }
        sessions.removeSession(sessionId);
        break;
      }
      case OpCode.multi: {
        const failed = body.txns.some((t) => t.type === OpCode.error);
        let postFailed = false;
        rc.multi = [];
        for (const sub of body.txns) {
          let eff = sub;
          if (sub.type === OpCode.error) postFailed = true;
          else if (failed) eff = { type: OpCode.error, err: postFailed ? ErrorCode.RUNTIMEINCONSISTENCY : ErrorCode.OK };
          const subRc = processBody(tree, txn, eff, out, sessions);
          rc.multi.push(subRc);
          if (subRc.err !== 0 && rc.err === 0) rc.err = subRc.err;
        }
        break;
      }
    }
  } catch (e) {
    if (e instanceof NoNodeError) rc.err = ErrorCode.NONODE;
    else if (e instanceof NodeExistsError) rc.err = ErrorCode.NODEEXISTS;
    else throw e;
  }
  return rc;
}

function toMultiOpResult(r: ProcessResult): MultiOpResult {
  switch (r.type) {
    case OpCode.check:
      return { type: OpCode.check };
    case OpCode.create:
      return { type: OpCode.create, path: r.path as string };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      return { type: r.type, path: r.path as string, stat: r.stat as Stat };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type: r.type };
    case OpCode.setData:
      return { type: OpCode.setData, stat: r.stat as Stat };
    default:
      return { type: OpCode.error, err: r.err };
  }
}

/** What applying produces before the txn header fields are attached (ZkState.apply adds them). */
export type ApplyCore = Omit<ApplyResult, 'sessionId' | 'cxid' | 'zxid'>;

/** processTxn + FinalRequestProcessor's reply err: a multi answers err 0 with per-op results. */
export function applyTxn(tree: DataTree, txn: Txn, sessions: SessionTable): ApplyCore {
  const triggers: WatchTrigger[] = [];
  const rc = processBody(tree, txn, txn.body, triggers, sessions);
  if (txn.zxid > tree.lastProcessedZxid) tree.lastProcessedZxid = txn.zxid;
  const out: ApplyCore = { type: rc.type, err: rc.type === OpCode.multi ? 0 : rc.err, triggers };
  if (rc.path !== undefined && rc.type !== OpCode.delete && rc.type !== OpCode.deleteContainer && rc.type !== OpCode.check) {
    if (rc.type !== OpCode.setData && rc.type !== OpCode.setACL) out.path = rc.path;
  }
  if (rc.stat !== undefined) out.stat = rc.stat;
  if (rc.multi) out.multi = rc.multi.map(toMultiOpResult);
  return out;
}
