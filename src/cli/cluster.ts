/** `zk-elect cluster start` (a local N-node cluster) and `zk-elect cluster kill-leader`. */
import { Command, InvalidArgumentError as UsageError, Option } from 'commander';
import { parseConnectString } from '../election/connect-string.js';
import { fourLetterWord, parseMode } from '../launcher/four-letter-word.js';
import { startZkElectCluster } from '../launcher/zk-elect-cluster.js';

const nodeCount = (v: string) => {
  if (!['1', '3', '5', '7'].includes(v)) throw new UsageError(`--nodes must be 1, 3, 5 or 7, got ${JSON.stringify(v)}`);
  return Number(v);
};
const port = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 62535) throw new UsageError(`${name} must be a port 1-62535, got ${JSON.stringify(v)}`);
  return n;
};

export function addClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('run and poke a local zk-elect cluster');
  cluster
    .command('start')
    .description('start a local N-node cluster in child processes; Ctrl-C stops it')
    .addOption(new Option('--nodes <n>', 'cluster size: 1, 3, 5 or 7').default(3).argParser(nodeCount))
    .addOption(new Option('--port <port>', 'first client port (quorum ports +1000, election ports +2000); default: free ports').argParser(port('--port')))
    .addOption(new Option('--admin-port <port>', 'first admin/dashboard port (one per node)').argParser(port('--admin-port')))
    .addOption(new Option('--data-dir <dir>', 'keep the data here (default: a temp dir removed on stop)'))
    .addOption(new Option('--tick <ms>', 'tickTime').default(200).argParser(port('--tick')))
    .addHelpText('after', '\nExamples:\n  zk-elect cluster start\n  zk-elect cluster start --nodes 5 --port 2181 --admin-port 8080 --data-dir ./cluster-data')
    .action(async (opts: { nodes: number; port?: number; adminPort?: number; dataDir?: string; tick: number }) => {
      process.stderr.write(`starting a ${opts.nodes}-node cluster...\n`);
      const t0 = Date.now();
      const zk = await startZkElectCluster({
        nodes: opts.nodes,
        controllable: true,
        tickTimeMs: opts.tick,
        serverArgs: ['--log-level', 'warn'],
        control: opts.adminPort !== undefined,
        ...(opts.port === undefined ? {} : { basePort: opts.port }),
        ...(opts.adminPort === undefined ? {} : { adminBasePort: opts.adminPort }),
        ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
      });
      const leader = await zk.leader();
      process.stdout.write(`cluster of ${opts.nodes} up in ${Date.now() - t0} ms; leader is server ${leader?.id ?? '?'}\n`);
      for (const m of zk.members) {
        process.stdout.write(`  server ${m.id}: ${m.address} (pid ${m.pid})${opts.adminPort === undefined ? '' : `, dashboard http://127.0.0.1:${opts.adminPort + m.id - 1}/`}\n`);
      }
      process.stdout.write(`connect string: ${zk.connectString}\n  e.g. ZK_CONNECT=${zk.connectString} zk-elect\n(Ctrl-C stops the cluster)\n`);
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
    .description('find the leader among the servers of --connect and kill -9 it (servers on this machine)')
    .addOption(new Option('-c, --connect <servers>', 'the cluster\'s servers').env('ZK_CONNECT').makeOptionMandatory())
    .addHelpText('after', '\nExamples:\n  zk-elect cluster kill-leader -c 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183')
    .action(async (opts: { connect: string }) => {
      let servers;
      try {
        servers = parseConnectString(opts.connect).servers;
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      for (const s of servers) {
        const address = `${s.host}:${s.port}`;
        const srvr = await fourLetterWord(address, 'srvr').catch(() => '');
        if (parseMode(srvr) !== 'leader') continue;
        const envi = await fourLetterWord(address, 'envi');
        const pid = Number(/^process\.id=(\d+)$/m.exec(envi)?.[1]);
        if (!pid) throw new Error(`the leader at ${address} does not report its process id (is it Apache ZooKeeper? only zk-elect servers can be killed this way)`);
        process.kill(pid, 'SIGKILL');
        process.stdout.write(`killed the leader ${address} (pid ${pid})\n`);
        return;
      }
      throw new Error(`no server in ${opts.connect} reports Mode: leader`);
    });
}
