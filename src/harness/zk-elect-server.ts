/**
 * Runs zk-elect's own ZooKeeper-compatible server as real child processes, behind the same
 * ZkEnsemble interface as Apache ZooKeeper, so every test can run against both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './cli-process.js';
import { freePorts } from './local-config.js';
import { LocalEnsemble, LocalMember } from './local-zookeeper.js';
import { trackDir, untrackDir } from './reaper.js';
import type { StartOptions, ZkEnsemble } from './types.js';

export interface ZkElectServerOptions extends StartOptions {
  /** Extra `zk-elect server` flags, e.g. ['--snap-count', '50']. */
  serverArgs?: string[];
}

export async function startZkElectServer(opts: ZkElectServerOptions = {}): Promise<ZkEnsemble> {
  if ((opts.nodes ?? 1) !== 1) throw new Error('zk-elect server clusters are not available yet: only nodes: 1');
  if (!fs.existsSync(CLI)) throw new Error(`the zk-elect CLI is not built (${CLI} is missing): run npm run build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-server-'));
  trackDir(dir);
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  let ensemble: LocalEnsemble | undefined;
  try {
    const [port] = await freePorts(1);
    const memberDir = path.join(dir, 'member-1');
    fs.mkdirSync(memberDir, { recursive: true });
    const args = [
      CLI,
      'server',
      '--data-dir',
      path.join(memberDir, 'data'),
      '--port',
      String(port),
      '--tick',
      String(opts.tickTimeMs ?? 200),
      '--min-session-timeout',
      String(opts.minSessionTimeoutMs ?? 1000),
      '--max-session-timeout',
      String(opts.maxSessionTimeoutMs ?? 60_000),
      '--log-level',
      'info',
      ...(opts.serverArgs ?? []),
    ];
    const member = new LocalMember(1, port!, memberDir, process.execPath, args, startTimeoutMs);
    ensemble = new LocalEnsemble([member], dir);
    ensemble.source = 'zk-elect';
    member.spawn();
    await ensemble.waitReady(startTimeoutMs, 'zk-elect server');
    return ensemble;
  } catch (e) {
    if (ensemble) await ensemble.stop();
    else {
      fs.rmSync(dir, { recursive: true, force: true });
      untrackDir(dir);
    }
    throw e;
  }
}
