/**
 * multi (14) and multiRead (22): MultiOperationRecord / MultiResponse are not plain jute
 * records. Each sub-op or result is preceded by a MultiHeader {int type, boolean done, int err}
 * and the list ends with the header {-1, true, -1}. Clients send err -1 on every sub-op
 * header; servers send err 0 on success headers and, for a failed sub-op, type -1 (error)
 * with err set, followed by an ErrorResponse carrying the same code.
 *
 * Readers stop at the first header with done set, whatever its type and err (as Java and the
 * C client do); writers always emit the canonical terminator.
 */
import { OpCode } from './constants.js';
import { ProtocolError, type JuteReader, type JuteWriter } from './jute.js';
import {
  readCheckVersionRequest, readCreateRequest, readCreateTTLRequest, readDeleteRequest, readGetChildrenRequest,
  readGetDataRequest, readMultiHeader, readSetDataRequest, readStat, writeCheckVersionRequest, writeCreateRequest,
  writeCreateTTLRequest, writeDeleteRequest, writeGetChildrenRequest, writeGetDataRequest, writeMultiHeader,
  writeSetDataRequest, writeStat,
  type CheckVersionRequest, type CreateRequest, type CreateTTLRequest, type DeleteRequest, type GetChildrenRequest,
  type GetDataRequest, type SetDataRequest, type Stat,
} from './records.js';

/** A sub-op of a multi (write) transaction. */
export type MultiOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; body: CreateRequest }
  | { type: typeof OpCode.createTTL; body: CreateTTLRequest }
  | { type: typeof OpCode.delete; body: DeleteRequest }
  | { type: typeof OpCode.setData; body: SetDataRequest }
  | { type: typeof OpCode.check; body: CheckVersionRequest };

/** A sub-op of a multiRead. ZooKeeper ignores the `watch` flag here (it never sets watches). */
export type MultiReadOp =
  | { type: typeof OpCode.getChildren; body: GetChildrenRequest }
  | { type: typeof OpCode.getData; body: GetDataRequest };

/**
 * A multi result. ZooKeeper reports createTTL/createContainer sub-ops as create2 results and
 * answers delete/check with a bare header.
 */
export type MultiResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: Stat }
  | { type: typeof OpCode.delete }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.error; err: number };

export type MultiReadResult =
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.getData; data: Buffer | null; stat: Stat }
  | { type: typeof OpCode.error; err: number };

const END = { type: OpCode.error, done: true, err: -1 };

function readList<T>(r: JuteReader, readItem: (type: number, err: number) => T): T[] {
  const out: T[] = [];
  for (let h = readMultiHeader(r); !h.done; h = readMultiHeader(r)) out.push(readItem(h.type, h.err));
  return out;
}

function badOp(type: number, where: string): never {
  throw new ProtocolError('invalid-multi-op', `sub-op type ${type} cannot appear in ${where}`);
}

export function readMultiOps(r: JuteReader): MultiOp[] {
  return readList(r, (type): MultiOp => {
    switch (type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        return { type, body: readCreateRequest(r) };
      case OpCode.createTTL:
        return { type, body: readCreateTTLRequest(r) };
      case OpCode.delete:
        return { type, body: readDeleteRequest(r) };
      case OpCode.setData:
        return { type, body: readSetDataRequest(r) };
      case OpCode.check:
        return { type, body: readCheckVersionRequest(r) };
      default:
        return badOp(type, 'multi');
    }
  });
}

export function writeMultiOps(w: JuteWriter, ops: readonly MultiOp[]): void {
  for (const op of ops) {
    writeMultiHeader(w, { type: op.type, done: false, err: -1 });
    switch (op.type) {
      case OpCode.createTTL: writeCreateTTLRequest(w, op.body); break;
      case OpCode.delete: writeDeleteRequest(w, op.body); break;
      case OpCode.setData: writeSetDataRequest(w, op.body); break;
      case OpCode.check: writeCheckVersionRequest(w, op.body); break;
      default: writeCreateRequest(w, op.body);
    }
  }
  writeMultiHeader(w, END);
}

export function readMultiReadOps(r: JuteReader): MultiReadOp[] {
  return readList(r, (type): MultiReadOp => {
    if (type === OpCode.getChildren) return { type, body: readGetChildrenRequest(r) };
    if (type === OpCode.getData) return { type, body: readGetDataRequest(r) };
    return badOp(type, 'multiRead');
  });
}

export function writeMultiReadOps(w: JuteWriter, ops: readonly MultiReadOp[]): void {
  for (const op of ops) {
    writeMultiHeader(w, { type: op.type, done: false, err: -1 });
    if (op.type === OpCode.getChildren) writeGetChildrenRequest(w, op.body);
    else writeGetDataRequest(w, op.body);
  }
  writeMultiHeader(w, END);
}

export function readMultiResults(r: JuteReader): MultiResult[] {
  return readList(r, (type): MultiResult => {
    switch (type) {
      case OpCode.create: return { type, path: r.string() };
      case OpCode.create2: return { type, path: r.string(), stat: readStat(r) };
      case OpCode.delete:
      case OpCode.check: return { type };
      case OpCode.setData: return { type, stat: readStat(r) };
      case OpCode.error: return { type, err: r.int() };
      default: return badOp(type, 'a multi response');
    }
  });
}

/** The header's err repeats the result's code (0 on success), as MultiResponse writes it. */
export function writeMultiResults(w: JuteWriter, results: readonly MultiResult[]): void {
  for (const res of results) {
    writeMultiHeader(w, { type: res.type, done: false, err: res.type === OpCode.error ? res.err : 0 });
    switch (res.type) {
      case OpCode.create: w.ustring(res.path); break;
      case OpCode.create2: w.ustring(res.path); writeStat(w, res.stat); break;
      case OpCode.setData: writeStat(w, res.stat); break;
      case OpCode.error: w.int(res.err); break;
      default: break; // delete and check have no body
    }
  }
  writeMultiHeader(w, END);
}

export function readMultiReadResults(r: JuteReader): MultiReadResult[] {
  return readList(r, (type): MultiReadResult => {
    switch (type) {
      case OpCode.getChildren: return { type, children: r.vector((x) => x.string()) };
      case OpCode.getData: return { type, data: r.buffer(), stat: readStat(r) };
      case OpCode.error: return { type, err: r.int() };
      default: return badOp(type, 'a multiRead response');
    }
  });
}

export function writeMultiReadResults(w: JuteWriter, results: readonly MultiReadResult[]): void {
  for (const res of results) {
    writeMultiHeader(w, { type: res.type, done: false, err: res.type === OpCode.error ? res.err : 0 });
    switch (res.type) {
      case OpCode.getChildren: w.vector(res.children, (x, s) => x.ustring(s)); break;
      case OpCode.getData: w.buffer(res.data); writeStat(w, res.stat); break;
      default: w.int(res.err);
    }
  }
  writeMultiHeader(w, END);
}
