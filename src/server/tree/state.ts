/**
 * ZkState: the whole pure state machine (applied tree, sessions, watches, outstanding changes).
 * prep() → Txn (deterministic; log/replicate it) → apply(Txn) → result + watch triggers.
 */
import { ErrorCode } from '../../protocol/constants.js';
import type { AclProviders } from './acl.js';
import { applyTxn, type SessionTable } from './apply.js';
import { DataTree } from './data-tree.js';
import { ephemeralType, ttlOfEphemeralOwner } from './ephemeral-type.js';
import { JavaHashSet } from './java-hash-set.js';
import { KeeperError, prepRequest, type ChangeRecord, type PrepEnv } from './prep.js';
import { TreeReads } from './reads.js';
import { treeDigest } from './snapshot-codec.js';
import { deserializeState, serializeState } from './snapshot-stream.js';
import type { ApplyResult, PrepContext, Txn, WriteRequest, ZkStateOptions } from './types.js';

export interface SessionInfo {
  timeoutMs: number;
}

export class ZkState extends TreeReads implements PrepEnv, SessionTable {
  readonly tree: DataTree;
  readonly outstanding: ChangeRecord[] = [];
  readonly outstandingForPath = new Map<string, ChangeRecord>();
  readonly extendedTypes: boolean;
  readonly maxDataBytes: number | undefined;
  readonly aclProviders: AclProviders;
  readonly containerMaxNeverUsedIntervalMs: bigint;
  readonly checkSessions: boolean;
  /** Committed sessions (createSession applied, closeSession not yet), in creation order. */
  readonly sessions = new Map<bigint, SessionInfo>();
  /** Sessions tracked by prep (createSession prepared) but not yet applied. */
  private readonly preparedSessions = new Map<bigint, SessionInfo>();
  private readonly closing = new Set<bigint>();

  constructor(options: ZkStateOptions = {}, tree?: DataTree) {
    super();
    this.extendedTypes = options.extendedTypesEnabled ?? false;
    this.maxDataBytes = options.maxDataBytes;
    this.aclProviders = options.aclProviders ?? {};
    this.containerMaxNeverUsedIntervalMs = options.containerMaxNeverUsedIntervalMs ?? 0n;
    this.checkSessions = options.checkSessions ?? true;
    this.tree = tree ?? new DataTree(this.extendedTypes);
  }

  get options(): ZkStateOptions {
    return {
      extendedTypesEnabled: this.extendedTypes,
      ...(this.maxDataBytes === undefined ? {} : { maxDataBytes: this.maxDataBytes }),
      aclProviders: this.aclProviders,
      containerMaxNeverUsedIntervalMs: this.containerMaxNeverUsedIntervalMs,
      checkSessions: this.checkSessions,
    };
  }

  get lastProcessedZxid(): bigint {
    return this.tree.lastProcessedZxid;
  }

  // --- sessions ------------------------------------------------------------------------------

  checkSession(sessionId: bigint): void {
    if (!this.checkSessions) return;
    const known = this.sessions.has(sessionId) || this.preparedSessions.has(sessionId);
    if (!known || this.closing.has(sessionId)) throw new KeeperError(ErrorCode.SESSIONEXPIRED);
  }

  trackSession(sessionId: bigint, timeoutMs: number): void {
    this.preparedSessions.set(sessionId, { timeoutMs });
    this.closing.delete(sessionId);
  }

  setSessionClosing(sessionId: bigint): void {
    this.closing.add(sessionId);
  }

  addSession(sessionId: bigint, timeoutMs: number): void {
    this.sessions.set(sessionId, { timeoutMs });
    this.preparedSessions.delete(sessionId);
  }

  removeSession(sessionId: bigint): void {
    this.sessions.delete(sessionId);
    this.preparedSessions.delete(sessionId);
    this.closing.delete(sessionId);
  }

  /** A committed session (createSession applied and not closed). */
  sessionExists(sessionId: bigint): boolean {
    return this.sessions.has(sessionId);
  }

  /** closeSession has been prepared for this session (its writes now fail SESSIONEXPIRED). */
  sessionIsClosing(sessionId: bigint): boolean {
    return this.closing.has(sessionId);
  }

  /** The session's ephemeral paths in ZooKeeper's (HashSet clone) order. */
  ephemeralsOf(sessionId: bigint): string[] {
    return this.tree.ephemeralsClone(sessionId).toArray();
  }

  // --- the pipeline -------------------------------------------------------------------------

  /** PrepRequestProcessor: never throws for request errors (they become ErrorTxns). */
  prep(request: WriteRequest, ctx: PrepContext): Txn {
    return prepRequest(this, request, ctx);
  }

  /**
   * FinalRequestProcessor: applies a txn (from prep, or from the log/leader) and drops the
   * outstanding change records with zxid <= txn.zxid.
   */
  apply(txn: Txn): ApplyResult {
    const core = applyTxn(this.tree, txn, this);
    while (this.outstanding.length > 0 && (this.outstanding[0] as ChangeRecord).zxid <= txn.zxid) {
      const cr = this.outstanding.shift() as ChangeRecord;
      if (this.outstandingForPath.get(cr.path) === cr) this.outstandingForPath.delete(cr.path);
    }
    return { sessionId: txn.sessionId, cxid: txn.cxid, zxid: txn.zxid, ...core };
  }

  /** Forget all outstanding changes (e.g. a follower discarding uncommitted proposals). */
  clearOutstanding(): void {
    this.outstanding.length = 0;
    this.outstandingForPath.clear();
    this.preparedSessions.clear();
    this.closing.clear();
  }

  // --- reaper --------------------------------------------------------------------------------

  /**
   * ContainerManager.getCandidates: empty containers that have had children (persisted
   * cversion > 0) or, with maxNeverUsedIntervalMs != 0, are older than it; empty TTL nodes whose
   * mtime is more than ttl ms before nowMs. Order: a Java HashSet of the candidates, like
   * ZooKeeper; issue one deleteContainer per path.
   */
  expiredContainersAndTtls(nowMs: bigint): string[] {
    const candidates = new JavaHashSet();
    for (const path of JavaHashSet.copyOf(this.tree.containers)) {
      const node = this.tree.getNode(path);
      if (node && node.numChildren === 0) {
        if (node.stat.cversion > 0) candidates.add(path);
        else if (this.containerMaxNeverUsedIntervalMs !== 0n && nowMs - node.stat.mtime > this.containerMaxNeverUsedIntervalMs) {
          candidates.add(path);
        }
      }
    }
    for (const path of JavaHashSet.copyOf(this.tree.ttls)) {
      const node = this.tree.getNode(path);
      if (node && node.numChildren === 0 && ephemeralType(node.stat.ephemeralOwner, this.extendedTypes) === 'TTL') {
        const ttl = ttlOfEphemeralOwner(node.stat.ephemeralOwner);
        if (ttl !== 0n && nowMs - node.stat.mtime > ttl) candidates.add(path);
      }
    }
    return candidates.toArray();
  }

  // --- snapshots -----------------------------------------------------------------------------

  /** Deterministic bytes of tree + sessions + lastProcessedZxid (not watches/outstanding). */
  serialize(): Buffer {
    return serializeState(this);
  }

  /** A new state from serialize()'s bytes; pass the same options the server runs with. */
  static deserialize(buf: Buffer, options: ZkStateOptions = {}): ZkState {
    return deserializeState(buf, options);
  }

  /** Hex SHA-1 of the tree (order-independent), for replica comparison. */
  digest(): string {
    return treeDigest(this.tree);
  }
}
