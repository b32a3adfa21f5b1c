/** Topologies every election test runs against, and small helpers around the harness. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fourLetterWord, startZooKeeper, type StartOptions, type ZkEnsemble } from './apache-zookeeper.js';
import { startZkElectServer } from './zk-elect-server.js';

export interface Topology {
  readonly name: string;
  readonly nodes: 1 | 3;
  start(opts?: StartOptions): Promise<ZkEnsemble>;
}

/** Every election suite runs against each of these: the same tests, Apache ZooKeeper and ours. */
export const TOPOLOGIES: readonly Topology[] = [
  { name: 'standalone ZooKeeper', nodes: 1, start: (o) => startZooKeeper({ ...o, nodes: 1 }) },
  { name: '3-node ZooKeeper ensemble', nodes: 3, start: (o) => startZooKeeper({ ...o, nodes: 3 }) },
  { name: 'zk-elect server (standalone)', nodes: 1, start: (o) => startZkElectServer({ ...o, nodes: 1 }) },
  { name: 'zk-elect 3-node cluster', nodes: 3, start: (o) => startZkElectServer({ ...o, nodes: 3 }) },
];

export function uniquePath(label: string): string {
  return `/zk-elect-test/${label}-${randomBytes(4).toString('hex')}`;
}

/** Server-side watches by path, from `wchp` on every member: path -> session ids (hex, no 0x). */
export async function watchesByPath(zk: ZkEnsemble): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const m of zk.members) {
    if (!m.running) continue;
    const text = await fourLetterWord(m.address, 'wchp');
    let current: string | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('/')) {
        current = line.trim();
        if (!out.has(current)) out.set(current, new Set());
      } else if (current && line.trim().startsWith('0x')) {
        out.get(current)!.add(line.trim().slice(2).toLowerCase());
      }
    }
  }
  return out;
}

/** The member whose `cons` lists this session, if any. */
export async function memberServing(zk: ZkEnsemble, sessionIdHex: string) {
  for (const m of zk.members) {
    if (!m.running) continue;
    const cons = await fourLetterWord(m.address, 'cons').catch(() => '');
    if (cons.toLowerCase().includes(`sid=0x${sessionIdHex.toLowerCase()}`)) return m;
  }
  return undefined;
}

/** True if the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
