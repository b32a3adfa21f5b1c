/** Reading an election path: who stands, in which order, and who leads. */
import { decodeCandidateData, type CandidateMeta } from './candidate-data.js';
import { ZooKeeperError } from './errors.js';
import { groupCandidates } from './handoff-plan.js';
import { joinPath, orderCandidates } from './names.js';
import { ZkCode, type ZkOps } from './zk-types.js';

export interface CandidateInfo {
  /** The candidate's id: its node's data as UTF-8 (or the `id` of its JSON, with metadata). */
  readonly id: string;
  /** The node's name under the election path: the candidate's front node, which decides its place. */
  readonly node: string;
  readonly sequence: number;
  /** Its priority (from the node's name); 0 by default and for kazoo's nodes. */
  readonly priority?: number;
  /** The JSON it attached (`meta` option, `--meta key=value`), if any. */
  readonly meta?: CandidateMeta;
  /** True when `node` is a seat: it got the lead through a named handoff. */
  readonly seat?: boolean;
}

export interface LeaderInfo extends CandidateInfo {
  /** Full path of the leader's node. */
  readonly path: string;
  /**
   * Fencing token: the czxid of the leader's node. Tokens strictly increase across
   * successive leaders (handoff.ts explains how that survives named handoffs).
   */
  readonly token: bigint;
  /** The session (hex) that owns the leader's node. */
  readonly sessionId: string;
  /** Every node this candidate holds, `node` first (a named handoff leaves more than one). */
  readonly nodes?: readonly string[];
}

/** Every candidate once, at the place of its front node, first-come first (seats first); the first leads. */
export async function readCandidates(ops: ZkOps, electionPath: string): Promise<LeaderInfo[]> {
  let children: string[];
  try {
    children = await ops.getChildren(electionPath);
  } catch (e) {
    if (e instanceof ZooKeeperError && e.code === ZkCode.NONODE) return [];
    throw e;
  }
  const out: LeaderInfo[] = [];
  for (const group of groupCandidates(orderCandidates(children))) {
    // A candidate whose front left between the listing and the read is read at its next node.
    for (const child of group.nodes) {
      const path = joinPath(electionPath, child.name);
      try {
        const { data, stat } = await ops.getData(path);
        const { id, meta } = decodeCandidateData(data);
        out.push({
          id,
          node: child.name,
          sequence: child.sequence,
          priority: child.priority,
          ...(meta === undefined ? {} : { meta }),
          seat: child.seat,
          path,
          token: BigInt(stat.czxid),
          sessionId: stat.ephemeralOwner,
          nodes: group.nodes.slice(group.nodes.indexOf(child)).map((n) => n.name),
        });
        break;
      } catch (e) {
        if (e instanceof ZooKeeperError && e.code === ZkCode.NONODE) continue;
        throw e;
      }
    }
  }
  return out;
}
