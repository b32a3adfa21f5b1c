/**
 * A node's role, epoch and summary for the dashboard's node table and cluster view (the
 * server's own figures are in figures.ts).
 */
import type { AdminSource, ClusterView, ClusterViewInput, ControlAction, NodeRole, NodeSummary } from './types.js';
import { quorumOf } from './figures.js';
import { hex } from './json.js';

export { quorumOf } from './figures.js';

export function roleOf(src: AdminSource): NodeRole {
  const q = quorumOf(src);
  if (q) return q.role;
  const m = src.mode() as string;
  return m === 'standalone' || m === 'leader' || m === 'follower' || m === 'observer' || m === 'looking' ? m : 'unknown';
}

export function lastZxidOf(src: AdminSource): bigint {
  return src.stateView().lastProcessedZxid;
}

/** The epoch: the quorum's when replicated, else the high 32 bits of the last zxid. */
export function epochOf(src: AdminSource): number {
  const q = quorumOf(src);
  if (q) return Number(q.epoch);
  return Number(lastZxidOf(src) >> 32n);
}

export function commitLagOf(src: AdminSource): number | null {
  const q = quorumOf(src);
  if (!q) return 0; // standalone: what is committed is applied
  return q.commitLag ?? null;
}

/** Extra counters ZkServer keeps beyond ServerView's, when present. */
export function extraCounters(src: AdminSource): { requests?: number; writes?: number; snapshots?: number } {
  const c = src.counters as { requests?: unknown; writes?: unknown };
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const out: { requests?: number; writes?: number; snapshots?: number } = {};
  const r = num(c.requests);
  const w = num(c.writes);
  const s = num(src.snapshotCount);
  if (r !== undefined) out.requests = r;
  if (w !== undefined) out.writes = w;
  if (s !== undefined) out.snapshots = s;
  return out;
}

export function nodeSummary(src: AdminSource, adminUrl: string | null): NodeSummary {
  const state = src.stateView();
  return {
    id: src.config.serverId,
    clientAddress: `${src.config.host}:${src.clientPort}`,
    adminUrl,
    role: roleOf(src),
    epoch: epochOf(src),
    zxid: hex(state.lastProcessedZxid),
    commitLag: commitLagOf(src),
    sessions: src.sessionCount(),
    connections: src.connections().length,
    znodeCount: state.tree.nodeCount,
    outstandingRequests: src.outstandingRequests(),
    up: true,
  };
}

export interface ControlInfo {
  available: boolean;
  actions: ControlAction[];
  reason: string | null;
}

export function clusterViewOf(self: NodeSummary, input: ClusterViewInput | undefined, control: ControlInfo, error?: string): ClusterView {
  if (!input) {
    const leaderId = self.role === 'leader' ? self.id : null;
    return { mode: 'standalone', selfId: self.id, leaderId, quorumSize: null, nodes: [{ ...self, self: true }], control, at: Date.now(), ...(error ? { error } : {}) };
  }
  // The driver's numbers for other nodes; our own row is always read fresh here.
  const nodes = input.nodes.map((n) => (n.id === self.id ? { ...n, ...self, adminUrl: n.adminUrl ?? self.adminUrl, self: true } : { ...n, self: false }));
  if (!nodes.some((n) => n.id === self.id)) nodes.push({ ...self, self: true });
  nodes.sort((a, b) => a.id - b.id);
  const leaderId = input.leaderId ?? nodes.find((n) => n.role === 'leader' && n.up)?.id ?? null;
  return { mode: 'cluster', selfId: self.id, leaderId, quorumSize: input.quorumSize ?? null, nodes, control, at: Date.now() };
}
