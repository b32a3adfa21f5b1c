export * from './errors.js';
export { LeaderElection, type ElectionEvents, type ElectionOptions, type LossReason, type Role } from './election.js';
export { LeaderObserver, type ObserverEvents } from './observer.js';
export { ZkSession, type SessionEvents, type SessionOptions } from './session.js';
export type { TlsOptions } from './tls-tunnel.js';
export { readCandidates, type CandidateInfo, type LeaderInfo } from './candidates.js';
export { parseConnectString } from './connect-string.js';
export { orderCandidates, parseSequence, validatePath } from './names.js';
export type { ZkOps, ZkStat, WatchEvent, CreateMode } from './zk-types.js';
