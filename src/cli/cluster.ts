/** `zk-elect cluster start` (a local N-node cluster) and `zk-elect cluster kill-leader`. */
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError as UsageError, Option } from 'commander';
import { fourLetterWord, parseMode } from '../launcher/four-letter-word.js';
import { startZkElectCluster } from '../launcher/zk-elect-cluster.js';
import { readAdminToken } from '../server/admin/admin-token.js';
import { parseFourLetterWhitelist } from '../server/admin/whitelist.js';
import { loadClusterConfig, type ClusterConfig } from '../server/cluster/cluster-config.js';

const nodeCount = (v: string) => {
  if (!['1', '3', '5', '7'].includes(v)) throw new UsageError(`--nodes must be 1, 3, 5 or 7, got ${JSON.stringify(v)}`);
  return Number(v);
};
const port = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 62535) throw new UsageError(`${name} must be a port 1-62535, got ${JSON.stringify(v)}`);
  return n;
};
const whitelist = (v: string) => {
  try {
    parseFourLetterWhitelist(v);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return v;
};

interface StartOptions {
  nodes: number;
  port?: number;
  adminPort?: number;
  /** false with --no-admin. */
  admin: boolean;
  dataDir?: string;
  tick: number;
  '4lwWhitelist'?: string;
}

export function addClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('run and poke a local zk-elect cluster');
  cluster
    .command('start')
    .description('start a local N-node cluster in child processes, with a dashboard per node; Ctrl-C stops it')
    .addOption(new Option('--nodes <n>', 'cluster size: 1, 3, 5 or 7').default(3).argParser(nodeCount))
    .addOption(new Option('--port <port>', 'first client port (quorum ports +1000, election ports +2000); default: free ports').argParser(port('--port')))
    .addOption(new Option('--admin-port <port>', 'first admin/dashboard port (one per node); default: free ports').argParser(port('--admin-port')))
    .addOption(new Option('--no-admin', 'no admin servers or dashboards'))
    .addOption(new Option('--data-dir <dir>', 'keep the data here (default: a temp dir removed on stop)'))
    .addOption(new Option('--tick <ms>', 'tickTime').default(200).argParser(port('--tick')))
    .addOption(new Option('--4lw-whitelist <words>', 'four-letter words the servers answer besides srvr, comma-separated, or *').argParser(whitelist))
    .addHelpText(
      'after',
      '\nExamples:\n  zk-elect cluster start\n  zk-elect cluster start --nodes 5 --port 2181 --admin-port 8080 --data-dir ./cluster-data\n  zk-elect cluster start --no-admin --4lw-whitelist ruok,mntr',
    )
    .action(async (opts: StartOptions) => {
      if (!opts.admin && opts.adminPort !== undefined) throw new UsageError('--admin-port and --no-admin contradict each other');
      process.stderr.write(`starting a ${opts.nodes}-node cluster...\n`);
      const t0 = Date.now();
      const zk = await startZkElectCluster({
        nodes: opts.nodes,
        controllable: true,
        tickTimeMs: opts.tick,
        serverArgs: ['--log-level', 'warn'],
        // The launcher's control endpoint (loopback, admin token) serves the dashboards' buttons and kill-leader.
        control: true,
        withAdmin: opts.admin,
        ...(opts['4lwWhitelist'] === undefined ? {} : { fourLetterWhitelist: opts['4lwWhitelist'] }),
        ...(opts.port === undefined ? {} : { basePort: opts.port }),
        ...(opts.adminPort === undefined ? {} : { adminBasePort: opts.adminPort }),
        ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
      });
      const leader = await zk.leader();
      const out = (line: string) => process.stdout.write(`${line}\n`);
      out(`cluster of ${opts.nodes} up in ${Date.now() - t0} ms; leader is server ${leader?.id ?? '?'}`);
      for (const m of zk.members) {
        const admin = zk.adminUrls.get(m.id);
        out(`  server ${m.id}: ${m.address} (pid ${m.pid})${admin ? `, dashboard ${admin}#token=${zk.adminToken.token}` : ''}`);
      }
      out(`cluster file: ${zk.clusterFile}`);
      out(`admin token (kill/pause/restart need it): kept in ${zk.adminToken.file}`);
      out(`connect string: ${zk.connectString}`);
      out(`  e.g. ZK_CONNECT=${zk.connectString} zk-elect`);
      out(`  zk-elect cluster kill-leader --cluster ${zk.clusterFile}`);
      out('(Ctrl-C stops the cluster)');
      const stop = () => {
        void (async () => {
          await Promise.all(zk.members.map((m) => m.kill('SIGTERM')));
          await zk.stop();
          process.exit(0);
        })();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // The servers are unref'd children: this keeps the launcher alive until Ctrl-C.
      setInterval(() => undefined, 1 << 30);
    });

  cluster
    .command('kill-leader')
    .description('kill -9 the leader of a cluster started by `zk-elect cluster start`, through its launcher')
    .addOption(new Option('--cluster <file>', 'the cluster file `cluster start` printed (or its directory)').env('ZK_ELECT_CLUSTER').makeOptionMandatory())
    .addHelpText(
      'after',
      '\nOnly a cluster this machine\'s launcher started can be killed this way: the launcher kills its own child\nprocess, named by the cluster file, after checking the cluster\'s admin token.\n\nExamples:\n  zk-elect cluster kill-leader --cluster /tmp/zk-elect-cluster-abc123/cluster.json',
    )
    .action(async (opts: { cluster: string }) => {
      const file = fs.existsSync(opts.cluster) && fs.statSync(opts.cluster).isDirectory() ? path.join(opts.cluster, 'cluster.json') : opts.cluster;
      let config: ClusterConfig;
      try {
        config = loadClusterConfig(file);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (!config.controlUrl) {
        throw new Error(`${file} names no launcher (controlUrl): kill-leader only acts through the launcher that started the cluster (zk-elect cluster start)`);
      }
      if (!config.adminTokenFile) throw new Error(`${file} names no admin token file (adminTokenFile)`);
      const token = readAdminToken(config.adminTokenFile);
      const modes = await Promise.all(config.servers.map(async (s) => parseMode(await fourLetterWord(`${s.host}:${s.clientPort}`, 'srvr', 2000).catch(() => ''))));
      const leader = config.servers[modes.indexOf('leader')];
      if (!leader) throw new Error(`no server of ${file} reports Mode: leader (modes: ${modes.join(', ')})`);
      const url = `${config.controlUrl}kill?id=${leader.id}`;
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
      } catch (e) {
        throw new Error(`the launcher at ${config.controlUrl} does not answer (is its \`zk-elect cluster start\` still running?): ${(e as Error).message}`);
      }
      const body = (await res.json().catch(() => ({}))) as { error?: string; pid?: number | null };
      if (!res.ok) throw new Error(`the launcher at ${config.controlUrl} refused to kill server ${leader.id}: ${body.error ?? res.status}`);
      process.stdout.write(`killed the leader, server ${leader.id} (${leader.host}:${leader.clientPort})\n`);
    });
}
