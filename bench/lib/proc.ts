/** Process figures from /proc, and the machine a report was measured on. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

function statusKb(pid: number, key: string): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** PIDs of `pid`'s descendants (a server that forks helpers is measured whole). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Resident memory (VmRSS) of a process and its descendants, in MB (2^20 bytes); NaN without a PID. */
export function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const kb = [pid, ...descendants(pid)].reduce((sum, p) => sum + statusKb(p, 'VmRSS'), 0);
  return kb === 0 ? NaN : kb / 1024;
}

/** Peak resident memory (VmHWM) of the process itself, in MB. */
export function peakRssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const kb = statusKb(pid, 'VmHWM');
  return kb === 0 ? NaN : kb / 1024;
}

/** What a command printed, stdout then stderr (`java -version` prints to stderr). */
function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000, ...(cwd ? { cwd } : {}) });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  java: string;
  zookeeper: string;
  commit: string;
  commitDirty: boolean;
  date: string;
}

export function machineInfo(repoDir: string): MachineInfo {
  const osRelease = (() => {
    try {
      const text = fs.readFileSync('/etc/os-release', 'utf8');
      const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'unknown';
      const debian = fs.existsSync('/etc/debian_version') ? ` (debian_version ${fs.readFileSync('/etc/debian_version', 'utf8').trim()})` : '';
      return pretty + debian;
    } catch {
      return 'unknown';
    }
  })();
  const java = run('java', ['-version']).split('\n').slice(0, 2).join('; ');
  const zkDeb = run('dpkg-query', ['-W', '-f', '${Version}', 'zookeeper']);
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    os: osRelease,
    node: process.version,
    java,
    zookeeper: /^\d/.test(zkDeb) ? `Apache ZooKeeper ${zkDeb.split('-')[0]} (Debian package zookeeper ${zkDeb})` : 'unknown (no Debian zookeeper package)',
    commit: run('git', ['rev-parse', 'HEAD'], repoDir),
    commitDirty: run('git', ['status', '--porcelain', '--untracked-files=no'], repoDir) !== '',
    date: new Date().toISOString(),
  };
}
