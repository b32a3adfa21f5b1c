/**
 * Runs zk-elect's own ZooKeeper-compatible server as real child processes (`zk-elect cluster
 * start`, `zk-elect demo`), behind the same ZkEnsemble interface as Apache ZooKeeper, so every
 * test can run against both. The single-node starter the tests use is built from the exported
 * helpers in test/support/zk-elect-server.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN_FILE, loadOrCreateAdminToken } from '../server/admin/admin-token.js';
import { CLI } from './cli-process.js';
import { startControlEndpoint, type ControlEndpoint } from './control-endpoint.js';
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

/** Flags every launched node gets: session bounds, four-letter words and logging, then the caller's extras. */
export function commonServerArgs(opts: Omit<ZkElectServerOptions, 'nodes'>): string[] {
  return [
    '--min-session-timeout',
    String(opts.minSessionTimeoutMs ?? 1000),
    '--max-session-timeout',
    String(opts.maxSessionTimeoutMs ?? 60_000),
    ...(typeof opts.fourLetterWhitelist === 'string' ? ['--4lw-whitelist', opts.fourLetterWhitelist] : []),
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
  /** Serve kill/pause/resume/restart of the members on loopback (dashboards' buttons, kill-leader). */
  control?: boolean;
  /** Keep the cluster's data here (not removed on stop); default a temp dir that is. */
  dataDir?: string;
  /** TLS between members: written into the cluster file as its `tls` section. */
  tls?: { ca: string; cert: string; key: string };
}

/** A cluster this process launched: where its file and admin token are, and its dashboards. */
export interface ZkElectCluster extends ZkEnsemble {
  /** The cluster file the members were started with (and kill-leader reads). */
  readonly clusterFile: string;
  /** The admin token the members' admin servers and the control endpoint check. */
  readonly adminToken: { readonly token: string; readonly file: string };
  /** Each member's admin server (dashboard) URL, without the token, when it runs one. */
  readonly adminUrls: ReadonlyMap<number, string>;
  /** The launcher's control endpoint, when it serves one. */
  readonly controlUrl: string | undefined;
}

export async function startZkElectCluster(opts: ClusterLaunchOptions = {}): Promise<ZkElectCluster> {
  const nodes = opts.nodes ?? 3;
  assertBuilt();
  const persistent = opts.dataDir !== undefined;
  const dir = persistent ? path.resolve(opts.dataDir!) : fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-cluster-'));
  fs.mkdirSync(dir, { recursive: true });
  if (!persistent) trackDir(dir);
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  let ensemble: LocalEnsemble | undefined;
  let control: ControlEndpoint | undefined;
  try {
    const ports =
      opts.basePort === undefined
        ? await allocatePorts(nodes)
        : Array.from({ length: nodes }, (_, i) => ({ id: i + 1, client: opts.basePort! + i, quorum: opts.basePort! + 1000 + i, election: opts.basePort! + 2000 + i }));
    const adminPorts =
      opts.adminBasePort !== undefined ? ports.map((p) => opts.adminBasePort! + p.id - 1) : opts.withAdmin ? await freePorts(nodes) : undefined;
    const configFile = path.join(dir, 'cluster.json');
    // One token for the whole cluster: every member's admin server and our control endpoint check it.
    const tokenFile = path.join(dir, ADMIN_TOKEN_FILE);
    const { token } = loadOrCreateAdminToken(tokenFile);
    control = opts.control ? await startControlEndpoint(() => ensemble?.members, token) : undefined;
    const tickMs = opts.tickTimeMs ?? 200;
    fs.writeFileSync(
      configFile,
      JSON.stringify(
        {
          ...(control ? { controlUrl: control.url } : {}),
          ...(opts.tls ? { tls: opts.tls } : {}),
          adminTokenFile: ADMIN_TOKEN_FILE,
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
    const adminUrls = new Map(adminPorts ? ports.map((p) => [p.id, `http://127.0.0.1:${adminPorts[p.id - 1]}/`] as const) : []);
    return Object.assign(ensemble, { clusterFile: configFile, adminToken: { token, file: tokenFile }, adminUrls, controlUrl: control?.url });
  } catch (e) {
    await control?.close();
    await cleanUpFailedStart(ensemble, persistent ? undefined : dir);
    throw e;
  }
}
