/**
 * Client → server direction: the ConnectRequest that opens a session, then requests, each a
 * RequestHeader {xid, type} followed by the body for that opcode.
 *
 * Frames here are payloads *without* the 4-byte length prefix (as FrameDecoder yields them);
 * every encode* function returns a complete frame *with* the prefix, ready for the socket.
 */
import { OpCode } from './constants.js';
import { frame, JuteReader, ProtocolError, type JuteReaderOptions, type JuteWriter } from './jute.js';
import { readMultiOps, readMultiReadOps, writeMultiOps, writeMultiReadOps, type MultiOp, type MultiReadOp } from './multi.js';
import * as R from './records.js';

/** The body record each opcode's request carries. */
export interface RequestBodies {
  create: R.CreateRequest;
  create2: R.CreateRequest;
  createContainer: R.CreateRequest;
  createTTL: R.CreateTTLRequest;
  delete: R.DeleteRequest;
  /**
   * Not a jute record: ZooKeeper reads a deleteContainer body as the raw UTF-8 path filling
   * the rest of the frame (it is normally generated server-side by the container reaper).
   */
  deleteContainer: R.PathRecord;
  exists: R.ExistsRequest;
  getData: R.GetDataRequest;
  setData: R.SetDataRequest;
  getACL: R.GetACLRequest;
  setACL: R.SetACLRequest;
  getChildren: R.GetChildrenRequest;
  getChildren2: R.GetChildren2Request;
  sync: R.SyncRequest;
  check: R.CheckVersionRequest;
  multi: { ops: MultiOp[] };
  multiRead: { ops: MultiReadOp[] };
  reconfig: R.ReconfigRequest;
  checkWatches: R.CheckWatchesRequest;
  removeWatches: R.RemoveWatchesRequest;
  auth: R.AuthPacket;
  setWatches: R.SetWatches;
  setWatches2: R.SetWatches2;
  sasl: R.SaslToken;
  getEphemerals: R.GetEphemeralsRequest;
  getAllChildrenNumber: R.GetAllChildrenNumberRequest;
  addWatch: R.AddWatchRequest;
}
export type BodyRequestKind = keyof RequestBodies;
/** Requests that are a bare header. */
export type BareRequestKind = 'ping' | 'closeSession' | 'whoAmI';
export type RequestKind = BodyRequestKind | BareRequestKind;

export type KnownRequest =
  | { [K in BodyRequestKind]: { kind: K; xid: number; type: (typeof OpCode)[K]; body: RequestBodies[K] } }[BodyRequestKind]
  | { [K in BareRequestKind]: { kind: K; xid: number; type: (typeof OpCode)[K] } }[BareRequestKind];

/**
 * An opcode this codec does not decode as a client request (including notification,
 * createSession and error, which clients never send). The server should answer the xid
 * with UNIMPLEMENTED rather than drop the connection; `body` holds the undecoded bytes.
 */
export interface UnknownRequest { kind: 'unknown'; xid: number; type: number; body: Buffer }

/** Switch on `kind` (the op's name) to narrow; `type` is the numeric opcode. */
export type Request = KnownRequest | UnknownRequest;

interface Codec<T> { read(r: JuteReader): T; write(w: JuteWriter, v: T): void }
const codec = <T>(read: (r: JuteReader) => T, write: (w: JuteWriter, v: T) => void): Codec<T> => ({ read, write });

const create = codec(R.readCreateRequest, R.writeCreateRequest);
const bodyCodecs: { [K in BodyRequestKind]: Codec<RequestBodies[K]> } = {
  create,
  create2: create,
  createContainer: create,
  createTTL: codec(R.readCreateTTLRequest, R.writeCreateTTLRequest),
  delete: codec(R.readDeleteRequest, R.writeDeleteRequest),
  deleteContainer: codec(
    (r) => ({ path: r.rest().toString('utf8') }),
    (w, v) => void w.raw(Buffer.from(v.path, 'utf8')),
  ),
  exists: codec(R.readExistsRequest, R.writeExistsRequest),
  getData: codec(R.readGetDataRequest, R.writeGetDataRequest),
  setData: codec(R.readSetDataRequest, R.writeSetDataRequest),
  getACL: codec(R.readGetACLRequest, R.writeGetACLRequest),
  setACL: codec(R.readSetACLRequest, R.writeSetACLRequest),
  getChildren: codec(R.readGetChildrenRequest, R.writeGetChildrenRequest),
  getChildren2: codec(R.readGetChildren2Request, R.writeGetChildren2Request),
  sync: codec(R.readSyncRequest, R.writeSyncRequest),
  check: codec(R.readCheckVersionRequest, R.writeCheckVersionRequest),
  multi: codec((r) => ({ ops: readMultiOps(r) }), (w, v) => writeMultiOps(w, v.ops)),
  multiRead: codec((r) => ({ ops: readMultiReadOps(r) }), (w, v) => writeMultiReadOps(w, v.ops)),
  reconfig: codec(R.readReconfigRequest, R.writeReconfigRequest),
  checkWatches: codec(R.readCheckWatchesRequest, R.writeCheckWatchesRequest),
  removeWatches: codec(R.readRemoveWatchesRequest, R.writeRemoveWatchesRequest),
  auth: codec(R.readAuthPacket, R.writeAuthPacket),
  setWatches: codec(R.readSetWatches, R.writeSetWatches),
  setWatches2: codec(R.readSetWatches2, R.writeSetWatches2),
  sasl: codec(R.readGetSASLRequest, R.writeGetSASLRequest),
  getEphemerals: codec(R.readGetEphemeralsRequest, R.writeGetEphemeralsRequest),
  getAllChildrenNumber: codec(R.readGetAllChildrenNumberRequest, R.writeGetAllChildrenNumberRequest),
  addWatch: codec(R.readAddWatchRequest, R.writeAddWatchRequest),
};
const bareKinds: ReadonlySet<string> = new Set<BareRequestKind>(['ping', 'closeSession', 'whoAmI']);

const kindByCode = new Map<number, RequestKind>();
for (const kind of [...Object.keys(bodyCodecs), ...bareKinds] as RequestKind[]) kindByCode.set(OpCode[kind], kind);

/** The request kind a client opcode decodes as, or undefined if decodeRequest calls it unknown. */
export function requestKind(type: number): RequestKind | undefined {
  return kindByCode.get(type);
}

/**
 * Decodes one request payload. Throws ProtocolError for malformed input, including bytes
 * left over after the body. When the header itself was readable the error carries it in
 * `header`, so a server can reply MARSHALLINGERROR to that xid as ZooKeeper does.
 */
export function decodeRequest(payload: Buffer, options: JuteReaderOptions = {}): Request {
  const r = new JuteReader(payload, options);
  const { xid, type } = R.readRequestHeader(r);
  const kind = kindByCode.get(type);
  if (kind === undefined) return { kind: 'unknown', xid, type, body: r.rest() };
  try {
    if (bareKinds.has(kind)) {
      r.end(kind);
      return { kind, xid, type } as Request;
    }
    const body = bodyCodecs[kind as BodyRequestKind].read(r);
    r.end(kind);
    return { kind, xid, type, body } as Request;
  } catch (e) {
    if (e instanceof ProtocolError) e.header = { xid, type };
    throw e;
  }
}

/** Encodes a request as a length-prefixed frame; the inverse of decodeRequest. */
export function encodeRequest(req: Request): Buffer {
  return frame((w) => {
    R.writeRequestHeader(w, { xid: req.xid, type: req.type });
    if (req.kind === 'unknown') w.raw(req.body);
    else if ('body' in req) (bodyCodecs[req.kind] as Codec<unknown>).write(w, req.body);
  });
}

/** Decodes the first frame of a session; `readOnly` is set only if the client sent the byte. */
export function decodeConnectRequest(payload: Buffer, options: JuteReaderOptions = {}): R.ConnectRequest {
  const r = new JuteReader(payload, options);
  const req = R.readConnectRequest(r);
  r.end('ConnectRequest');
  return req;
}

export function encodeConnectRequest(req: R.ConnectRequest): Buffer {
  return frame((w) => R.writeConnectRequest(w, req));
}
