/**
 * Translation between the wire (src/protocol) and the state machine (src/server/tree):
 * which requests are writes, how they become tree requests, how results become replies.
 */
import { ErrorCode, OpCode } from '../protocol/constants.js';
import type { MultiOp, MultiResult } from '../protocol/multi.js';
import type { Request } from '../protocol/requests.js';
import { encodeMultiResponse, encodeReply, type ResponseBody } from '../protocol/responses.js';
import type { ApplyResult, MultiOpResult, MultiSubRequest, WriteRequest } from './tree/types.js';

/**
 * A write ZooKeeper refuses before it becomes a txn, with the error it answers. A multi with a
 * null sub-op path fails in PrepRequestProcessor.getPendingChanges, before the txn header is
 * set: no zxid is used, and FinalRequestProcessor answers MARSHALLINGERROR.
 */
export function refusedBeforePrep(req: Request): number | undefined {
  if (req.kind === 'multi' && req.body.ops.some((op) => op.body.path === null)) return ErrorCode.MARSHALLINGERROR;
  return undefined;
}

/** The client write requests prep understands, or undefined for everything else. */
export function toWriteRequest(req: Request): WriteRequest | undefined {
  switch (req.kind) {
    case 'create':
    case 'create2':
    case 'createContainer':
      return { op: req.type, path: req.body.path, data: req.body.data, acl: req.body.acl, flags: req.body.flags };
    case 'createTTL':
      return { op: req.type, path: req.body.path, data: req.body.data, acl: req.body.acl, flags: req.body.flags, ttl: req.body.ttl };
    case 'delete':
      return { op: OpCode.delete, path: req.body.path, version: req.body.version };
    case 'setData':
      return { op: OpCode.setData, path: req.body.path, data: req.body.data, version: req.body.version };
    case 'setACL':
      return { op: OpCode.setACL, path: req.body.path, acl: req.body.acl, version: req.body.version };
    case 'multi':
      return { op: OpCode.multi, ops: req.body.ops.map(toMultiSub) };
    case 'closeSession':
      return { op: OpCode.closeSession };
    default:
      return undefined;
  }
}

/** CreateMode.fromFlag(flags, PERSISTENT) as Op.Create.getOpcode maps it (invalid flags count as PERSISTENT). */
function createOpcodeForFlags(flags: number): typeof OpCode.create | typeof OpCode.createContainer | typeof OpCode.createTTL {
  if (flags === 5 || flags === 6) return OpCode.createTTL;
  return flags === 4 ? OpCode.createContainer : OpCode.create;
}

/**
 * The index of the first sub-op ZooKeeper 3.8 cannot prep at all: a create, create2 or
 * createContainer sub-op with a TTL mode becomes an Op.Create with opcode createTTL, and
 * PrepRequestProcessor's cast of its CreateRequest to CreateTTLRequest throws, so unless an
 * earlier sub-op already failed, the whole multi is answered MARSHALLINGERROR. -1 when none.
 */
export function multiMarshallingErrorIndex(req: Request): number {
  if (req.kind !== 'multi') return -1;
  return req.body.ops.findIndex((op) => op.type !== OpCode.createTTL && 'flags' in op.body && createOpcodeForFlags(op.body.flags) === OpCode.createTTL);
}

/**
 * MultiOperationRecord.deserialize (3.8) rebuilds every create-like sub-op with Op.create(...),
 * whose opcode comes from the flags alone: create, create2 and createContainer sub-ops become
 * createContainer for the CONTAINER mode and create otherwise (so a create2 sub-op answers a
 * path-only create result); a createTTL sub-op stays createTTL only with a TTL mode and
 * otherwise becomes that flag-derived create, its ttl dropped.
 */
function toMultiSub(op: MultiOp): MultiSubRequest {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer: {
      const type = createOpcodeForFlags(op.body.flags);
      // A TTL mode here is the cast failure above: prep it as a createTTL with no valid ttl,
      // which fails, and writeReply turns that failure into MARSHALLINGERROR.
      if (type === OpCode.createTTL) return { op: type, path: op.body.path, data: op.body.data, acl: op.body.acl, flags: op.body.flags, ttl: -1n };
      return { op: type, path: op.body.path, data: op.body.data, acl: op.body.acl, flags: op.body.flags };
    }
    case OpCode.createTTL: {
      const type = createOpcodeForFlags(op.body.flags);
      if (type === OpCode.createTTL) return { op: type, path: op.body.path, data: op.body.data, acl: op.body.acl, flags: op.body.flags, ttl: op.body.ttl };
      return { op: type, path: op.body.path, data: op.body.data, acl: op.body.acl, flags: op.body.flags };
    }
    case OpCode.delete:
      return { op: OpCode.delete, path: op.body.path, version: op.body.version };
    case OpCode.setData:
      return { op: OpCode.setData, path: op.body.path, data: op.body.data, version: op.body.version };
    case OpCode.check:
      return { op: OpCode.check, path: op.body.path, version: op.body.version };
  }
}

function toMultiResult(r: MultiOpResult): MultiResult {
  switch (r.type) {
    case OpCode.create:
      return { type: OpCode.create, path: r.path };
    case OpCode.create2:
    case OpCode.createTTL:
    case OpCode.createContainer:
      // ZooKeeper reports TTL and container creates as create2 results.
      return { type: OpCode.create2, path: r.path, stat: r.stat };
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type: OpCode.delete };
    case OpCode.setData:
      return { type: OpCode.setData, stat: r.stat };
    case OpCode.check:
      return { type: OpCode.check };
    case OpCode.error:
      return { type: OpCode.error, err: r.err };
  }
}

/**
 * The reply frame for an applied write. `marshallingErrorIndex` is multiMarshallingErrorIndex
 * of the request: when that sub-op is the first to fail, ZooKeeper answers MARSHALLINGERROR.
 */
export function writeReply(kind: Request['kind'], xid: number, result: ApplyResult, marshallingErrorIndex = -1): Buffer {
  const header = { xid, zxid: result.zxid, err: result.err };
  if (kind === 'multi') {
    if (result.multi && marshallingErrorIndex >= 0 && result.multi.findIndex((r) => r.type === OpCode.error && r.err !== 0) === marshallingErrorIndex) {
      return encodeReply({ ...header, err: ErrorCode.MARSHALLINGERROR });
    }
    if (result.multi) return encodeMultiResponse(header, result.multi.map(toMultiResult));
    return encodeReply(header);
  }
  if (result.err !== 0) return encodeReply(header);
  let body: ResponseBody | undefined;
  switch (kind) {
    case 'create':
      body = { kind: 'create', body: { path: result.path! } };
      break;
    case 'create2':
    case 'createContainer':
    case 'createTTL':
      body = { kind, body: { path: result.path!, stat: result.stat! } };
      break;
    case 'setData':
      body = { kind: 'setData', body: { stat: result.stat! } };
      break;
    case 'setACL':
      body = { kind: 'setACL', body: { stat: result.stat! } };
      break;
    default:
      body = undefined;
  }
  return encodeReply(header, body);
}
