// Entry point of the test/benchmark harness for REAL Apache ZooKeeper.
// Sources, in order: an existing server (ZK_CONNECT, only when the caller does
// not need to kill/pause members), Docker via testcontainers (only when an
// engine answers), then a local install (ZOOKEEPER_HOME or Debian's package).
import { fourLetterWord, parseMode } from '../../src/launcher/four-letter-word.js';
import type { StartOptions, ZkEnsemble } from '../../src/launcher/types.js';
import { HOW_TO_GET_ZOOKEEPER, ZooKeeperUnavailableError, type ApacheStartOptions, type ResolvedOptions } from './apache-types.js';
import { dockerEngineAnswers, startContainers } from './container-zookeeper.js';
import { findLocalInstall } from './local-install.js';
import { startLocal } from './local-zookeeper.js';

export { fourLetterWord } from '../../src/launcher/four-letter-word.js';
export type { StartOptions, ZkEnsemble, ZkMember, ZkSource } from '../../src/launcher/types.js';
export { ZooKeeperUnavailableError, type ApacheStartOptions } from './apache-types.js';

export async function startZooKeeper(opts: ApacheStartOptions = {}): Promise<ZkEnsemble> {
  const o: ResolvedOptions = {
    nodes: opts.nodes ?? 1,
    tickTimeMs: opts.tickTimeMs ?? 200,
    minSessionTimeoutMs: opts.minSessionTimeoutMs ?? 1000,
    maxSessionTimeoutMs: opts.maxSessionTimeoutMs ?? 60_000,
    controllable: opts.controllable ?? false,
    startTimeoutMs: opts.startTimeoutMs ?? 60_000,
    ...(opts.jvmFlags ? { jvmFlags: opts.jvmFlags } : {}),
    ...(opts.zooCfg ? { zooCfg: opts.zooCfg } : {}),
    ...(opts.localOnly ? { localOnly: true } : {}),
    fourLetterWhitelist: opts.fourLetterWhitelist === undefined ? '*' : opts.fourLetterWhitelist,
  };
  const external = process.env['ZK_CONNECT']?.trim();
  if (external && !o.controllable) return useExternal(external);

  const local = findLocalInstall();
  if (!o.localOnly && (await dockerEngineAnswers())) {
    try {
      return await startContainers(o);
    } catch (e) {
      // An engine that answers but cannot pull/run the image (offline CI) should
      // not fail the run when a local install could serve instead.
      if (typeof local === 'string') throw e;
      process.emitWarning(`zookeeper:3.8 container failed (${(e as Error).message.split('\n')[0]}); using ${local.origin}`);
    }
  }
  if (typeof local === 'string') throw new ZooKeeperUnavailableError(`${local}\n${HOW_TO_GET_ZOOKEEPER}`);
  return startLocal(local, o);
}

/** ZK_CONNECT may carry a chroot ("h1:2181,h2:2181/app"); only host:port pairs are probed. */
async function useExternal(connectString: string): Promise<ZkEnsemble> {
  const slash = connectString.indexOf('/');
  const hosts = (slash < 0 ? connectString : connectString.slice(0, slash)).split(',').filter(Boolean);
  await Promise.all(
    hosts.map(async (address) => {
      // srvr is the one word whitelisted by default; ruok covers servers that allow only it.
      const srvr = await fourLetterWord(address, 'srvr', 3000).catch((e: Error) => e);
      if (typeof srvr === 'string' && parseMode(srvr) !== 'unknown') return;
      const ruok = await fourLetterWord(address, 'ruok', 3000).catch((e: Error) => e);
      if (ruok === 'imok') return;
      const why = [srvr, ruok].map((r) => (r instanceof Error ? r.message : JSON.stringify(r.slice(0, 120))));
      throw new Error(`ZK_CONNECT=${connectString}: ZooKeeper at ${address} is not serving (srvr: ${why[0]}; ruok: ${why[1]})`);
    }),
  );
  return {
    source: 'external',
    connectString,
    members: [],
    leader: async () => undefined, // members of an external ensemble are not ours to address
    stop: async () => undefined, // nothing was started
  };
}
