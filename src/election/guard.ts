/**
 * Under `auth`, every node a candidate creates carries the election ACL (auth.ts): the
 * candidate nodes, and the handoff's grants, seats, seat marker and requests too. Left
 * world-open, anyone could rewrite a grant's target or the seat marker that fences tokens.
 *
 * The npm C binding can only create world-open nodes, so the ACL is set right after the
 * create, expecting ACL version 0 (nobody changed the ACL in between) and data version 0
 * (nobody wrote). A node changed in that moment is not trusted: it is deleted and
 * TamperedNodeError thrown, which callers treat as transient and retry.
 */
import { electionAcl } from './auth.js';
import { TamperedNodeError, ZooKeeperError } from './errors.js';
import type { ZkSession } from './session.js';
import { ZkCode, type CreateMode } from './zk-types.js';

/**
 * Gives `path` (a node this session created) the election ACL if the session has credentials.
 * `aversion` 0 for a node just created; -1 for one found again after a lost reply, whose ACL
 * may or may not have been set already.
 */
export async function protectOwnNode(session: ZkSession, path: string, aversion: number): Promise<void> {
  if (!session.auth) return;
  let tampered: string | undefined;
  try {
    await session.setAcl(path, electionAcl(session.auth), aversion);
    const stat = await session.exists(path);
    if (stat !== null && aversion === 0 && stat.version !== 0) tampered = `its data was changed (version ${stat.version})`;
  } catch (e) {
    if (!(e instanceof ZooKeeperError && (e.code === ZkCode.BADVERSION || e.code === ZkCode.NOAUTH))) throw e;
    tampered = `its ACL was changed (${e.codeName})`;
  }
  if (tampered === undefined) return;
  try {
    await session.remove(path);
  } catch (e) {
    if (!(e instanceof ZooKeeperError && e.code === ZkCode.NONODE)) throw e;
  }
  throw new TamperedNodeError(`node ${path} was changed by another session before its ACL was set (${tampered}); it was deleted`);
}

/** session.create, then protectOwnNode(…, 0). Returns the created path. */
export async function createProtected(session: ZkSession, path: string, data: Buffer, mode: CreateMode): Promise<string> {
  const created = await session.create(path, data, mode);
  await protectOwnNode(session, created, 0);
  return created;
}
