// Runs Apache ZooKeeper as plain Java child processes (QuorumPeerMain), one
// temp dir per ensemble, supervised by the launcher's LocalEnsemble.
// zkServer.sh is avoided on purpose: it daemonizes, which would hide the PID we
// need for kill -9 / SIGSTOP fault injection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalEnsemble, LocalMember } from '../../src/launcher/local-ensemble.js';
import { allocatePorts } from '../../src/launcher/ports.js';
import { trackDir, untrackDir } from '../../src/launcher/reaper.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import type { ResolvedOptions } from './apache-types.js';
import { writeLoggingConfig, zooCfg } from './local-config.js';
import type { LocalInstall } from './local-install.js';

const MAIN = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
// Small serial-GC heaps: three JVMs share two cores in CI. No perf-data files in /tmp.
export const TEST_HEAP = ['-Xms32m', '-Xmx256m', '-XX:+UseSerialGC'];
const JVM_FLAGS = ['-XX:-UsePerfData', '-XX:+ExitOnOutOfMemoryError', '-Djava.net.preferIPv4Stack=true'];

export async function startLocal(install: LocalInstall, o: ResolvedOptions): Promise<ZkEnsemble> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-zk-'));
  trackDir(dir);
  let ensemble: LocalEnsemble | undefined;
  try {
    const logFlags = writeLoggingConfig(dir);
    const ports = await allocatePorts(o.nodes);
    const members = ports.map((p) => {
      const memberDir = path.join(dir, `member-${p.id}`);
      const dataDir = path.join(memberDir, 'data');
      fs.mkdirSync(dataDir, { recursive: true });
      if (o.nodes > 1) fs.writeFileSync(path.join(dataDir, 'myid'), `${p.id}\n`);
      const cfg = path.join(memberDir, 'zoo.cfg');
      fs.writeFileSync(cfg, zooCfg(p, ports, dataDir, o));
      const args = [...(o.jvmFlags ?? TEST_HEAP), ...JVM_FLAGS, ...logFlags(path.join(memberDir, 'zookeeper.log')), '-cp', install.classpath.join(path.delimiter), MAIN, cfg];
      return new LocalMember(p.id, p.client, memberDir, install.java, args, o.startTimeoutMs);
    });
    ensemble = new LocalEnsemble(members, dir);
    for (const m of members) m.spawn();
    await ensemble.waitReady(o.startTimeoutMs, install.origin);
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
