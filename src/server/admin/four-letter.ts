/**
 * Four-letter words on the client port, formatted as ZooKeeper 3.8 formats them so that
 * existing tooling (monitoring scripts, `echo srvr | nc`) reads both systems alike.
 */
import { homedir, hostname, platform, release, arch, userInfo } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import type { ClientConnection } from '../net/client-connection.js';
import { backpressureRows, dirSize, limitsOf, logDirOf, resetServerStats, serverFigures, snapDirOf, SERVER_VERSION, type Figures, type ServerView } from './figures.js';

export { SERVER_VERSION, type ServerView } from './figures.js';

const hex = (n: bigint | number) => `0x${n.toString(16)}`;

/**
 * Java's Double.toString of a value ZooKeeper rounded to 4 decimals (AvgMinMaxCounter.getAvg:
 * BigDecimal HALF_UP): "3.0", "2.6667", "5.0E-4".
 */
export function javaDouble(v: number): string {
  if (v === 0) return '0.0';
  if (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e7) return Number.isInteger(v) ? `${v}.0` : String(v);
  const [mantissa, exp] = v.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exp)}`;
}

function averageLatency(f: Figures): string {
  return javaDouble(Math.round(f.latency.avg * 10_000) / 10_000);
}

function latency(f: Figures): string {
  return `${f.latency.min}/${averageLatency(f)}/${f.latency.max}`;
}

/** FinalRequestProcessor's lastOp codes, as `cons` shows them. */
const LAST_OP: Record<string, string> = {
  ping: 'PING', createSession: 'SESS', multi: 'MULT', multiRead: 'MLTR', create: 'CREA', create2: 'CREA', createTTL: 'CREA',
  createContainer: 'CREA', delete: 'DELE', deleteContainer: 'DELE', setData: 'SETD', reconfig: 'RECO', setACL: 'SETA',
  closeSession: 'CLOS', sync: 'SYNC', check: 'CHEC', exists: 'EXIS', getData: 'GETD', setWatches: 'SETW', setWatches2: 'STW2',
  addWatch: 'ADDW', getACL: 'GETA', getChildren: 'GETC', getChildren2: 'GETC', getAllChildrenNumber: 'GETACN',
  checkWatches: 'CHKW', removeWatches: 'REMW', whoAmI: 'HOMI', getEphemerals: 'GETE', auth: 'AUTH', sasl: 'SASL',
};

/**
 * ServerCnxn.dumpConnectionInfo. `self` is the connection asking (a four-letter word): like
 * ZooKeeper it shows no read interest ([0]) and its word counted as one packet received. A
 * connection not being read (backpressure, or a connect being answered) shows [0] too.
 */
function connectionLine(c: ClientConnection, detailed: boolean, self?: ClientConnection): string {
  const me = c === self;
  const base = ` /${c.address}[${me || !c.reading ? 0 : 1}](queued=${c.outstanding},recved=${c.packetsReceived + (me ? 1 : 0)},sent=${c.packetsSent}`;
  if (!detailed || c.sessionId === undefined) return `${base})\n`;
  const avg = c.latencyCount ? Math.trunc(c.totalLatencyMs / c.latencyCount) : 0;
  const min = c.latencyCount ? c.minLatencyMs : 0;
  const lcxid = c.lastCxid >= 0 ? `,lcxid=${hex(c.lastCxid)}` : '';
  return (
    `${base},sid=${hex(c.sessionId)},lop=${c.lastOp === 'NA' ? 'NA' : (LAST_OP[c.lastOp] ?? c.lastOp.toUpperCase().slice(0, 4))},` +
    `est=${c.establishedAtMs},to=${c.sessionTimeoutMs}${lcxid},lzxid=${hex(c.lastZxid)},lresp=${c.lastResponseAtMs},` +
    `llat=${c.lastLatencyMs},minlat=${min},avglat=${avg},maxlat=${c.maxLatencyMs})\n`
  );
}

function srvr(v: ServerView, withClients: boolean, self?: ClientConnection): string {
  const f = serverFigures(v);
  let out = `Zookeeper version: ${f.version}\n`;
  if (withClients) {
    out += 'Clients:\n';
    for (const c of v.connections()) out += connectionLine(c, false, self);
    out += '\n';
  }
  out += `Latency min/avg/max: ${latency(f)}\n`;
  out += `Received: ${f.packetsReceived}\n`;
  out += `Sent: ${f.packetsSent}\n`;
  out += `Connections: ${f.connections}\n`;
  out += `Outstanding: ${f.outstanding}\n`;
  out += `Zxid: ${hex(f.lastZxid)}\n`;
  out += `Mode: ${f.state}\n`;
  out += `Node count: ${f.znodeCount}\n`;
  return out;
}

const snapDir = (v: ServerView) => snapDirOf(v.config);
const logDir = (v: ServerView) => logDirOf(v.config);

function mntr(v: ServerView): string {
  const f = serverFigures(v);
  const rows: Array<[string, string | number]> = [
    ['zk_version', f.version],
    ['zk_server_state', f.state],
    ['zk_avg_latency', averageLatency(f)],
    ['zk_max_latency', f.latency.max],
    ['zk_min_latency', f.latency.min],
    ['zk_packets_received', f.packetsReceived],
    ['zk_packets_sent', f.packetsSent],
    ['zk_num_alive_connections', f.connections],
    ['zk_outstanding_requests', f.outstanding],
    ['zk_znode_count', f.znodeCount],
    ['zk_watch_count', f.watchCount],
    ['zk_ephemerals_count', f.ephemerals],
    ['zk_approximate_data_size', f.approximateDataSize],
    ['zk_open_file_descriptor_count', f.openFileDescriptors ?? 0],
    ['zk_max_file_descriptor_count', f.maxFileDescriptors ?? 0],
    ['zk_uptime', f.uptimeMs],
    ['zk_global_sessions', f.sessions],
    ['zk_local_sessions', 0],
    ...backpressureRows(v).map(([k, n]): [string, number] => [`zk_${k}`, n]),
  ];
  return rows.map(([k, val]) => `${k}\t${val}\n`).join('');
}

function conf(v: ServerView): string {
  const c = v.config;
  return (
    `clientPort=${c.port}\nsecureClientPort=${v.securePort ?? -1}\ndataDir=${snapDir(v)}\ndataDirSize=${dirSize(snapDir(v))}\n` +
    `dataLogDir=${logDir(v)}\ndataLogSize=${dirSize(logDir(v))}\n` +
    `tickTime=${c.tickMs}\nmaxClientCnxns=${c.maxClientConnections}\nminSessionTimeout=${c.minSessionTimeoutMs}\n` +
    `maxSessionTimeout=${c.maxSessionTimeoutMs}\nclientPortListenBacklog=-1\nserverId=${c.serverId}\n` +
    limitsOf(c)
      .map((l) => `${l.conf}=${l.value}\n`)
      .join('') +
    // Not in ZooKeeper's conf (it is a system property there), shown here as the limits are.
    `znode.container.checkIntervalMs=${c.containerCheckIntervalMs}\n`
  );
}

function sessionOf(v: ServerView, watcherId: number): bigint | undefined {
  return v.connections().find((c) => c.id === watcherId)?.sessionId;
}

function wchc(v: ServerView): string {
  let out = '';
  for (const [watcher, paths] of v.stateView().watchesByWatcher()) {
    const sid = sessionOf(v, watcher);
    out += `${hex(sid ?? 0n)}\n`;
    for (const p of paths) out += `\t${p}\n`;
  }
  return `${out}\n`;
}

function wchp(v: ServerView): string {
  let out = '';
  for (const [path, watchers] of v.stateView().watchesByPath()) {
    out += `${path}\n`;
    for (const w of watchers) out += `\t${hex(sessionOf(v, w) ?? 0n)}\n`;
  }
  return `${out}\n`;
}

/** java.util.Date.toString(): "Sun Nov 22 03:29:42 UTC 2026" (local time zone). */
function javaDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
  return `${day} ${month} ${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone} ${d.getFullYear()}`;
}

/** ExpiryQueue.dump: "Sets (<times>)/(<elements>):", then each expiry time ascending with its elements. */
function expiryDump(entries: Array<[string, number]>): string {
  const byTime = new Map<number, string[]>();
  for (const [name, at] of entries) byTime.set(at, [...(byTime.get(at) ?? []), name]);
  let out = `Sets (${byTime.size})/(${entries.length}):\n`;
  for (const at of [...byTime.keys()].sort((a, b) => a - b)) {
    const names = byTime.get(at) as string[];
    out += `${names.length} expire at ${javaDate(at)}:\n`;
    for (const n of names) out += `\t${n}\n`;
  }
  return out;
}

/**
 * The standalone server's `dump` (SessionTrackerImpl, DataTree.dumpEphemerals,
 * NIOServerCnxnFactory.dumpConnections). Connections expire like NIOServerCnxnFactory's queue:
 * after their session timeout (10 s without a session), rounded up to 10 s; we count from now.
 */
function dump(v: ServerView, self?: ClientConnection): string {
  const withEphemerals = v.sessionsWithEphemerals();
  let out = 'SessionTracker dump:\nSession ';
  out += expiryDump([...(v.sessionExpiries?.() ?? [])].map(([sid, at]) => [hex(sid), at]));
  const owning = [...withEphemerals].filter(([, paths]) => paths.length > 0);
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${owning.length}):\n`;
  for (const [sid, paths] of owning) {
    out += `${hex(sid)}:\n`;
    for (const p of paths) out += `\t${p}\n`;
  }
  const interval = 10_000;
  const now = Date.now();
  out += 'Connections dump:\nConnections ';
  out += expiryDump(
    v.connections().map((c) => {
      const timeout = c.sessionId === undefined ? interval : c.sessionTimeoutMs;
      const at = (Math.floor((now + timeout) / interval) + 1) * interval;
      return [`ip: /${c.address} sessionId: ${hex(c.sessionId ?? 0n)}`, c === self ? (Math.floor((now + interval) / interval) + 1) * interval : at];
    }),
  );
  return out;
}

/** Java's os.name / os.arch spellings for Node's platform() / arch(). */
const JAVA_OS: Record<string, string> = { linux: 'Linux', darwin: 'Mac OS X', win32: 'Windows', freebsd: 'FreeBSD', sunos: 'SunOS', aix: 'AIX' };
const JAVA_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'aarch64', ia32: 'x86', arm: 'arm', ppc64: 'ppc64', s390x: 's390x' };

/**
 * Environment.list() in ZooKeeper's order and spelling; the java.* entries become node.version
 * (there is no JVM), and os.memory.* describe the V8 heap as the JVM's describe its heap.
 */
function envi(): string {
  const heap = getHeapStatistics();
  const mb = (bytes: number) => `${Math.round(bytes / 1048576)}MB`;
  let user = '?';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  const rows: Array<[string, string]> = [
    ['zookeeper.version', SERVER_VERSION],
    ['host.name', hostname()],
    ['node.version', process.version],
    ['process.id', String(process.pid)],
    ['os.name', JAVA_OS[platform()] ?? platform()],
    ['os.arch', JAVA_ARCH[arch()] ?? arch()],
    ['os.version', release()],
    ['user.name', user],
    ['user.home', homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(heap.total_heap_size - heap.used_heap_size)],
    ['os.memory.max', mb(heap.heap_size_limit)],
    ['os.memory.total', mb(heap.total_heap_size)],
  ];
  return 'Environment:\n' + rows.map(([k, val]) => `${k}=${val}\n`).join('');
}

export function fourLetterWord(v: ServerView, conn: ClientConnection, word: string): string {
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'srvr':
      return srvr(v, false);
    case 'stat':
      return srvr(v, true, conn);
    case 'mntr':
      return mntr(v);
    case 'conf':
      return conf(v);
    case 'cons': {
      let out = '';
      for (const c of v.connections()) out += connectionLine(c, true, conn);
      return out + '\n';
    }
    case 'crst':
      for (const c of v.connections()) c.resetStats();
      return 'Connection stats reset.\n';
    case 'srst':
      resetServerStats(v);
      return 'Server stats reset.\n';
    case 'wchs': {
      const s = v.stateView().watchSummary();
      return `${s.connections} connections watching ${s.paths} paths\nTotal watches:${s.totalWatches}\n`;
    }
    case 'wchc':
      return wchc(v);
    case 'wchp':
      return wchp(v);
    case 'dump':
      return dump(v, conn);
    case 'dirs':
      return `datadir_size: ${dirSize(snapDir(v))}\nlogdir_size: ${dirSize(logDir(v))}\n`;
    case 'isro':
      return 'rw';
    case 'envi':
      return envi();
    default:
      return `${word} is not executed because it is not in the whitelist.\n`;
  }
}
