/** Options shared by the election commands, with strict parsers (bad values exit 2). */
import { Command, InvalidArgumentError as UsageError, Option } from 'commander';
import { hostname } from 'node:os';
import { parseAuth, type DigestAuth } from '../election/auth.js';
import { MAX_META_BYTES } from '../election/candidate-data.js';
import { parseConnectString } from '../election/connect-string.js';
import { TRANSPORT_NAMES, type TransportName } from '../election/handle.js';
import { MAX_PRIORITY, validatePath } from '../election/names.js';
import { LOG_LEVELS, type LogLevel } from '../log.js';
import { addTlsOptions, type TlsCliOptions } from './tls-options.js';

export interface CommonOptions extends TlsCliOptions {
  connect: string;
  path: string;
  id: string;
  sessionTimeout: number;
  connectTimeout: number;
  lossDeadline: number;
  json: boolean;
  logLevel: LogLevel;
  auth?: DigestAuth;
  transport: TransportName;
  /** Candidates only. */
  priority?: number;
  preempt?: boolean;
  meta?: Record<string, string>;
}

function wrap<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  };
}

export function parseMs(name: string, min: number, max = 24 * 3600 * 1000): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number of milliseconds, got ${JSON.stringify(v)}`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max} ms, got ${n}`);
    return n;
  };
}

/** `--auth digest:USER:PASSWORD` (also from ZK_ELECT_AUTH, which keeps the password out of `ps`). */
export function authOption(): Option {
  return new Option('--auth <digest:user:password>', 'authenticate the session (ZooKeeper digest scheme); candidates then protect the election with ACLs only this identity may change')
    .env('ZK_ELECT_AUTH')
    .argParser(wrap(parseAuth));
}

function parseRatio(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new UsageError(`--loss-deadline must be a fraction between 0 and 1 (exclusive), got ${JSON.stringify(v)}`);
  return n;
}

export function parsePriority(v: string): number {
  if (!/^\d{1,6}$/.test(v)) throw new UsageError(`--priority must be a whole number from 0 to ${MAX_PRIORITY}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `--meta key=value`, repeatable: collects one JSON object of strings. */
export function parseMeta(v: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new UsageError(`--meta takes key=value, got ${JSON.stringify(v)}`);
  const key = v.slice(0, eq);
  const out = { ...(previous ?? {}) };
  if (Object.hasOwn(out, key)) throw new UsageError(`--meta ${key} is given twice`);
  out[key] = v.slice(eq + 1);
  const bytes = Buffer.byteLength(JSON.stringify(out), 'utf8');
  if (bytes > MAX_META_BYTES) throw new UsageError(`--meta adds up to ${bytes} bytes as JSON; the limit is ${MAX_META_BYTES}`);
  return out;
}

/** `--transport`: which ZooKeeper client carries the session (see ZkSession's `transport`). */
export function transportOption(): Option {
  return new Option('--transport <name>', 'ZooKeeper client: native (the official C client) or wire (zk-elect\'s own, in TypeScript)')
    .choices(TRANSPORT_NAMES)
    .env('ZK_ELECT_TRANSPORT')
    .default('native');
}

export function addCommonOptions(cmd: Command, opts: { candidate: boolean }): Command {
  cmd
    .addOption(
      new Option('-c, --connect <servers>', 'ZooKeeper servers, host:port[,host:port...][/chroot]')
        .env('ZK_CONNECT')
        .default('127.0.0.1:2181')
        .argParser(wrap((v) => (parseConnectString(v), v))),
    )
    .addOption(new Option('-p, --path <znode>', 'election path').default('/election').argParser(wrap(validatePath)))
    .addOption(
      new Option('--session-timeout <ms>', 'requested ZooKeeper session timeout').default(10_000).argParser(parseMs('--session-timeout', 100)),
    )
    .addOption(
      new Option('--connect-timeout <ms>', 'give up if no server answers within this time').default(15_000).argParser(parseMs('--connect-timeout', 1)),
    )
    .addOption(authOption())
    .addOption(transportOption())
    .addOption(new Option('--json', 'write one JSON event per line (NDJSON) to stdout').default(false))
    .addOption(new Option('--log-level <level>', 'diagnostics on stderr').choices(LOG_LEVELS).default('warn'));
  addTlsOptions(cmd);
  if (opts.candidate) {
    cmd
      .addOption(
        new Option('-i, --id <id>', 'this candidate\'s id (stored in its node)')
          .default(`${hostname()}-${process.pid}`, '<hostname>-<pid>')
          .argParser(wrap((v) => {
            if (v.length === 0) throw new Error('--id must not be empty');
            return v;
          })),
      )
      .addOption(
        new Option('--loss-deadline <fraction>', 'a leader without confirmed contact for this fraction of the session timeout stops leading')
          .default(0.5)
          .argParser(parseRatio),
      )
      .addOption(
        new Option('--priority <n>', `higher leads first among zk-elect candidates (0-${MAX_PRIORITY}); equal priorities keep first-come order`)
          .default(0)
          .argParser(parsePriority),
      )
      .addOption(new Option('--preempt', 'with a priority above the leader\'s, ask it to hand over at once').default(false))
      .addOption(new Option('--meta <key=value>', 'attach key=value to this candidate\'s node (repeatable; shown by status, watch --json and the dashboard)').argParser(parseMeta));
  }
  return cmd;
}
