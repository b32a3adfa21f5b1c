/**
 * One zk-elect server as a real child process (`zk-elect server --port`, no cluster config),
 * for tests and benchmarks. Multi-node requests go to the CLI's own cluster launcher.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../../src/launcher/cli-process.js';
import { LocalEnsemble, LocalMember } from '../../src/launcher/local-ensemble.js';
import { freePorts } from '../../src/launcher/ports.js';
import { trackDir } from '../../src/launcher/reaper.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { defaultConfig } from '../../src/server/config.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { startZooKeeper } from './apache-zookeeper.js';
import {
  assertBuilt,
  cleanUpFailedStart,
  commonServerArgs,
  startZkElectCluster,
  type ZkElectServerOptions,
} from '../../src/launcher/zk-elect-cluster.js';

export type { ZkElectServerOptions } from '../../src/launcher/zk-elect-cluster.js';

/**
 * Like the Apache harness, every four-letter word is enabled unless the caller says otherwise
 * (`fourLetterWhitelist: null` keeps the server's default, srvr only): tests read cons, wchp, mntr.
 */
export async function startZkElectServer(options: ZkElectServerOptions = {}): Promise<ZkEnsemble> {
  const opts = { ...options, fourLetterWhitelist: options.fourLetterWhitelist === undefined ? '*' : options.fourLetterWhitelist };
  if ((opts.nodes ?? 1) !== 1) return startZkElectCluster(opts);
  assertBuilt();
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
      ...commonServerArgs(opts),
    ];
    const member = new LocalMember(1, port!, memberDir, process.execPath, args, startTimeoutMs);
    ensemble = new LocalEnsemble([member], dir);
    ensemble.source = 'zk-elect';
    member.spawn();
    await ensemble.waitReady(startTimeoutMs, 'zk-elect server');
    return ensemble;
  } catch (e) {
    await cleanUpFailedStart(ensemble, dir);
    throw e;
  }
}

/** A zk-elect server in this process (no build needed), in a temp dir removed when it stops. */
export async function startInProcessServer(o: { tickMs: number; minSessionTimeoutMs: number; maxSessionTimeoutMs: number }): Promise<{ connectString: string; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-inproc-'));
  const server = await ZkServer.start(defaultConfig({ dataDir: dir, port: 0, ...o }));
  return {
    connectString: server.connectString,
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Real Apache ZooKeeper and an in-process zk-elect server, standalone, with the same tick and session bounds: for suites that run against both. */
export function standaloneServers(o: { tickTimeMs: number; minSessionTimeoutMs: number; maxSessionTimeoutMs: number }): Array<{ name: string; start: () => Promise<{ connectString: string; stop(): Promise<unknown> }> }> {
  return [
    { name: 'Apache ZooKeeper', start: () => startZooKeeper({ nodes: 1, ...o, controllable: true }) },
    { name: 'zk-elect server', start: () => startInProcessServer({ tickMs: o.tickTimeMs, minSessionTimeoutMs: o.minSessionTimeoutMs, maxSessionTimeoutMs: o.maxSessionTimeoutMs }) },
  ];
}
