/**
 * Types of the pure ZooKeeper 3.8 state machine. Longs (zxids, times, session ids, TTLs)
 * are bigint; ints are number. Op/txn type codes are ZooKeeper's OpCode values.
 */
import { OpCode } from '../../protocol/constants.js';

/** Id, ACL and Stat are the wire records themselves (org.apache.zookeeper.data.*). */
import type { ACL, Id, RequestACL, Stat } from '../../protocol/records.js';
import type { AclProviders } from './acl.js';
export type { ACL, Id, RequestACL, Stat };

/**
 * org.apache.zookeeper.data.StatPersisted: what the tree stores. Note `cversion` here counts
 * child creations only; the client-visible cversion is `cversion * 2 - numChildren`
 * (DataNode.copyStat), and sequence suffixes come from this persisted value.
 */
export interface StatPersisted {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  pzxid: bigint;
}

// ---------------------------------------------------------------------------------------------
// Write requests (input of prep). Paths and ACL ids are as the client sent them: null where
// the wire carried null, which prep answers where ZooKeeper's PrepRequestProcessor would
// (BADARGUMENTS from validatePath, MARSHALLINGERROR where Java dereferences the null).

export type CreateOpCode =
  | typeof OpCode.create
  | typeof OpCode.create2
  | typeof OpCode.createContainer
  | typeof OpCode.createTTL;

export interface CreateRequest {
  op: CreateOpCode;
  path: string | null;
  data: Buffer | null;
  acl: RequestACL[];
  /** CreateMode flag (0..6); validated like CreateMode.fromFlag. */
  flags: number;
  /** Only CreateTTLRequest carries a ttl; others behave as ttl = -1. */
  ttl?: bigint;
}
export interface DeleteRequest {
  op: typeof OpCode.delete;
  path: string | null;
  version: number;
}
export interface SetDataRequest {
  op: typeof OpCode.setData;
  path: string | null;
  data: Buffer | null;
  version: number;
}
export interface SetACLRequest {
  op: typeof OpCode.setACL;
  path: string | null;
  acl: RequestACL[];
  version: number;
}
export interface CheckRequest {
  op: typeof OpCode.check;
  path: string | null;
  version: number;
}
export type MultiSubRequest = CreateRequest | DeleteRequest | SetDataRequest | CheckRequest;
export interface MultiRequest {
  op: typeof OpCode.multi;
  ops: MultiSubRequest[];
}
export interface CreateSessionRequest {
  op: typeof OpCode.createSession;
  timeoutMs: number;
}
export interface CloseSessionRequest {
  op: typeof OpCode.closeSession;
}
/** Issued by the container/TTL reaper (ContainerManager) with sessionId 0. */
export interface DeleteContainerRequest {
  op: typeof OpCode.deleteContainer;
  path: string;
}
export type WriteRequest =
  | MultiSubRequest
  | SetACLRequest
  | MultiRequest
  | CreateSessionRequest
  | CloseSessionRequest
  | DeleteContainerRequest;

export interface PrepContext {
  /** The zxid this txn gets (every write, even a failing one, consumes one, as in ZooKeeper). */
  zxid: bigint;
  /** Wall-clock ms for TxnHeader.time (ctime/mtime). */
  timeMs: bigint;
  sessionId: bigint;
  /** The connection's auth ids (ip:<addr> added at connect, digest/super after addAuth). */
  authIds: readonly Id[];
  cxid: number;
}

// ---------------------------------------------------------------------------------------------
// Transactions (output of prep, input of apply, what the log stores): mirror zookeeper.jute txns

export type TxnBody =
  | {
      type: typeof OpCode.create | typeof OpCode.create2;
      path: string;
      data: Buffer | null;
      acl: ACL[];
      ephemeral: boolean;
      parentCVersion: number;
    }
  | { type: typeof OpCode.createTTL; path: string; data: Buffer | null; acl: ACL[]; parentCVersion: number; ttl: bigint }
  | { type: typeof OpCode.createContainer; path: string; data: Buffer | null; acl: ACL[]; parentCVersion: number }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer; path: string }
  | { type: typeof OpCode.setData; path: string; data: Buffer | null; version: number }
  | { type: typeof OpCode.setACL; path: string; acl: ACL[]; version: number }
  | { type: typeof OpCode.check; path: string; version: number }
  | { type: typeof OpCode.error; err: number }
  | { type: typeof OpCode.multi; txns: TxnBody[] }
  | { type: typeof OpCode.createSession; timeoutMs: number }
  | { type: typeof OpCode.closeSession; paths2Delete: string[] };

/** TxnHeader fields plus the body; the header's type is body.type. */
export interface Txn {
  sessionId: bigint;
  cxid: number;
  zxid: bigint;
  time: bigint;
  body: TxnBody;
}

// ---------------------------------------------------------------------------------------------
// Results

export interface WatchedEvent {
  type: number; // EventType
  state: number; // KeeperState.SyncConnected
  path: string;
}

export type WatcherId = number;

/**
 * One WatchManager.triggerWatch that reached at least one watcher. `acl` is the znode ACL
 * ZooKeeper 3.8 checks (READ, against the connection's auth ids) before delivering the event
 * (NIOServerCnxn.process(event, acl)); null means deliver unconditionally (setWatches).
 * Use `mayDeliver(trigger, authIds)`.
 */
export interface WatchTrigger {
  watcherIds: WatcherId[];
  event: WatchedEvent;
  acl: readonly ACL[] | null;
}

/** Per-op result of a multi, as FinalRequestProcessor maps ProcessTxnResults to OpResults. */
export type MultiOpResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2 | typeof OpCode.createTTL | typeof OpCode.createContainer; path: string; stat: Stat }
  | { type: typeof OpCode.delete | typeof OpCode.deleteContainer }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.error; err: number };

export interface ApplyResult {
  sessionId: bigint;
  cxid: number;
  zxid: bigint;
  /** TxnHeader type (OpCode.error for a failed non-multi request). */
  type: number;
  /**
   * ReplyHeader.err for the client. A failed multi still answers 0 here with the errors in
   * `multi` (FinalRequestProcessor only throws for non-multi requests).
   */
  err: number;
  /** create*: the created path. */
  path?: string;
  /** create2/createTTL/createContainer, setData, setACL. */
  stat?: Stat;
  multi?: MultiOpResult[];
  /** Watch events caused, in ZooKeeper's firing order. */
  triggers: WatchTrigger[];
}

export type ReadResult<T> = ({ ok: true } & T) | { ok: false; err: number };

export interface ReadOptions {
  authIds: readonly Id[];
  /** Register a watch for this watcher (the request's watch flag was set). */
  watcherId?: WatcherId;
}

export type MultiReadOp = { op: typeof OpCode.getData; path: string; watch?: boolean } | {
  op: typeof OpCode.getChildren;
  path: string;
  watch?: boolean;
};
export type MultiReadResult =
  | { type: typeof OpCode.getData; data: Buffer | null; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] }
  | { type: typeof OpCode.error; err: number };

export interface ZkStateOptions {
  /**
   * zookeeper.extendedTypesEnabled (default false, as in a stock 3.8 server): TTL nodes are
   * only accepted when true; otherwise createTTL with a TTL mode answers UNIMPLEMENTED.
   */
  extendedTypesEnabled?: boolean;
  /** Largest data accepted in create/setData (jute.maxbuffer); over it → BADARGUMENTS. */
  maxDataBytes?: number;
  /** Optional auth providers (authProvider.N): the `sasl` ACL scheme when the server has SASL users. */
  aclProviders?: AclProviders;
  /** znode.container.maxNeverUsedIntervalMs (default 0 = never reap never-used containers). */
  containerMaxNeverUsedIntervalMs?: bigint;
  /**
   * Emulate SessionTracker.checkSession in prep: writes from unknown or closing sessions fail
   * with SESSIONEXPIRED (default true).
   */
  checkSessions?: boolean;
}
