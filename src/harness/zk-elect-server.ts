/**
 * Runs zk-elect's own ZooKeeper-compatible server as real child processes, behind the same
 * ZkEnsemble interface as Apache ZooKeeper, so every test can run against both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './cli-process.js';
import { allocatePorts, freePorts } from './local-config.js';
import { LocalEnsemble, LocalMember } from './local-zookeeper.js';
import { trackDir, untrackDir } from './reaper.js';
import type { StartOptions, ZkEnsemble } from './types.js';

export interface ZkElectServerOptions extends StartOptions {
  /** Extra `zk-elect server` flags, e.g. ['--snap-count', '50']. */
  serverArgs?: string[];
}

export async function startZkElectServer(opts: ZkElectServerOptions = {}): Promise<ZkEnsemble> {
  if ((opts.nodes ?? 1) !== 1) return startZkElectCluster(opts);
  if (!fs.existsSync(CLI)) throw new Error(`the zk-elect CLI is not built (${CLI} is missing): run npm run build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-server-'));
  trackDir(dir);
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  let ensemble: LocalEnsemble | undefined;
  try {
    const [port] = await freePorts(1);
    const memberDir = path.join(dir, 'member-1');
    fs.mkdirSync(memberDir, { recursive: true });
    const args = [
      CLI,
      'server',
      '--data-dir',
      path.join(memberDir, 'data'),
      '--port',
      String(port),
      '--tick',
      String(opts.tickTimeMs ?? 200),
      '--min-session-timeout',
      String(opts.minSessionTimeoutMs ?? 1000),
      '--max-session-timeout',
      String(opts.maxSessionTimeoutMs ?? 60_000),
      '--log-level',
      'info',
      ...(opts.serverArgs ?? []),
    ];
    const member = new LocalMember(1, port!, memberDir, process.execPath, args, startTimeoutMs);
    ensemble = new LocalEnsemble([member], dir);
    ensemble.source = 'zk-elect';
    member.spawn();
    await ensemble.waitReady(startTimeoutMs, 'zk-elect server');
    return ensemble;
  } catch (e) {
    if (ensemble) await ensemble.stop();
    else {
      fs.rmSync(dir, { recursive: true, force: true });
      untrackDir(dir);
    }
    throw e;
  }
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
  /** Keep the cluster's data here (not removed on stop); default a temp dir that is. */
  dataDir?: string;
}

export async function startZkElectCluster(opts: ClusterLaunchOptions = {}): Promise<ZkEnsemble> {
  const nodes = opts.nodes ?? 3;
  if (!fs.existsSync(CLI)) throw new Error(`the zk-elect CLI is not built (${CLI} is missing): run npm run build`);
  const persistent = opts.dataDir !== undefined;
  const dir = persistent ? path.resolve(opts.dataDir!) : fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-cluster-'));
  fs.mkdirSync(dir, { recursive: true });
  if (!persistent) trackDir(dir);
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  let ensemble: LocalEnsemble | undefined;
  try {
    const ports =
      opts.basePort === undefined
        ? await allocatePorts(nodes)
        : Array.from({ length: nodes }, (_, i) => ({ id: i + 1, client: opts.basePort! + i, quorum: opts.basePort! + 1000 + i, election: opts.basePort! + 2000 + i }));
    const adminPorts =
      opts.adminBasePort !== undefined ? ports.map((p) => opts.adminBasePort! + p.id - 1) : opts.withAdmin ? await freePorts(nodes) : undefined;
    const configFile = path.join(dir, 'cluster.json');
    const tickMs = opts.tickTimeMs ?? 200;
    fs.writeFileSync(
      configFile,
      JSON.stringify(
        {
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
        '--min-session-timeout',
        String(opts.minSessionTimeoutMs ?? 1000),
        '--max-session-timeout',
        String(opts.maxSessionTimeoutMs ?? 60_000),
        '--log-level',
        'info',
        ...(opts.serverArgs ?? []),
      ];
      return new LocalMember(p.id, p.client, memberDir, process.execPath, args, startTimeoutMs);
    });
    ensemble = new LocalEnsemble(members, dir, persistent);
    ensemble.source = 'zk-elect';
    for (const m of members) m.spawn();
    await ensemble.waitReady(startTimeoutMs, `zk-elect cluster of ${nodes}`);
    return ensemble;
  } catch (e) {
    if (ensemble) await ensemble.stop();
    else {
      fs.rmSync(dir, { recursive: true, force: true });
      untrackDir(dir);
    }
    throw e;
  }
}
