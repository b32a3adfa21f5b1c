/**
 * The dashboard's cluster table, seen from one node: every peer's own `/api/node` summary,
 * fetched from its admin port (from the cluster file), with a short bound so one dead or
 * paused peer shows as down instead of stalling the page.
 */
import type { ClusterViewInput, ControlAction, NodeControl, NodeSummary } from '../admin/types.js';
import type { ClusterConfig } from './cluster-config.js';

async function fetchPeer(server: ClusterConfig['servers'][number], timeoutMs: number): Promise<NodeSummary> {
  const adminUrl = server.adminPort === undefined ? null : `http://${server.host}:${server.adminPort}/`;
  const down = (error: string): NodeSummary => ({
    id: server.id,
    clientAddress: `${server.host}:${server.clientPort}`,
    adminUrl,
    role: 'down',
    epoch: null,
    zxid: null,
    commitLag: null,
    sessions: null,
    connections: null,
    znodeCount: null,
    outstandingRequests: null,
    up: false,
    error,
  });
  if (!adminUrl) return { ...down('no adminPort in the cluster file'), role: 'unknown' };
  try {
    const res = await fetch(`${adminUrl}api/node`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return down(`${adminUrl}api/node answered ${res.status}`);
    const body = (await res.json()) as NodeSummary | { node?: NodeSummary };
    const node = 'node' in body && body.node ? body.node : (body as NodeSummary);
    return { ...node, id: server.id, adminUrl, up: true };
  } catch (e) {
    return down(`${adminUrl} did not answer: ${(e as Error).message}`);
  }
}

export function peerViewProvider(config: ClusterConfig, myId: number, timeoutMs = 500): () => Promise<ClusterViewInput> {
  return async () => {
    const nodes = await Promise.all(config.servers.filter((s) => s.id !== myId).map((s) => fetchPeer(s, timeoutMs)));
    return { nodes, quorumSize: Math.floor(config.servers.length / 2) + 1 };
  };
}

/**
 * Node control through the local launcher named in the cluster file (it owns the processes),
 * which checks the same admin token as this node's admin server.
 */
export function launcherControl(controlUrl: string, token: string): NodeControl {
  return {
    async perform(action: ControlAction, id: number) {
      const res = await fetch(`${controlUrl}${action}?id=${id}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      if (!res.ok) throw Object.assign(new Error(body.error ?? `the launcher answered ${res.status}`), { status: res.status });
      return body;
    },
  };
}
