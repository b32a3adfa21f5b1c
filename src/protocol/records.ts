/**
 * The jute records of the ZooKeeper 3.8 client protocol (zookeeper.jute), as TypeScript types
 * with read/write functions. Field order is the wire order; JS evaluates object literals in
 * source order, which is what the readers below rely on.
 *
 * Nullability: Java's jute reads every string and buffer of length -1 as null, and clients do
 * send them (kazoo writes any empty string as null: its CREATOR_ALL_ACL is Id("auth", ""), and
 * add_auth("ip", "") sends a null auth). So every string and buffer of a REQUEST record
 * decodes null as null, and the server decides what a null there means, as ZooKeeper does
 * (the tree's prep and fixupACL; src/server/node/reads.ts). Replies are read strictly (a null
 * where ZooKeeper never sends one is a ProtocolError), except the sync reply, which echoes the
 * request's path. Note the C client cannot parse a null string at all (its deserializer
 * returns -EINVAL), so a server must never send one unless the request carried it.
 */
import type { JuteReader, JuteWriter } from './jute.js';

export interface Id { scheme: string; id: string }
export interface ACL { perms: number; id: Id }
export interface ClientInfo { authScheme: string; user: string }
export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export const readId = (r: JuteReader): Id => ({ scheme: r.string(), id: r.string() });
export const writeId = (w: JuteWriter, v: Id | RequestId): void => void w.ustring(v.scheme).ustring(v.id);
export const readACL = (r: JuteReader): ACL => ({ perms: r.int(), id: readId(r) });
export function writeACL(w: JuteWriter, v: ACL | RequestACL): void {
  w.int(v.perms);
  writeId(w, v.id);
}
const readACLs = (r: JuteReader): ACL[] => r.vector(readACL);
const writeACLs = (w: JuteWriter, v: readonly (ACL | RequestACL)[]): void => void w.vector(v, writeACL);
const readStrings = (r: JuteReader): string[] => r.vector((x) => x.string());
const writeStrings = (w: JuteWriter, v: readonly (string | null)[]): void => void w.vector(v, (x, s) => x.ustring(s));

/** An Id or ACL as a request carries it: either string may be null on the wire. */
export interface RequestId { scheme: string | null; id: string | null }
export interface RequestACL { perms: number; id: RequestId }
export const readRequestId = (r: JuteReader): RequestId => ({ scheme: r.ustring(), id: r.ustring() });
export const readRequestACL = (r: JuteReader): RequestACL => ({ perms: r.int(), id: readRequestId(r) });
const readRequestACLs = (r: JuteReader): RequestACL[] => r.vector(readRequestACL);
const readRequestStrings = (r: JuteReader): (string | null)[] => r.vector((x) => x.ustring());

export const readClientInfo = (r: JuteReader): ClientInfo => ({ authScheme: r.string(), user: r.string() });
export const writeClientInfo = (w: JuteWriter, v: ClientInfo): void => void w.ustring(v.authScheme).ustring(v.user);

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}
export function writeStat(w: JuteWriter, s: Stat): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime);
  w.int(s.version).int(s.cversion).int(s.aversion);
  w.long(s.ephemeralOwner).int(s.dataLength).int(s.numChildren).long(s.pzxid);
}

// ---- session handshake: the first frame each way, with no request/reply header ----

/**
 * `readOnly` is a trailing byte that pre-3.4 clients omit; absent on the wire = undefined.
 * `passwd` may be null: ZooKeeper then creates a new session as usual and refuses a reattach.
 */
export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer | null;
  readOnly?: boolean;
}
export function readConnectRequest(r: JuteReader): ConnectRequest {
  const req: ConnectRequest = {
    protocolVersion: r.int(),
    lastZxidSeen: r.long(),
    timeOut: r.int(),
    sessionId: r.long(),
    passwd: r.buffer(),
  };
  if (r.remaining > 0) req.readOnly = r.bool();
  return req;
}
export function writeConnectRequest(w: JuteWriter, v: ConnectRequest): void {
  w.int(v.protocolVersion).long(v.lastZxidSeen).int(v.timeOut).long(v.sessionId).buffer(v.passwd);
  if (v.readOnly !== undefined) w.bool(v.readOnly);
}

/**
 * Like the request, `readOnly` trails and is omitted for old clients (ZooKeeper sends it only
 * if the request had it). The C client reads exactly 41 bytes here (prefix included), so the
 * password must be 16 bytes, as ZooKeeper's always are.
 */
export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly?: boolean;
}
export function readConnectResponse(r: JuteReader): ConnectResponse {
  const res: ConnectResponse = { protocolVersion: r.int(), timeOut: r.int(), sessionId: r.long(), passwd: r.bytes() };
  if (r.remaining > 0) res.readOnly = r.bool();
  return res;
}
export function writeConnectResponse(w: JuteWriter, v: ConnectResponse): void {
  w.int(v.protocolVersion).int(v.timeOut).long(v.sessionId).buffer(v.passwd);
  if (v.readOnly !== undefined) w.bool(v.readOnly);
}

// ---- headers ----

export interface RequestHeader { xid: number; type: number }
export const readRequestHeader = (r: JuteReader): RequestHeader => ({ xid: r.int(), type: r.int() });
export const writeRequestHeader = (w: JuteWriter, v: RequestHeader): void => void w.int(v.xid).int(v.type);

export interface ReplyHeader { xid: number; zxid: bigint; err: number }
export const readReplyHeader = (r: JuteReader): ReplyHeader => ({ xid: r.int(), zxid: r.long(), err: r.int() });
export const writeReplyHeader = (w: JuteWriter, v: ReplyHeader): void => void w.int(v.xid).long(v.zxid).int(v.err);

/** Precedes each multi sub-op and result; `done` is a one-byte boolean, not an int. */
export interface MultiHeader { type: number; done: boolean; err: number }
export const readMultiHeader = (r: JuteReader): MultiHeader => ({ type: r.int(), done: r.bool(), err: r.int() });
export const writeMultiHeader = (w: JuteWriter, v: MultiHeader): void => void w.int(v.type).bool(v.done).int(v.err);

export interface WatcherEvent { type: number; state: number; path: string }
export const readWatcherEvent = (r: JuteReader): WatcherEvent => ({ type: r.int(), state: r.int(), path: r.string() });
export const writeWatcherEvent = (w: JuteWriter, v: WatcherEvent): void => void w.int(v.type).int(v.state).ustring(v.path);

export interface AuthPacket { type: number; scheme: string | null; auth: Buffer | null }
export const readAuthPacket = (r: JuteReader): AuthPacket => ({ type: r.int(), scheme: r.ustring(), auth: r.buffer() });
export const writeAuthPacket = (w: JuteWriter, v: AuthPacket): void => void w.int(v.type).ustring(v.scheme).buffer(v.auth);

// ---- request bodies ----

export interface CreateRequest { path: string | null; data: Buffer | null; acl: RequestACL[]; flags: number }
export const readCreateRequest = (r: JuteReader): CreateRequest =>
  ({ path: r.ustring(), data: r.buffer(), acl: readRequestACLs(r), flags: r.int() });
export function writeCreateRequest(w: JuteWriter, v: CreateRequest): void {
  w.ustring(v.path).buffer(v.data);
  writeACLs(w, v.acl);
  w.int(v.flags);
}

export interface CreateTTLRequest extends CreateRequest { ttl: bigint }
export const readCreateTTLRequest = (r: JuteReader): CreateTTLRequest => ({ ...readCreateRequest(r), ttl: r.long() });
export function writeCreateTTLRequest(w: JuteWriter, v: CreateTTLRequest): void {
  writeCreateRequest(w, v);
  w.long(v.ttl);
}

/** Delete and Check share this shape. */
export interface PathVersionRequest { path: string | null; version: number }
export type DeleteRequest = PathVersionRequest;
export type CheckVersionRequest = PathVersionRequest;
const readPathVersion = (r: JuteReader): PathVersionRequest => ({ path: r.ustring(), version: r.int() });
const writePathVersion = (w: JuteWriter, v: PathVersionRequest): void => void w.ustring(v.path).int(v.version);

/** Exists, GetData, GetChildren and GetChildren2 share this shape. */
export interface PathWatchRequest { path: string | null; watch: boolean }
export type ExistsRequest = PathWatchRequest;
export type GetDataRequest = PathWatchRequest;
export type GetChildrenRequest = PathWatchRequest;
export type GetChildren2Request = PathWatchRequest;
const readPathWatch = (r: JuteReader): PathWatchRequest => ({ path: r.ustring(), watch: r.bool() });
const writePathWatch = (w: JuteWriter, v: PathWatchRequest): void => void w.ustring(v.path).bool(v.watch);

/** GetACL, Sync and GetAllChildrenNumber requests share this shape. */
export interface PathRequest { path: string | null }
export type GetACLRequest = PathRequest;
export type SyncRequest = PathRequest;
export type GetAllChildrenNumberRequest = PathRequest;
const readPathRequest = (r: JuteReader): PathRequest => ({ path: r.ustring() });
const writePathRequest = (w: JuteWriter, v: PathRequest): void => void w.ustring(v.path);

/** The create response (and deleteContainer's raw body). */
export interface PathRecord { path: string }
export type CreateResponse = PathRecord;
const readPath = (r: JuteReader): PathRecord => ({ path: r.string() });
const writePath = (w: JuteWriter, v: PathRecord): void => void w.ustring(v.path);

/** ZooKeeper echoes the request's path, so a sync of a null path is answered with a null path. */
export interface SyncResponse { path: string | null }
export const readSyncResponse = (r: JuteReader): SyncResponse => ({ path: r.ustring() });
export const writeSyncResponse = (w: JuteWriter, v: SyncResponse): void => void w.ustring(v.path);

export interface SetDataRequest { path: string | null; data: Buffer | null; version: number }
export const readSetDataRequest = (r: JuteReader): SetDataRequest => ({ path: r.ustring(), data: r.buffer(), version: r.int() });
export const writeSetDataRequest = (w: JuteWriter, v: SetDataRequest): void => void w.ustring(v.path).buffer(v.data).int(v.version);

export interface SetACLRequest { path: string | null; acl: RequestACL[]; version: number }
export const readSetACLRequest = (r: JuteReader): SetACLRequest => ({ path: r.ustring(), acl: readRequestACLs(r), version: r.int() });
export function writeSetACLRequest(w: JuteWriter, v: SetACLRequest): void {
  w.ustring(v.path);
  writeACLs(w, v.acl);
  w.int(v.version);
}

export interface SetWatches { relativeZxid: bigint; dataWatches: (string | null)[]; existWatches: (string | null)[]; childWatches: (string | null)[] }
export const readSetWatches = (r: JuteReader): SetWatches =>
  ({ relativeZxid: r.long(), dataWatches: readRequestStrings(r), existWatches: readRequestStrings(r), childWatches: readRequestStrings(r) });
export function writeSetWatches(w: JuteWriter, v: SetWatches): void {
  w.long(v.relativeZxid);
  for (const list of [v.dataWatches, v.existWatches, v.childWatches]) writeStrings(w, list);
}

export interface SetWatches2 extends SetWatches { persistentWatches: (string | null)[]; persistentRecursiveWatches: (string | null)[] }
export const readSetWatches2 = (r: JuteReader): SetWatches2 =>
  ({ ...readSetWatches(r), persistentWatches: readRequestStrings(r), persistentRecursiveWatches: readRequestStrings(r) });
export function writeSetWatches2(w: JuteWriter, v: SetWatches2): void {
  writeSetWatches(w, v);
  writeStrings(w, v.persistentWatches);
  writeStrings(w, v.persistentRecursiveWatches);
}

export interface AddWatchRequest { path: string | null; mode: number }
export const readAddWatchRequest = (r: JuteReader): AddWatchRequest => ({ path: r.ustring(), mode: r.int() });
export const writeAddWatchRequest = (w: JuteWriter, v: AddWatchRequest): void => void w.ustring(v.path).int(v.mode);

/** CheckWatches and RemoveWatches share this shape; `type` is a WatcherType. */
export interface WatchesRequest { path: string | null; type: number }
export type CheckWatchesRequest = WatchesRequest;
export type RemoveWatchesRequest = WatchesRequest;
const readWatches = (r: JuteReader): WatchesRequest => ({ path: r.ustring(), type: r.int() });
const writeWatches = (w: JuteWriter, v: WatchesRequest): void => void w.ustring(v.path).int(v.type);

export interface GetEphemeralsRequest { prefixPath: string | null }
export const readGetEphemeralsRequest = (r: JuteReader): GetEphemeralsRequest => ({ prefixPath: r.ustring() });
export const writeGetEphemeralsRequest = (w: JuteWriter, v: GetEphemeralsRequest): void => void w.ustring(v.prefixPath);

export interface ReconfigRequest {
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: bigint;
}
export const readReconfigRequest = (r: JuteReader): ReconfigRequest =>
  ({ joiningServers: r.ustring(), leavingServers: r.ustring(), newMembers: r.ustring(), curConfigId: r.long() });
export const writeReconfigRequest = (w: JuteWriter, v: ReconfigRequest): void =>
  void w.ustring(v.joiningServers).ustring(v.leavingServers).ustring(v.newMembers).long(v.curConfigId);

/** GetSASLRequest and SetSASLResponse: one opaque token, null in ZooKeeper's SASL error replies. */
export interface SaslToken { token: Buffer | null }
const readSaslToken = (r: JuteReader): SaslToken => ({ token: r.buffer() });
const writeSaslToken = (w: JuteWriter, v: SaslToken): void => void w.buffer(v.token);

// ---- response bodies ----

export interface Create2Response { path: string; stat: Stat }
export const readCreate2Response = (r: JuteReader): Create2Response => ({ path: r.string(), stat: readStat(r) });
export function writeCreate2Response(w: JuteWriter, v: Create2Response): void {
  w.ustring(v.path);
  writeStat(w, v.stat);
}

/** Exists, SetData, SetACL (and a stand-alone Check) answer with just a Stat. */
export interface StatResponse { stat: Stat }
export type ExistsResponse = StatResponse;
export type SetDataResponse = StatResponse;
export type SetACLResponse = StatResponse;
const readStatResponse = (r: JuteReader): StatResponse => ({ stat: readStat(r) });
const writeStatResponse = (w: JuteWriter, v: StatResponse): void => writeStat(w, v.stat);

export interface GetDataResponse { data: Buffer | null; stat: Stat }
export const readGetDataResponse = (r: JuteReader): GetDataResponse => ({ data: r.buffer(), stat: readStat(r) });
export function writeGetDataResponse(w: JuteWriter, v: GetDataResponse): void {
  w.buffer(v.data);
  writeStat(w, v.stat);
}

export interface GetACLResponse { acl: ACL[]; stat: Stat }
export const readGetACLResponse = (r: JuteReader): GetACLResponse => ({ acl: readACLs(r), stat: readStat(r) });
export function writeGetACLResponse(w: JuteWriter, v: GetACLResponse): void {
  writeACLs(w, v.acl);
  writeStat(w, v.stat);
}

export interface GetChildrenResponse { children: string[] }
export const readGetChildrenResponse = (r: JuteReader): GetChildrenResponse => ({ children: readStrings(r) });
export const writeGetChildrenResponse = (w: JuteWriter, v: GetChildrenResponse): void => writeStrings(w, v.children);

export interface GetChildren2Response { children: string[]; stat: Stat }
export const readGetChildren2Response = (r: JuteReader): GetChildren2Response => ({ children: readStrings(r), stat: readStat(r) });
export function writeGetChildren2Response(w: JuteWriter, v: GetChildren2Response): void {
  writeStrings(w, v.children);
  writeStat(w, v.stat);
}

export interface GetEphemeralsResponse { ephemerals: string[] }
export const readGetEphemeralsResponse = (r: JuteReader): GetEphemeralsResponse => ({ ephemerals: readStrings(r) });
export const writeGetEphemeralsResponse = (w: JuteWriter, v: GetEphemeralsResponse): void => writeStrings(w, v.ephemerals);

export interface GetAllChildrenNumberResponse { totalNumber: number }
export const readGetAllChildrenNumberResponse = (r: JuteReader): GetAllChildrenNumberResponse => ({ totalNumber: r.int() });
export const writeGetAllChildrenNumberResponse = (w: JuteWriter, v: GetAllChildrenNumberResponse): void => void w.int(v.totalNumber);

export interface WhoAmIResponse { clientInfo: ClientInfo[] }
export const readWhoAmIResponse = (r: JuteReader): WhoAmIResponse => ({ clientInfo: r.vector(readClientInfo) });
export const writeWhoAmIResponse = (w: JuteWriter, v: WhoAmIResponse): void => void w.vector(v.clientInfo, writeClientInfo);

export interface ErrorResponse { err: number }
export const readErrorResponse = (r: JuteReader): ErrorResponse => ({ err: r.int() });
export const writeErrorResponse = (w: JuteWriter, v: ErrorResponse): void => void w.int(v.err);

// One shape, several record names: export each under every name the protocol uses.
export {
  readPathVersion as readDeleteRequest, writePathVersion as writeDeleteRequest,
  readPathVersion as readCheckVersionRequest, writePathVersion as writeCheckVersionRequest,
  readPathWatch as readExistsRequest, writePathWatch as writeExistsRequest,
  readPathWatch as readGetDataRequest, writePathWatch as writeGetDataRequest,
  readPathWatch as readGetChildrenRequest, writePathWatch as writeGetChildrenRequest,
  readPathWatch as readGetChildren2Request, writePathWatch as writeGetChildren2Request,
  readPathRequest as readGetACLRequest, writePathRequest as writeGetACLRequest,
  readPathRequest as readSyncRequest, writePathRequest as writeSyncRequest,
  readPathRequest as readGetAllChildrenNumberRequest, writePathRequest as writeGetAllChildrenNumberRequest,
  readPath as readCreateResponse, writePath as writeCreateResponse,
  readWatches as readCheckWatchesRequest, writeWatches as writeCheckWatchesRequest,
  readWatches as readRemoveWatchesRequest, writeWatches as writeRemoveWatchesRequest,
  readSaslToken as readGetSASLRequest, writeSaslToken as writeGetSASLRequest,
  readSaslToken as readSetSASLResponse, writeSaslToken as writeSetSASLResponse,
  readStatResponse as readExistsResponse, writeStatResponse as writeExistsResponse,
  readStatResponse as readSetDataResponse, writeStatResponse as writeSetDataResponse,
  readStatResponse as readSetACLResponse, writeStatResponse as writeSetACLResponse,
  readPathVersion, writePathVersion, readPathWatch, writePathWatch, readPath, writePath, readPathRequest, writePathRequest,
  readWatches, writeWatches, readSaslToken, writeSaslToken, readStatResponse, writeStatResponse,
};
