/**
 * Instants worth marking on a latency-over-time chart, read from the servers' own logs:
 * snapshots, transaction-log rolls and follower synchronisation. zk-elect logs to
 * `<member dir>/console.log` (winston, ISO timestamps in UTC); Apache ZooKeeper to
 * `<member dir>/zookeeper.log` (log4j ISO8601, the JVM's local time zone, which is the
 * machine's, so it is parsed as local time).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ServerKind } from './servers.js';

export interface LogEvent {
  /** ms since the epoch */
  at: number;
  member: number;
  what: string;
}

const OURS: Array<[RegExp, string]> = [
  [/ info: snapshot written/, 'snapshot written'],
  [/ info: serving /, 'client port open'],
  [/ info: role \{"role":"following"/, 'election over: following (not synced yet)'],
  [/ info: snap sent /, 'leader: SNAP sent'],
  [/ info: snap receiving /, 'follower: first SNAP chunk'],
  [/ info: snap transferred /, 'follower: last SNAP chunk'],
  [/ info: snap installing /, 'follower: SNAP install starts'],
  [/ info: snap parsed /, 'follower: SNAP parsed'],
  [/ info: snap file written /, 'follower: SNAP file written'],
  [/ info: snap received /, 'follower installed the SNAP'],
  [/ info: (following|leading)\b/, 'synced with the leader'],
];

const APACHE: Array<[RegExp, string]> = [
  [/ - Snapshotting: /, 'snapshot started'],
  [/ - Snapshot taken in \d+ ms/, 'snapshot written'],
  [/ - Creating new log file: /, 'new txn log file'],
  [/ - Sending snap|Sending SNAP|- Synchronizing with Leader sending snapshot/i, 'leader sends a snapshot (SNAP)'],
  [/ - Getting a snapshot from leader/, 'follower receives a snapshot (SNAP)'],
  [/ - Follower sid: \d+ : info : /, 'leader: follower connected'],
];

function parseApacheTime(line: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)[,.](\d{3})/.exec(line);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  return new Date(y!, mo! - 1, d!, h!, mi!, s!, ms!).getTime();
}

/** Events logged by `member` between `from` and `to` (ms since the epoch). */
export function logEvents(kind: ServerKind, memberDir: string, member: number, from: number, to: number): LogEvent[] {
  const file = path.join(memberDir, kind === 'apache' ? 'zookeeper.log' : 'console.log');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: LogEvent[] = [];
  for (const line of text.split('\n')) {
    const at = kind === 'apache' ? parseApacheTime(line) : Date.parse(line.slice(0, line.indexOf(' ')));
    if (at === undefined || Number.isNaN(at) || at < from || at > to) continue;
    for (const [re, what] of kind === 'apache' ? APACHE : OURS) {
      if (re.test(line)) {
        let label = what;
        // Apache: "Snapshot taken in 123 ms"; ours: "snapshot written {..."ms":123...}" (and the SNAP lines' own ms).
        const took = /Snapshot taken in (\d+) ms/.exec(line) ?? /(?:snapshot written|snap \w+(?: \w+)*) \{.*"ms":(\d+)/.exec(line);
        if (took) label += ` (${took[1]} ms)`;
        const size = kind === 'zk-elect' ? /"bytes":(\d+)/.exec(line) : null;
        if (size && /snap (sent|transferred)/.test(line)) label += ` ${(Number(size[1]) / 2 ** 20).toFixed(0)} MB`;
        // The leader's time cutting chunks; the rest of its ms it waited for the follower's acks.
        const readMs = kind === 'zk-elect' ? /snap sent .*"readMs":(\d+)/.exec(line) : null;
        if (readMs) label += `, ${readMs[1]} ms of it reading the tree`;
        out.push({ at, member, what: label });
        break;
      }
    }
  }
  return out;
}
