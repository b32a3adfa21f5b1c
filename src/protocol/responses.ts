/**
 * Server → client direction: the ConnectResponse, then replies, each a ReplyHeader
 * {xid, zxid, err} optionally followed by the body for the request's opcode. Watch
 * notifications are replies with xid -1 and a WatcherEvent body.
 *
 * What ZooKeeper 3.8 puts after the header (FinalRequestProcessor / ZooKeeperServer):
 * - err != 0: nothing (clients skip the body on error); SASL errors are the exception and
 *   carry a null token.
 * - header only: delete, deleteContainer, ping, closeSession, setWatches(2), checkWatches,
 *   removeWatches, auth.
 * - addWatch: an ErrorResponse {0}; check (stand-alone): a Stat; reconfig: GetDataResponse;
 *   create2/createTTL/createContainer: Create2Response.
 * - multi: err 0 in the ReplyHeader even when the transaction failed; the per-op results
 *   carry the codes.
 */
import { OpCode, Xid } from './constants.js';
import { frame, JuteReader, type JuteReaderOptions, type JuteWriter } from './jute.js';
import {
  readMultiReadResults, readMultiResults, writeMultiReadResults, writeMultiResults,
  type MultiReadResult, type MultiResult,
} from './multi.js';
import * as R from './records.js';

export interface ResponseBodies {
  notification: R.WatcherEvent;
  create: R.CreateResponse;
  create2: R.Create2Response;
  createContainer: R.Create2Response;
  createTTL: R.Create2Response;
  exists: R.ExistsResponse;
  setData: R.SetDataResponse;
  setACL: R.SetACLResponse;
  check: R.StatResponse;
  getData: R.GetDataResponse;
  reconfig: R.GetDataResponse;
  getACL: R.GetACLResponse;
  getChildren: R.GetChildrenResponse;
  getChildren2: R.GetChildren2Response;
  sync: R.SyncResponse;
  getEphemerals: R.GetEphemeralsResponse;
  getAllChildrenNumber: R.GetAllChildrenNumberResponse;
  whoAmI: R.WhoAmIResponse;
  sasl: R.SaslToken;
  addWatch: R.ErrorResponse;
  multi: { results: MultiResult[] };
  multiRead: { results: MultiReadResult[] };
}
export type ResponseKind = keyof ResponseBodies;
/** A reply body tagged with the name of the op it answers. */
export type ResponseBody = { [K in ResponseKind]: { kind: K; body: ResponseBodies[K] } }[ResponseKind];

type Codec<T> = [read: (r: JuteReader) => T, write: (w: JuteWriter, v: T) => void];
const create2: Codec<R.Create2Response> = [R.readCreate2Response, R.writeCreate2Response];
const stat: Codec<R.StatResponse> = [R.readStatResponse, R.writeStatResponse];
const getData: Codec<R.GetDataResponse> = [R.readGetDataResponse, R.writeGetDataResponse];
const codecs: { [K in ResponseKind]: Codec<ResponseBodies[K]> } = {
  notification: [R.readWatcherEvent, R.writeWatcherEvent],
  create: [R.readCreateResponse, R.writeCreateResponse],
  create2,
  createContainer: create2,
  createTTL: create2,
  exists: stat,
  setData: stat,
  setACL: stat,
  check: stat,
  getData,
  reconfig: getData,
  getACL: [R.readGetACLResponse, R.writeGetACLResponse],
  getChildren: [R.readGetChildrenResponse, R.writeGetChildrenResponse],
  getChildren2: [R.readGetChildren2Response, R.writeGetChildren2Response],
  sync: [R.readSyncResponse, R.writeSyncResponse],
  getEphemerals: [R.readGetEphemeralsResponse, R.writeGetEphemeralsResponse],
  getAllChildrenNumber: [R.readGetAllChildrenNumberResponse, R.writeGetAllChildrenNumberResponse],
  whoAmI: [R.readWhoAmIResponse, R.writeWhoAmIResponse],
  sasl: [R.readSetSASLResponse, R.writeSetSASLResponse],
  addWatch: [R.readErrorResponse, R.writeErrorResponse],
  multi: [(r) => ({ results: readMultiResults(r) }), (w, v) => writeMultiResults(w, v.results)],
  multiRead: [(r) => ({ results: readMultiReadResults(r) }), (w, v) => writeMultiReadResults(w, v.results)],
};
const kindByCode = new Map<number, ResponseKind>(
  (Object.keys(codecs) as ResponseKind[]).map((kind) => [OpCode[kind], kind]),
);

/** Encodes a reply frame (length-prefixed): the header, then the body if one is given. */
export function encodeReply(header: R.ReplyHeader, response?: ResponseBody): Buffer {
  return frame((w) => {
    R.writeReplyHeader(w, header);
    if (response) (codecs[response.kind][1] as Codec<unknown>[1])(w, response.body);
  });
}

/** ZooKeeper 3.8 itself sends zxid -1 on notifications; clients do not use it. */
export function encodeWatcherEvent(zxid: bigint, event: R.WatcherEvent): Buffer {
  return encodeReply({ xid: Xid.NOTIFICATION, zxid, err: 0 }, { kind: 'notification', body: event });
}

export function encodeMultiResponse(header: R.ReplyHeader, results: MultiResult[]): Buffer {
  return encodeReply(header, { kind: 'multi', body: { results } });
}

export function encodeMultiReadResponse(header: R.ReplyHeader, results: MultiReadResult[]): Buffer {
  return encodeReply(header, { kind: 'multiRead', body: { results } });
}

/**
 * Send `readOnly` exactly when the ConnectRequest had it (ZooKeeper omits it for old
 * clients). The C client needs a 16-byte password here: it reads a fixed 41-byte frame.
 */
export function encodeConnectResponse(res: R.ConnectResponse): Buffer {
  return frame((w) => R.writeConnectResponse(w, res));
}

export function decodeConnectResponse(payload: Buffer, options: JuteReaderOptions = {}): R.ConnectResponse {
  const r = new JuteReader(payload, options);
  const res = R.readConnectResponse(r);
  r.end('ConnectResponse');
  return res;
}

export interface Reply { header: R.ReplyHeader; response?: ResponseBody }

/**
 * Decodes a reply payload given the opcode of the request it answers (a client looks the xid
 * up in its pending queue; xid -1 is a notification, pass OpCode.notification). The body is
 * decoded only when err is 0, as both reference clients do, and must then fill the frame
 * exactly; opcodes with no known body yield no `response`.
 */
export function decodeReply(payload: Buffer, op: number, options: JuteReaderOptions = {}): Reply {
  const r = new JuteReader(payload, options);
  const header = R.readReplyHeader(r);
  if (header.err !== 0) return { header };
  const kind = kindByCode.get(op);
  if (kind === undefined) {
    r.end(`reply to op ${op}`);
    return { header };
  }
  const body = codecs[kind][0](r);
  r.end(`${kind} reply`);
  return { header, response: { kind, body } as ResponseBody };
}
