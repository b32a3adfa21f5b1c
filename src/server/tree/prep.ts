/**
 * PrepRequestProcessor: turns a write request into a deterministic txn, validating it against
 * the applied tree plus outstanding (prepared, not yet applied) change records, in ZooKeeper's
 * exact check order. Failures become ErrorTxns; every write consumes its zxid either way.
 */
import { ErrorCode, OpCode, Perm } from '../../protocol/constants.js';
import { checkACL, fixupACL, type AclProviders } from './acl.js';
import { createStat, type DataTree } from './data-tree.js';
import { createModeOf, ephemeralType, isValidTtl, ttlToEphemeralOwner } from './ephemeral-type.js';
import { deref, JavaNullPointer } from './java-null.js';
import { isSpecialPath, isValidPath, sequenceSuffix } from './paths.js';
import type { ACL, CreateRequest, MultiSubRequest, PrepContext, RequestACL, StatPersisted, Txn, TxnBody, WriteRequest } from './types.js';

export class KeeperError extends Error {
  constructor(readonly code: number, readonly path?: string) {
    super(`KeeperError ${code}${path === undefined ? '' : ` ${path}`}`);
  }
}

/** PrepRequestProcessor.ChangeRecord; stat null marks a pending delete. */
export interface ChangeRecord {
  zxid: bigint;
  path: string;
  stat: StatPersisted | null;
  childCount: number;
  acl: readonly ACL[] | null;
}

/** What prep needs from the state: the applied tree, outstanding changes and sessions. */
export interface PrepEnv {
  readonly tree: DataTree;
  readonly outstanding: ChangeRecord[];
  readonly outstandingForPath: Map<string, ChangeRecord>;
  readonly extendedTypes: boolean;
  readonly maxDataBytes: number | undefined;
  /** Optional auth providers the server registered (the `sasl` ACL scheme). */
  readonly aclProviders?: AclProviders;
  /** SessionTracker.checkSession: throws SESSIONEXPIRED for unknown/closing sessions. */
  checkSession(sessionId: bigint): void;
  trackSession(sessionId: bigint, timeoutMs: number): void;
  setSessionClosing(sessionId: bigint): void;
}

function dup(c: ChangeRecord, zxid: bigint): ChangeRecord {
  return { zxid, path: c.path, stat: c.stat ? { ...c.stat } : null, childCount: c.childCount, acl: c.acl };
}

function getRecordForPath(env: PrepEnv, path: string): ChangeRecord & { stat: StatPersisted } {
  let last = env.outstandingForPath.get(path);
  if (!last) {
    const id = env.tree.idOf(path);
    if (id >= 0) last = { zxid: -1n, path, stat: env.tree.persistedStat(id), childCount: env.tree.numChildrenOf(id), acl: env.tree.aclOf(id) };
  }
  if (!last || last.stat === null) throw new KeeperError(ErrorCode.NONODE, path);
  return last as ChangeRecord & { stat: StatPersisted };
}

function addChangeRecord(env: PrepEnv, c: ChangeRecord): void {
  env.outstanding.push(c);
  env.outstandingForPath.set(c.path, c);
}

function checkPerm(acl: readonly ACL[] | null, perm: number, ctx: PrepContext): void {
  if (!checkACL(acl, perm, ctx.authIds)) throw new KeeperError(ErrorCode.NOAUTH);
}

/** PrepRequestProcessor.validatePath: PathUtils throws IllegalArgumentException for null too. */
function validatePath(path: string | null): asserts path is string {
  if (path === null || !isValidPath(path)) throw new KeeperError(ErrorCode.BADARGUMENTS, path ?? undefined);
}

function getParentPathAndValidate(path: string): string {
  const lastSlash = path.lastIndexOf('/');
  if (lastSlash === -1 || path.includes('\0') || isSpecialPath(path)) throw new KeeperError(ErrorCode.BADARGUMENTS, path);
  return path.substring(0, lastSlash);
}

function checkAndIncVersion(current: number, expected: number, path: string): number {
  if (expected !== -1 && expected !== current) throw new KeeperError(ErrorCode.BADVERSION, path);
  return (current + 1) | 0;
}

function checkDataSize(env: PrepEnv, data: Buffer | null, path: string | null): void {
  if (env.maxDataBytes !== undefined && data !== null && data.length > env.maxDataBytes) {
    throw new KeeperError(ErrorCode.BADARGUMENTS, path ?? undefined);
  }
}

function fixup(env: PrepEnv, path: string, ctx: PrepContext, acl: RequestACL[]): ACL[] {
  const fixed = fixupACL(ctx.authIds, acl, env.aclProviders);
  if (fixed === null) throw new KeeperError(ErrorCode.INVALIDACL, path);
  return fixed;
}

/** pRequest2TxnCreate. */
function prepCreate(env: PrepEnv, req: CreateRequest, ctx: PrepContext): TxnBody {
  const zxid = ctx.zxid;
  const ttl = req.op === OpCode.createTTL ? (req.ttl ?? -1n) : -1n;
  checkDataSize(env, req.data, req.path);
  const mode = createModeOf(req.flags);
  if (mode === null) throw new KeeperError(ErrorCode.BADARGUMENTS, req.path ?? undefined);
  // validateCreateRequest
  if (mode.ttl && !env.extendedTypes) throw new KeeperError(ErrorCode.UNIMPLEMENTED);
  if (mode.ttl ? !isValidTtl(ttl) : ttl >= 0n) throw new KeeperError(ErrorCode.BADARGUMENTS, req.path ?? undefined);
  env.checkSession(ctx.sessionId);
  // validatePathForCreate (its path.lastIndexOf is where a null path fails)
  let path = deref(req.path, 'validatePathForCreate');
  const lastSlash = path.lastIndexOf('/');
  if (lastSlash === -1 || path.includes('\0')) throw new KeeperError(ErrorCode.BADARGUMENTS, path);
  const parentPath = path.substring(0, lastSlash);
  const listACL = fixup(env, path, ctx, req.acl);
  let parent = getRecordForPath(env, parentPath);
  checkPerm(parent.acl, Perm.CREATE, ctx);
  const parentCVersion = parent.stat.cversion;
  if (mode.sequential) path = path + sequenceSuffix(parentCVersion);
  validatePath(path);
  let exists = true;
  try {
    getRecordForPath(env, path);
  } catch (e) {
    if (!(e instanceof KeeperError)) throw e;
    exists = false;
  }
  if (exists) throw new KeeperError(ErrorCode.NODEEXISTS, path);
  if (ephemeralType(parent.stat.ephemeralOwner, env.extendedTypes) === 'NORMAL') {
    throw new KeeperError(ErrorCode.NOCHILDRENFOREPHEMERALS, path);
  }
  if (req.op === OpCode.createTTL && !mode.ttl) {
    // ZooKeeper would log a CreateTTLTxn with ttl -1 and then fail applying it
    // (TTL.toEphemeralOwner throws); we refuse it up front instead.
    throw new KeeperError(ErrorCode.BADARGUMENTS, path);
  }
  const newCversion = (parent.stat.cversion + 1) | 0;
  let body: TxnBody;
  if (req.op === OpCode.createContainer) {
    body = { type: OpCode.createContainer, path, data: req.data, acl: listACL, parentCVersion: newCversion };
  } else if (req.op === OpCode.createTTL) {
    body = { type: OpCode.createTTL, path, data: req.data, acl: listACL, parentCVersion: newCversion, ttl };
  } else {
    body = { type: req.op, path, data: req.data, acl: listACL, ephemeral: mode.ephemeral, parentCVersion: newCversion };
  }
  let owner = 0n;
  if (mode.container) owner = -(1n << 63n);
  else if (mode.ttl) owner = ttlToEphemeralOwner(ttl);
  else if (mode.ephemeral) owner = ctx.sessionId;
  parent = dup(parent, zxid) as typeof parent;
  parent.childCount++;
  parent.stat.cversion = newCversion;
  parent.stat.pzxid = zxid;
  addChangeRecord(env, parent);
  addChangeRecord(env, { zxid, path, stat: createStat(zxid, ctx.timeMs, owner), childCount: 0, acl: listACL });
  return body;
}

function prepDelete(env: PrepEnv, path: string, zxid: bigint, byReaper: boolean, version: number, ctx: PrepContext): TxnBody {
  const parentPath = getParentPathAndValidate(path);
  let parent: ChangeRecord & { stat: StatPersisted };
  if (byReaper) {
    // deleteContainer: no session/ACL/version checks; NORMAL ephemerals answer BADVERSION.
    const node = getRecordForPath(env, path);
    if (node.childCount > 0) throw new KeeperError(ErrorCode.NOTEMPTY, path);
    if (ephemeralType(node.stat.ephemeralOwner, env.extendedTypes) === 'NORMAL') {
      throw new KeeperError(ErrorCode.BADVERSION, path);
    }
    parent = getRecordForPath(env, parentPath);
  } else {
    parent = getRecordForPath(env, parentPath);
    checkPerm(parent.acl, Perm.DELETE, ctx);
    const node = getRecordForPath(env, path);
    checkAndIncVersion(node.stat.version, version, path);
    if (node.childCount > 0) throw new KeeperError(ErrorCode.NOTEMPTY, path);
  }
  const p = dup(parent, zxid);
  p.childCount--;
  (p.stat as StatPersisted).pzxid = zxid;
  addChangeRecord(env, p);
  addChangeRecord(env, { zxid, path, stat: null, childCount: -1, acl: null });
  return { type: byReaper ? OpCode.deleteContainer : OpCode.delete, path };
}

/** pRequest2Txn for everything but createSession/closeSession. */
function prepOne(env: PrepEnv, req: MultiSubRequest | Exclude<WriteRequest, MultiSubRequest>, ctx: PrepContext): TxnBody {
  const zxid = ctx.zxid;
  switch (req.op) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return prepCreate(env, req, ctx);
    case OpCode.deleteContainer:
      return prepDelete(env, req.path, zxid, true, -1, ctx);
    case OpCode.delete:
      env.checkSession(ctx.sessionId);
      return prepDelete(env, deref(req.path, 'getParentPathAndValidate'), zxid, false, req.version, ctx);
    case OpCode.setData: {
      env.checkSession(ctx.sessionId);
      checkDataSize(env, req.data, req.path);
      validatePath(req.path);
      let node = getRecordForPath(env, req.path);
      checkPerm(node.acl, Perm.WRITE, ctx);
      const newVersion = checkAndIncVersion(node.stat.version, req.version, req.path);
      node = dup(node, zxid) as typeof node;
      node.stat.version = newVersion;
      node.stat.mtime = ctx.timeMs;
      node.stat.mzxid = zxid;

      addChangeRecord(env, node);
      return { type: OpCode.setData, path: req.path, data: req.data, version: newVersion };
    }
    case OpCode.setACL: {
      env.checkSession(ctx.sessionId);
      validatePath(req.path);
      const listACL = fixup(env, req.path, ctx, req.acl);
      let node = getRecordForPath(env, req.path);
      checkPerm(node.acl, Perm.ADMIN, ctx);
      const newVersion = checkAndIncVersion(node.stat.aversion, req.version, req.path);
      node = dup(node, zxid) as typeof node;
      node.stat.aversion = newVersion;
      // As in ZooKeeper 3.8, the duplicated record keeps the OLD acl: requests queued behind an
      // unapplied setACL are still checked against the previous ACL.
      addChangeRecord(env, node);
      return { type: OpCode.setACL, path: req.path, acl: listACL, version: newVersion };
    }
    case OpCode.check: {
      env.checkSession(ctx.sessionId);
      validatePath(req.path);
      const node = getRecordForPath(env, req.path);
      checkPerm(node.acl, Perm.READ, ctx);
      return { type: OpCode.check, path: req.path, version: checkAndIncVersion(node.stat.version, req.version, req.path) };
    }
    default:
      throw new KeeperError(ErrorCode.UNIMPLEMENTED);
  }
}

function prepCloseSession(env: PrepEnv, ctx: PrepContext): TxnBody {
  const es = env.tree.ephemeralsClone(ctx.sessionId);
  for (const c of env.outstanding) {
    if (c.stat === null) es.delete(c.path);
    else if (c.stat.ephemeralOwner === ctx.sessionId) es.add(c.path);
  }
  const paths = es.toArray();
  for (const path of paths) {
    // digestEnabled (default true): the parent record gets pzxid but NOT childCount-- (3.8 quirk).
    const parent = dup(getRecordForPath(env, getParentPathAndValidate(path)), ctx.zxid);
    (parent.stat as StatPersisted).pzxid = ctx.zxid;
    addChangeRecord(env, parent);
    addChangeRecord(env, { zxid: ctx.zxid, path, stat: null, childCount: 0, acl: null });
  }
  env.setSessionClosing(ctx.sessionId);
  return { type: OpCode.closeSession, paths2Delete: paths };
}

/** ZooKeeper's getPendingChanges + rollbackPendingChanges for a failed multi. */
function rollback(env: PrepEnv, zxid: bigint, saved: Map<string, ChangeRecord>): void {
  while (env.outstanding.length > 0 && (env.outstanding[env.outstanding.length - 1] as ChangeRecord).zxid === zxid) {
    const c = env.outstanding.pop() as ChangeRecord;
    env.outstandingForPath.delete(c.path);
  }
  const first = env.outstanding[0];
  if (!first) return;
  for (const c of saved.values()) {
    if (c.zxid < first.zxid) continue;
    env.outstandingForPath.set(c.path, c);
  }
}

function prepMulti(env: PrepEnv, ops: MultiSubRequest[], ctx: PrepContext): TxnBody {
  const saved = new Map<string, ChangeRecord>();
  for (const op of ops) {
    // getPendingChanges: a null sub-op path fails here, before any sub-op is prepped.
    const path = deref(op.path, 'getPendingChanges');
    const cr = env.outstandingForPath.get(path);
    if (cr) saved.set(path, cr);
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.includes('\0')) continue;
    const parentPath = path.substring(0, lastSlash);
    const pcr = env.outstandingForPath.get(parentPath);
    if (pcr) saved.set(parentPath, pcr);
  }
  const txns: TxnBody[] = [];
  let failed = false;
  for (const op of ops) {
    if (failed) {
      txns.push({ type: OpCode.error, err: ErrorCode.RUNTIMEINCONSISTENCY });
      continue;
    }
    try {
      txns.push(prepOne(env, op, ctx));
    } catch (e) {
      if (e instanceof JavaNullPointer) {
        // ZooKeeper answers the whole multi MARSHALLINGERROR; drop what its sub-ops prepared.
        rollback(env, ctx.zxid, saved);
        throw e;
      }
      if (!(e instanceof KeeperError)) throw e;
      failed = true;
      txns.push({ type: OpCode.error, err: e.code });
      rollback(env, ctx.zxid, saved);
    }
  }
  return { type: OpCode.multi, txns };
}

/** The whole of pRequest for a write: never throws for request errors. */
export function prepRequest(env: PrepEnv, req: WriteRequest, ctx: PrepContext): Txn {
  const header = { sessionId: ctx.sessionId, cxid: ctx.cxid, zxid: ctx.zxid, time: ctx.timeMs };
  try {
    switch (req.op) {
      case OpCode.multi:
        return { ...header, body: prepMulti(env, req.ops, ctx) };
      case OpCode.createSession:
        env.trackSession(ctx.sessionId, req.timeoutMs);
        return { ...header, body: { type: OpCode.createSession, timeoutMs: req.timeoutMs } };
      case OpCode.closeSession:
        return { ...header, body: prepCloseSession(env, ctx) };
      default:
        return { ...header, body: prepOne(env, req, ctx) };
    }
  } catch (e) {
    // A null dereferenced where ZooKeeper's Java would: its catch-all answers MARSHALLINGERROR.
    if (e instanceof JavaNullPointer) return { ...header, body: { type: OpCode.error, err: ErrorCode.MARSHALLINGERROR } };
    if (!(e instanceof KeeperError)) throw e;
    return { ...header, body: { type: OpCode.error, err: e.code } };
  }
}
