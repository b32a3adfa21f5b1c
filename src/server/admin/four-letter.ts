/**
 * Four-letter words on the client port, formatted as ZooKeeper 3.8 formats them so that
 * existing tooling (monitoring scripts, `echo srvr | nc`) reads both systems alike.
 */
import type { FourLetterWord } from '../../protocol/constants.js';
import type { ClientConnection } from '../net/client-connection.js';
import { dirSize, elapsedTimeOf, environment, limitsOf, logDirOf, monitorRows, resetServerStats, serverFigures, snapDirOf, SERVER_VERSION, type Figures, type ServerView } from './figures.js';
import { refusedWord } from './whitelist.js';

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
function connectionLine(v: ServerView, c: ClientConnection, detailed: boolean, self?: ClientConnection): string {
  const me = c === self;
  const base = ` /${c.address}[${me || !c.reading ? 0 : 1}](queued=${c.outstanding},recved=${c.packetsReceived + (me ? 1 : 0)},sent=${c.packetsSent}`;
  if (!detailed || c.sessionId === undefined) return `${base})\n`;
  const avg = c.latencyCount ? Math.trunc(c.totalLatencyMs / c.latencyCount) : 0;
  const min = c.latencyCount ? c.minLatencyMs : 0;
  const lcxid = c.lastCxid >= 0 ? `,lcxid=${hex(c.lastCxid)}` : '';
  return (
    `${base},sid=${hex(c.sessionId)},lop=${c.lastOp === 'NA' ? 'NA' : (LAST_OP[c.lastOp] ?? c.lastOp.toUpperCase().slice(0, 4))},` +
    `est=${c.establishedAtMs},to=${c.sessionTimeoutMs}${lcxid},lzxid=${hex(c.lastZxid)},lresp=${c.lastResponseMono === undefined ? 0 : elapsedTimeOf(v, c.lastResponseMono)},` +
    `llat=${c.lastLatencyMs},minlat=${min},avglat=${avg},maxlat=${c.maxLatencyMs})\n`
  );
}

function srvr(v: ServerView, withClients: boolean, self?: ClientConnection): string {
  const f = serverFigures(v);
  let out = `Zookeeper version: ${f.version}\n`;
  if (withClients) {
    out += 'Clients:\n';
    for (const c of v.connections()) out += connectionLine(v, c, false, self);
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

/** The monitor figures (figures.ts), as ZooKeeper prints them: `zk_<key>\t<value>`. */
function mntr(v: ServerView): string {
  return monitorRows(v)
    .filter((r) => !r.jsonOnly)
    .map((r) => `zk_${r.key}\t${r.double ? javaDouble(Math.round(Number(r.value) * 10_000) / 10_000) : String(r.value)}\n`)
    .join('');
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
 * A follower's session dump (LearnerSessionTracker.dumpSessions): it expires nothing, so it
 * lists every global session it knows with its timeout, by id (a Java long, so signed).
 */
function learnerSessions(v: ServerView): string {
  const sessions = [...v.stateView().sessions].sort(([a], [b]) => {
    const x = BigInt.asIntN(64, a);
    const y = BigInt.asIntN(64, b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  let out = `Global Sessions(${sessions.length}):\n`;
  for (const [id, info] of sessions) out += `${hex(id)}\t${info.timeoutMs}ms\n`;
  return out;
}

/**
 * `dump` (SessionTrackerImpl on a standalone server or a leader, LearnerSessionTracker on a
 * follower; DataTree.dumpEphemerals; NIOServerCnxnFactory.dumpConnections). Connections expire
 * like NIOServerCnxnFactory's queue: after their session timeout (10 s without a session),
 * rounded up to 10 s; we count from now.
 */
function dump(v: ServerView, self?: ClientConnection): string {
  const withEphemerals = v.sessionsWithEphemerals();
  let out = 'SessionTracker dump:\n';
  if (v.quorumState?.()?.role === 'follower') out += learnerSessions(v);
  else out += 'Session ' + expiryDump([...(v.sessionExpiries?.() ?? [])].map(([sid, at]) => [hex(sid), at]));
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

function envi(): string {
  return 'Environment:\n' + environment().map(([k, val]) => `${k}=${val}\n`).join('');
}

export function fourLetterWord(v: ServerView, conn: ClientConnection, word: string): string {
  if (!v.config.fourLetterWhitelist.has(word as FourLetterWord)) return refusedWord(word);
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
      for (const c of v.connections()) out += connectionLine(v, c, true, conn);
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
      // Recognised but not implemented here (gtmk, stmk, hash): refused like a word not enabled.
      return refusedWord(word);
  }
}
