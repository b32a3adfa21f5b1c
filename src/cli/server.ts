import fs from 'node:fs';
import { Command, InvalidArgumentError as UsageError, Option } from 'commander';
import { loadTlsFiles, TlsFileError, type TlsMaterial } from '../tls-files.js';
import { parseJaasUsers } from '../server/auth/jaas.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log.js';
import { DEFAULT_CONTAINER_CHECK_INTERVAL_MS, defaultConfig, LIMIT_DEFAULTS } from '../server/config.js';
import { ZkServer } from '../server/zk-server.js';
import { dataDirOf, loadClusterConfig, quorumTlsFiles, type ClusterConfig } from '../server/cluster/cluster-config.js';
import { parseMs } from './options.js';
import { parseFourLetterWhitelist, type FourLetterWhitelist } from '../server/admin/whitelist.js';

interface ServerOptions {
  id?: number;
  config?: string;
  standalone: boolean;
  host: string;
  port: number;
  dataDir: string;
  tick: number;
  minSessionTimeout?: number;
  maxSessionTimeout?: number;
  maxFrame: number;
  maxClientCnxns: number;
  globalOutstandingLimit: number;
  maxOutstandingPerCnxn: number;
  maxQueuedBytesPerCnxn: number;
  maxQueuedBytesTotal: number;
  maxPendingLogBytes: number;
  maxUncommittedProposals: number;
  snapCount: number;
  extendedTypes: boolean;
  superDigest?: string;
  reconfigEnabled: boolean;
  saslUsers?: string;
  saslUser: Array<[string, string]>;
  containerCheckInterval: number;
  fsync: boolean;
  fsyncWarningThreshold: number;
  logLevel: LogLevel;
  adminPort?: number;
  adminHost: string;
  securePort?: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  adminTokenFile?: string;
  '4lwWhitelist'?: FourLetterWhitelist;
}

const int = (name: string, min: number, max: number) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
};

function saslUser(v: string, prev: Array<[string, string]>): Array<[string, string]> {
  const i = v.indexOf(':');
  if (i <= 0 || i === v.length - 1) throw new UsageError(`--sasl-user must be name:password, got ${JSON.stringify(v.replace(/:.*/, ':…'))}`);
  return [...prev, [v.slice(0, i), v.slice(i + 1)]];
}

/** The SASL user list from --sasl-users (a JAAS file) and --sasl-user; undefined when neither is given. */
function saslUsersOf(opts: ServerOptions): Map<string, string> | undefined {
  if (opts.saslUsers === undefined && opts.saslUser.length === 0) return undefined;
  const users = new Map<string, string>();
  if (opts.saslUsers !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(opts.saslUsers, 'utf8');
    } catch (e) {
      throw new UsageError(`--sasl-users ${opts.saslUsers}: ${(e as Error).message}`);
    }
    try {
      for (const [name, pw] of parseJaasUsers(text)) users.set(name, pw);
    } catch (e) {
      throw new UsageError(`--sasl-users ${opts.saslUsers}: ${(e as Error).message}`);
    }
  }
  for (const [name, pw] of opts.saslUser) users.set(name, pw);
  return users;
}

export function addServerCommand(program: Command): void {
  program
    .command('server')
    .description('run a ZooKeeper-compatible server (standalone for now; clients use the ZooKeeper wire protocol)')
    .addOption(new Option('--standalone', 'run a single-node server').default(true))
    .addOption(new Option('--host <address>', 'client port address').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'client port').default(2181).argParser(int('--port', 0, 65535)))
    .addOption(new Option('--data-dir <dir>', 'where the transaction log and snapshots live (standalone; a cluster node uses the cluster file\'s)'))
    .addOption(new Option('--id <n>', 'this node\'s id in --config (cluster mode)').argParser(int('--id', 1, 254)))
    .addOption(new Option('--config <file>', 'cluster file (JSON: servers with client/quorum/election ports, tickMs, initLimit, syncLimit, dataDir)'))
    .addOption(new Option('--tick <ms>', 'tickTime: session timeouts are negotiated within [2, 20] ticks').default(2000).argParser(parseMs('--tick', 1, 60_000)))
    .addOption(new Option('--min-session-timeout <ms>', 'default 2 x tick').argParser(parseMs('--min-session-timeout', 1)))
    .addOption(new Option('--max-session-timeout <ms>', 'default 20 x tick').argParser(parseMs('--max-session-timeout', 1)))
    .addOption(new Option('--max-frame <bytes>', 'jute.maxbuffer: largest request accepted').default(0xfffff).argParser(int('--max-frame', 1024, 256 * 1024 * 1024)))
    .addOption(new Option('--max-client-cnxns <n>', 'connections per client IP (0 = unlimited)').default(60).argParser(int('--max-client-cnxns', 0, 1_000_000)))
    .addOption(new Option('--global-outstanding-limit <n>', 'backpressure: client requests in flight at which clients with requests in flight stop being read (zookeeper.globalOutstandingLimit)').default(LIMIT_DEFAULTS.globalOutstandingLimit).argParser(int('--global-outstanding-limit', 1, 10_000_000)))
    .addOption(new Option('--max-outstanding-per-cnxn <n>', 'backpressure: requests in flight at which one connection stops being read').default(LIMIT_DEFAULTS.maxOutstandingPerConnection).argParser(int('--max-outstanding-per-cnxn', 1, 10_000_000)))
    .addOption(new Option('--max-queued-bytes-per-cnxn <bytes>', 'backpressure: reply bytes queued for one client at which its requests stop being read').default(LIMIT_DEFAULTS.maxQueuedBytesPerConnection).argParser(int('--max-queued-bytes-per-cnxn', 1024, 2 ** 40)))
    .addOption(new Option('--max-queued-bytes-total <bytes>', 'backpressure: reply bytes queued for all clients at which clients with a backlog stop being read').default(LIMIT_DEFAULTS.maxQueuedBytesTotal).argParser(int('--max-queued-bytes-total', 1024, 2 ** 40)))
    .addOption(new Option('--max-pending-log-bytes <bytes>', 'backpressure: log bytes waiting for fsync at which writing clients stop being read').default(LIMIT_DEFAULTS.maxPendingLogBytes).argParser(int('--max-pending-log-bytes', 1024, 2 ** 40)))
    .addOption(new Option('--max-uncommitted-proposals <n>', 'backpressure (cluster leader): proposals not yet acknowledged by a quorum at which further writes wait and writing clients stop being read').default(LIMIT_DEFAULTS.maxUncommittedProposals).argParser(int('--max-uncommitted-proposals', 1, 10_000_000)))
    .addOption(new Option('--snap-count <n>', 'transactions between snapshots').default(100_000).argParser(int('--snap-count', 2, 100_000_000)))
    .addOption(new Option('--extended-types', 'enable TTL nodes (zookeeper.extendedTypesEnabled)').default(false))
    .addOption(new Option('--container-check-interval <ms>', 'how often empty containers and expired TTL nodes are deleted (znode.container.checkIntervalMs)').default(DEFAULT_CONTAINER_CHECK_INTERVAL_MS).argParser(parseMs('--container-check-interval', 1)))
    .addOption(new Option('--super-digest <user:digest>', 'superuser digest (DigestAuthenticationProvider.superDigest)'))
    .addOption(new Option('--sasl-users <file>', 'SASL DIGEST-MD5 logins: a JAAS file like ZooKeeper\'s (Server { ... user_bob="pw"; };); enables the sasl ACL scheme'))
    .addOption(new Option('--sasl-user <name:password>', 'a SASL DIGEST-MD5 login (repeatable; with or without --sasl-users)').argParser(saslUser).default([]))
    .addOption(new Option('--no-fsync', 'do not fsync the log (unsafe; for experiments only)'))
    .addOption(new Option('--fsync-warning-threshold <ms>', 'warn about (and count, fsync_threshold_exceed_count) log fsyncs slower than this (fsync.warningthresholdms)').default(1000).argParser(parseMs('--fsync-warning-threshold', 0)))
    .addOption(
      new Option('--4lw-whitelist <words>', 'four-letter words to answer on the client port, comma-separated, or * for all (ZooKeeper\'s 4lw.commands.whitelist); srvr is always on')
        .default(undefined, 'srvr')
        .argParser((v) => {
          try {
            return parseFourLetterWhitelist(v);
          } catch (e) {
            throw new UsageError((e as Error).message);
          }
        }),
    )
    .addOption(new Option('--reconfig-enabled', 'reconfigEnabled: reconfig answers UNIMPLEMENTED (standalone) instead of RECONFIGDISABLED, as ZooKeeper does').default(false))
    .addOption(new Option('--admin-port <port>', 'serve the admin HTTP server (dashboard, /commands, /metrics) on this port (0 = any free port)').argParser(int('--admin-port', 0, 65535)))
    .addOption(new Option('--admin-host <address>', 'admin HTTP server address (loopback by default; on another address node control is off)').default('127.0.0.1'))
    .addOption(new Option('--admin-token-file <file>', 'the admin token that kill/pause/restart and stat resets need (made, mode 0600, if missing); default <data dir>/admin-token, or the cluster file\'s adminTokenFile'))
    .addOption(new Option('--secure-port <port>', 'secureClientPort: a TLS client port beside --port (0 = any free port); needs --tls-cert and --tls-key').argParser(int('--secure-port', 0, 65535)))
    .addOption(new Option('--tls-cert <file>', 'the secure port\'s certificate chain (PEM)'))
    .addOption(new Option('--tls-key <file>', 'its private key (PEM, unencrypted)'))
    .addOption(new Option('--tls-ca <file>', 'CA certificates (PEM): clients on the secure port must present a certificate it signed'))
    .addOption(new Option('--log-level <level>', 'diagnostics on stderr').choices(LOG_LEVELS).default('info'))
    .addHelpText(
      'after',
      '\nExamples:\n  zk-elect server --data-dir /var/lib/zk-elect --port 2181\n  zk-elect server --data-dir ./data --tick 200 --port 0   # any free port\n  zk-elect server --data-dir ./data --admin-port 8080     # dashboard on http://127.0.0.1:8080/\n' +
        '  zk-elect server --data-dir ./data --secure-port 2281 --tls-cert server.pem --tls-key server-key.pem --tls-ca ca.pem',
    )
    .action(async (opts: ServerOptions, cmd: Command) => {
      // cmd.error prints the message (with the usage hint) and exits 2.
      if ((opts.id === undefined) !== (opts.config === undefined)) cmd.error('error: --id and --config go together (cluster mode)', { exitCode: 2 });
      if (opts.id === undefined && opts.dataDir === undefined) cmd.error('error: --data-dir is required for a standalone server', { exitCode: 2 });
      if (opts.id !== undefined && opts.reconfigEnabled) cmd.error('error: --reconfig-enabled: dynamic reconfiguration of a cluster is not supported (standalone only)', { exitCode: 2 });
      const clientTls = clientTlsOf(opts, (why) => cmd.error(`error: ${why}`, { exitCode: 2 }));
      const logger = createLogger(opts.logLevel, opts.id === undefined ? 'zk-elect-server' : `zk-elect-server-${opts.id}`);
      let cluster: { id: number; config: ClusterConfig } | undefined;
      let me: ClusterConfig['servers'][number] | undefined;
      if (opts.id !== undefined && opts.config !== undefined) {
        const clusterConfig = loadClusterConfig(opts.config);
        me = clusterConfig.servers.find((s) => s.id === opts.id);
        if (!me) return cmd.error(`error: --id ${opts.id} is not in ${opts.config} (ids: ${clusterConfig.servers.map((s) => s.id).join(', ')})`, { exitCode: 2 });
        cluster = { id: opts.id, config: clusterConfig };
      }
      const quorumFiles = cluster ? quorumTlsFiles(cluster.config, cluster.id) : undefined;
      let quorumTls: TlsMaterial | undefined;
      try {
        quorumTls = quorumFiles ? loadTlsFiles(quorumFiles, { requireIdentity: true, requireCa: true }) : undefined;
      } catch (e) {
        if (e instanceof TlsFileError) cmd.error(`error: ${opts.config} (tls): ${e.message}`, { exitCode: 2 });
        throw e;
      }
      const config = defaultConfig({
        host: me?.host ?? opts.host,
        port: me?.clientPort ?? opts.port,
        ...(clientTls ? { secureClientPort: opts.securePort, clientTls } : {}),
        ...(quorumTls ? { quorumTls } : {}),
        dataDir: cluster ? dataDirOf(cluster.config, cluster.id) : opts.dataDir!,
        tickMs: cluster?.config.tickMs ?? opts.tick,
        cluster,
        ...(cluster ? { serverId: cluster.id } : {}),
        minSessionTimeoutMs: opts.minSessionTimeout,
        maxSessionTimeoutMs: opts.maxSessionTimeout,
        maxFrameBytes: opts.maxFrame,
        maxClientConnections: opts.maxClientCnxns,
        globalOutstandingLimit: opts.globalOutstandingLimit,
        maxOutstandingPerConnection: opts.maxOutstandingPerCnxn,
        maxQueuedBytesPerConnection: opts.maxQueuedBytesPerCnxn,
        maxQueuedBytesTotal: opts.maxQueuedBytesTotal,
        maxPendingLogBytes: opts.maxPendingLogBytes,
        maxUncommittedProposals: opts.maxUncommittedProposals,
        snapCount: opts.snapCount,
        extendedTypesEnabled: opts.extendedTypes,
        containerCheckIntervalMs: opts.containerCheckInterval,
        superDigest: opts.superDigest,
        reconfigEnabled: opts.reconfigEnabled,
        saslUsers: saslUsersOf(opts),
        fsync: opts.fsync,
        fsyncWarningThresholdMs: opts.fsyncWarningThreshold,
        fourLetterWhitelist: opts['4lwWhitelist'],
        adminPort: opts.adminPort ?? me?.adminPort,
        adminHost: opts.adminHost,
        adminTokenFile: opts.adminTokenFile ?? cluster?.config.adminTokenFile,
      });
      const server = await ZkServer.start(config, logger);
      process.stdout.write(
        `serving ZooKeeper clients on ${server.connectString} (data dir ${config.dataDir}${cluster ? `, cluster node ${cluster.id} of ${cluster.config.servers.length}${quorumTls ? ', TLS between members' : ''}` : ''})\n`,
      );
      if (server.securePort !== undefined) process.stdout.write(`serving TLS clients on ${config.host}:${server.securePort}${clientTls?.ca ? ' (client certificates required)' : ''}\n`);
      const admin = server.adminToken;
      if (server.adminUrl && admin) {
        process.stdout.write(`admin server and dashboard on ${server.adminUrl}#token=${admin.token}\n  (state-changing requests need the admin token, kept in ${admin.file})\n`);
      }
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void server.stop().then(
          () => process.exit(0),
          (e) => {
            process.stderr.write(`zk-elect server: error while stopping: ${(e as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}

/** The secure port's TLS files, read and checked now: a wrong file is a usage error naming it. */
function clientTlsOf(opts: ServerOptions, usage: (why: string) => never): TlsMaterial | undefined {
  const anyFile = opts.tlsCert ?? opts.tlsKey ?? opts.tlsCa;
  if (opts.securePort === undefined) {
    if (anyFile !== undefined) usage('--tls-cert, --tls-key and --tls-ca configure --secure-port, which is missing');
    return undefined;
  }
  if (opts.tlsCert === undefined || opts.tlsKey === undefined) usage('--secure-port needs --tls-cert and --tls-key');
  try {
    return loadTlsFiles({ cert: opts.tlsCert, key: opts.tlsKey, ...(opts.tlsCa === undefined ? {} : { ca: opts.tlsCa }) }, { requireIdentity: true });
  } catch (e) {
    if (e instanceof TlsFileError) usage(e.message);
    throw e;
  }
}
