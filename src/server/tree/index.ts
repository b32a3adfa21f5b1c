/** Public surface of the pure ZooKeeper 3.8 state machine. */
export type {
  ACL, ApplyResult, CheckRequest, CloseSessionRequest, CreateOpCode, CreateRequest, CreateSessionRequest,
  DeleteContainerRequest, DeleteRequest, Id, MultiOpResult, MultiReadOp, MultiReadResult, MultiRequest,
  MultiSubRequest, PrepContext, ReadOptions, ReadResult, RequestACL, SetACLRequest, SetDataRequest, Stat, StatPersisted,
  Txn, TxnBody, WatchedEvent, WatcherId, WatchTrigger, WriteRequest, ZkStateOptions,
} from './types.js';
export { ZkState, type SessionInfo } from './state.js';
export type { SetWatchesLists } from './reads.js';
export {
  ANYONE_ID_UNSAFE, AUTH_IDS, CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE,
  DigestAuth, addAuthIds, authenticate, checkACL, fixupACL, mayDeliver, type AuthResult,
} from './acl.js';
export { isValidPath, isValidPathPrefix, pathError, sequenceSuffix } from './paths.js';
export {
  CONTAINER_EPHEMERAL_OWNER, TTL_MAX, ephemeralType, ttlOfEphemeralOwner, ttlToEphemeralOwner, type EphemeralKind,
} from './ephemeral-type.js';
export { decodeTxn, encodeTxn } from './txn-codec.js';
export { deserializeState, serializeState } from './snapshot-stream.js';
export { openSnapshot, snapshotSlices, SnapshotLoader, type SnapshotReader } from './snapshot-stream.js';
export { JavaHashSet, javaStringHash } from './java-hash-set.js';
