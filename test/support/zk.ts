/** Topologies every election test runs against, and small helpers around the harness. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fourLetterWord, type ZkEnsemble } from '../../src/harness/apache-zookeeper.js';

export const TOPOLOGIES = [
  { name: 'standalone ZooKeeper', nodes: 1 },
  { name: '3-node ZooKeeper ensemble', nodes: 3 },
] as const;

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
