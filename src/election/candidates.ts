/** Reading an election path: who stands, in which order, and who leads. */
import { ZooKeeperError } from './errors.js';
import { joinPath, orderCandidates } from './names.js';
import { ZkCode, type ZkOps } from './zk-types.js';

export interface CandidateInfo {
  /** The candidate's id: its node's data as UTF-8. */
  readonly id: string;
  /** The node's name under the election path. */
  readonly node: string;
  readonly sequence: number;
}

export interface LeaderInfo extends CandidateInfo {
  /** Full path of the leader's node. */
  readonly path: string;
  /**
   * Fencing token: the czxid of the leader's node. Every later leader's node was created
   * by a later transaction, so tokens strictly increase across successive leaders.
   */
  readonly token: bigint;
  /** The session (hex) that owns the leader's node. */
  readonly sessionId: string;
}

export async function readCandidates(ops: ZkOps, electionPath: string): Promise<LeaderInfo[]> {
  let children: string[];
  try {
    children = await ops.getChildren(electionPath);
  } catch (e) {
    if (e instanceof ZooKeeperError && e.code === ZkCode.NONODE) return [];
    throw e;
  }
  const out: LeaderInfo[] = [];
  for (const child of orderCandidates(children)) {
    const path = joinPath(electionPath, child.name);
    try {
      const { data, stat } = await ops.getData(path);
      out.push({ id: data.toString('utf8'), node: child.name, sequence: child.sequence, path, token: BigInt(stat.czxid), sessionId: stat.ephemeralOwner });
    } catch (e) {
      // It left between the listing and the read: it is simply not a candidate any more.
      if (e instanceof ZooKeeperError && e.code === ZkCode.NONODE) continue;
      throw e;
    }
  }
  return out;
}
