/**
 * Runs zk-elect's own ZooKeeper-compatible server as real child processes (`zk-elect cluster
 * start`, `zk-elect demo`), behind the same ZkEnsemble interface as Apache ZooKeeper, so every
 * test can run against both. The single-node starter the tests use is built from the exported
 * helpers in test/support/zk-elect-server.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './cli-process.js';
import { LocalEnsemble, LocalMember } from './local-ensemble.js';
import { allocatePorts, freePorts } from './ports.js';
import { trackDir, untrackDir } from './reaper.js';
import type { StartOptions, ZkEnsemble } from './types.js';

export interface ZkElectServerOptions extends StartOptions {
  /** Extra `zk-elect server` flags, e.g. ['--snap-count', '50']. */
  serverArgs?: string[];
}

export function assertBuilt(): void {
  if (!fs.existsSync(CLI)) throw new Error(`the zk-elect CLI is not built (${CLI} is missing): run npm run build`);
}

/** Flags every launched node gets: session bounds and logging, then the caller's extras. */
export function commonServerArgs(opts: Omit<ZkElectServerOptions, 'nodes'>): string[] {
  return [
    '--min-session-timeout',
    String(opts.minSessionTimeoutMs ?? 1000),
    '--max-session-timeout',
    String(opts.maxSessionTimeoutMs ?? 60_000),
    '--log-level',
    'info',
    ...(opts.serverArgs ?? []),
  ];
}

/** `dir` only when we created it (a user's --data-dir is never removed). */
export async function cleanUpFailedStart(ensemble: LocalEnsemble | undefined, dir: string | undefined): Promise<void> {
  if (ensemble) return ensemble.stop();
  if (dir === undefined) return;
  fs.rmSync(dir, { recursive: true, force: true });
  untrackDir(dir);
}

/**
 * An N-node zk-elect cluster as N `zk-elect server --id i --config cluster.json` processes
 * on free loopback ports, each with its own data directory.
 */
export interface ClusterLaunchOptions extends Omit<ZkElectServerOptions, 'nodes'> {
  nodes?: number;
  /** Client ports basePort..basePort+n-1, quorum ports +1000, election ports +2000 (default: free ports). */
  basePort?: number;
  /** Admin HTTP ports adminBasePort..adminBasePort+n-1 (default: none). */
  adminBasePort?: number;
  /** Give every node an admin HTTP port (free ports) when adminBasePort is not set. */
  withAdmin?: boolean;
  /** Serve kill/pause/resume/restart of the members on loopback for the dashboards' buttons. */
  control?: boolean;
  /** Keep the cluster's data here (not removed on stop); default a temp dir that is. */
  dataDir?: string;
  /** TLS between members: written into the cluster file as its `tls` section. */
  tls?: { ca: string; cert: string; key: string };
}

export async function startZkElectCluster(opts: ClusterLaunchOptions = {}): Promise<ZkEnsemble> {
  const nodes = opts.nodes ?? 3;
  assertBuilt();
  const persistent = opts.dataDir !== undefined;
  const dir = persistent ? path.resolve(opts.dataDir!) : fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-cluster-'));
  fs.mkdirSync(dir, { recursive: true });
  if (!persistent) trackDir(dir);
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  let ensemble: LocalEnsemble | undefined;
  let control: Awaited<ReturnType<typeof startControl>> | undefined;
  try {
    const ports =
      opts.basePort === undefined
        ? await allocatePorts(nodes)
        : Array.from({ length: nodes }, (_, i) => ({ id: i + 1, client: opts.basePort! + i, quorum: opts.basePort! + 1000 + i, election: opts.basePort! + 2000 + i }));
    const adminPorts =
      opts.adminBasePort !== undefined ? ports.map((p) => opts.adminBasePort! + p.id - 1) : opts.withAdmin ? await freePorts(nodes) : undefined;
    const configFile = path.join(dir, 'cluster.json');
    control = opts.control ? await startControl(() => ensemble) : undefined;
    const tickMs = opts.tickTimeMs ?? 200;
    fs.writeFileSync(
      configFile,
      JSON.stringify(
        {
          ...(control ? { controlUrl: control.url } : {}),
          ...(opts.tls ? { tls: opts.tls } : {}),
          tickMs,
          initLimit: 10,
          syncLimit: 5,
          dataDir: dir,
          servers: ports.map((p) => ({
            id: p.id,
            host: '127.0.0.1',
            clientPort: p.client,
            quorumPort: p.quorum,
            electionPort: p.election,
            ...(adminPorts ? { adminPort: adminPorts[p.id - 1] } : {}),
          })),
        },
        null,
        2,
      ),
    );
    const members = ports.map((p) => {
      const memberDir = path.join(dir, `member-${p.id}`);
      fs.mkdirSync(memberDir, { recursive: true });
      const args = [
        CLI,
        'server',
        '--id',
        String(p.id),
        '--config',
        configFile,
        ...commonServerArgs(opts),
      ];
      return new LocalMember(p.id, p.client, memberDir, process.execPath, args, startTimeoutMs);
    });
    ensemble = new LocalEnsemble(members, dir, persistent);
    ensemble.source = 'zk-elect';
    if (control) {
      const launcherControl = control;
      const stopMembers = ensemble.stop.bind(ensemble);
      ensemble.stop = async () => {
        await launcherControl.close();
        await stopMembers();
      };
    }
    for (const m of members) m.spawn();
    await ensemble.waitReady(startTimeoutMs, `zk-elect cluster of ${nodes}`);
    return ensemble;
  } catch (e) {
    await control?.close();
    await cleanUpFailedStart(ensemble, persistent ? undefined : dir);
    throw e;
  }
}

/**
 * The launcher's control endpoint: the dashboards' kill/pause/resume/restart buttons end up
 * here, because the launcher owns the member processes (it acts on them by PID).
 */
async function startControl(ensemble: () => LocalEnsemble | undefined): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const action = url.pathname.slice(1);
    const member = ensemble()?.members.find((m) => m.id === Number(url.searchParams.get('id')));
    if (req.method !== 'POST') return reply(405, { error: 'POST only' });
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
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
