/**
 * Translation between the wire (src/protocol) and the state machine (src/server/tree):
 * which requests are writes, how they become tree requests, how results become replies.
 */
import { OpCode } from '../protocol/constants.js';
import type { MultiOp, MultiResult } from '../protocol/multi.js';
import type { Request } from '../protocol/requests.js';
import { encodeMultiResponse, encodeReply, type ResponseBody } from '../protocol/responses.js';
import type { ApplyResult, MultiOpResult, MultiSubRequest, WriteRequest } from './tree/types.js';

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

function toMultiSub(op: MultiOp): MultiSubRequest {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return { op: op.type, path: op.body.path, data: op.body.data, acl: op.body.acl, flags: op.body.flags };
    case OpCode.createTTL:
      return { op: op.type, path: op.body.path, data: op.body.data, acl: op.body.acl, flags: op.body.flags, ttl: op.body.ttl };
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

/** The reply frame for an applied write. */
export function writeReply(kind: Request['kind'], xid: number, result: ApplyResult): Buffer {
  const header = { xid, zxid: result.zxid, err: result.err };
  if (kind === 'multi') {
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
