/**
 * A local cluster launcher's control endpoint: the dashboards' kill/pause/resume/restart
 * buttons (through each node's admin server) and `zk-elect cluster kill-leader` end up here,
 * because the launcher owns the member processes and acts on them by the PIDs it spawned,
 * never on a PID it was told.
 *
 * Loopback only, and every request must carry the cluster's admin token. Requests from a
 * browser (any Origin header) and requests naming a non-loopback Host (DNS rebinding) are
 * refused: the nodes' admin servers and the CLI call this, never a web page.
 */
import http from 'node:http';
import { checkToken } from '../server/admin/admin-token.js';
import { hostnameOf, isLoopbackHost } from '../server/admin/admin-server.js';
import type { LocalMember } from './local-ensemble.js';

export interface ControlEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export async function startControlEndpoint(members: () => readonly LocalMember[] | undefined, token: string): Promise<ControlEndpoint> {
  const server = http.createServer((req, res) => {
    req.resume();
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const host = req.headers.host;
    if (host === undefined || !isLoopbackHost(hostnameOf(host))) return reply(403, { error: `Host ${JSON.stringify(host ?? '')} is not a loopback name` });
    if (req.headers.origin !== undefined) return reply(403, { error: 'requests from a browser are refused: use a node\'s dashboard' });
    if (req.method !== 'POST') return reply(405, { error: 'POST only' });
    const auth = checkToken(token, req.headers.authorization, 'node control');
    if (!auth.ok) return reply(auth.status, { error: auth.error });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const action = url.pathname.slice(1);
    const member = members()?.find((m) => m.id === Number(url.searchParams.get('id')));
    if (!member) return reply(404, { error: `no member ${url.searchParams.get('id')}` });
    const run = async () => {
      if (action === 'kill') await member.kill('SIGKILL');
      else if (action === 'pause') member.pause();
      else if (action === 'resume') member.resume();
      else if (action === 'restart') {
        await member.kill('SIGKILL');
        await member.start();
      } else return reply(404, { error: `unknown action ${action}` });
      reply(200, { ok: true, action, id: member.id, pid: member.pid ?? null });
    };
    run().catch((e: unknown) => reply(500, { error: (e as Error).message }));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
