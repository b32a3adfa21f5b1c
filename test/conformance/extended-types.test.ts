/**
 * Differential conformance with TTL nodes ENABLED on both sides (zookeeper.extendedTypesEnabled
 * for Apache ZooKeeper, --extended-types for zk-elect). The standard harness starts both
 * servers with the default (off), so this file builds both processes itself from the
 * harness's pieces: the same zoo.cfg plus extendedTypesEnabled=true (ZooKeeper turns unknown
 * zoo.cfg keys into zookeeper.* system properties, and a -D flag says it again), and our CLI
 * with the same tick and session bounds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../../src/launcher/cli-process.js';
import { allocatePorts, freePorts } from '../../src/launcher/ports.js';
import { writeLoggingConfig, zooCfg } from '../support/local-config.js';
import { findLocalInstall } from '../support/local-install.js';
import { LocalEnsemble, LocalMember } from '../../src/launcher/local-ensemble.js';
import { trackDir } from '../../src/launcher/reaper.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { ZooKeeperUnavailableError } from '../support/apache-types.js';
import { conformanceSuite, SERVER_OPTIONS } from './framework.js';
import { CreateMode, Op } from '../support/raw-client.js';

const START_TIMEOUT_MS = 60_000;
const JVM_FLAGS = ['-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:-UsePerfData', '-XX:+ExitOnOutOfMemoryError', '-Djava.net.preferIPv4Stack=true'];

async function startApacheWithTtl(): Promise<ZkEnsemble> {
  const install = findLocalInstall();
  if (typeof install === 'string') throw new ZooKeeperUnavailableError(install);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-ttl-apache-'));
  trackDir(dir);
  const [ports] = await allocatePorts(1);
  const memberDir = path.join(dir, 'member-1');
  const dataDir = path.join(memberDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const cfg = path.join(memberDir, 'zoo.cfg');
  const o = { ...SERVER_OPTIONS, controllable: true, startTimeoutMs: START_TIMEOUT_MS, fourLetterWhitelist: '*' };
  fs.writeFileSync(cfg, `${zooCfg(ports!, [ports!], dataDir, o)}extendedTypesEnabled=true\n`);
  const logFlags = writeLoggingConfig(dir);
  const args = [...JVM_FLAGS, '-Dzookeeper.extendedTypesEnabled=true', ...logFlags(path.join(memberDir, 'zookeeper.log')), '-cp', install.classpath.join(path.delimiter), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg];
  const member = new LocalMember(1, ports!.client, memberDir, install.java, args, START_TIMEOUT_MS);
  const ensemble = new LocalEnsemble([member], dir);
  member.spawn();
  try {
    await ensemble.waitReady(START_TIMEOUT_MS, `${install.origin} with extended types`);
  } catch (e) {
    await ensemble.stop();
    throw e;
  }
  return ensemble;
}

async function startOursWithTtl(): Promise<ZkEnsemble> {
  if (!fs.existsSync(CLI)) throw new Error(`the zk-elect CLI is not built (${CLI} is missing): run npm run build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-ttl-ours-'));
  trackDir(dir);
  const [port] = await freePorts(1);
  const memberDir = path.join(dir, 'member-1');
  fs.mkdirSync(memberDir, { recursive: true });
  const args = [
    CLI, 'server', '--data-dir', path.join(memberDir, 'data'), '--port', String(port), '--tick', String(SERVER_OPTIONS.tickTimeMs),
    '--min-session-timeout', String(SERVER_OPTIONS.minSessionTimeoutMs), '--max-session-timeout', String(SERVER_OPTIONS.maxSessionTimeoutMs),
    '--extended-types', '--4lw-whitelist', '*', '--log-level', 'warn',
  ];
  const member = new LocalMember(1, port!, memberDir, process.execPath, args, START_TIMEOUT_MS);
  const ensemble = new LocalEnsemble([member], dir);
  ensemble.source = 'zk-elect';
  member.spawn();
  try {
    await ensemble.waitReady(START_TIMEOUT_MS, 'zk-elect server with extended types');
  } catch (e) {
    await ensemble.stop();
    throw e;
  }
  return ensemble;
}

const { scenario } = conformanceSuite('ttl', { apache: startApacheWithTtl, ours: startOursWithTtl });

scenario('TTL nodes: createTTL in both TTL modes, their Stat, and the ttl bounds', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('createTTL persistent', await c.createTTL(`${r}/t`, 'x', 10_000n));
  t.rec('createTTL sequential', await c.createTTL(`${r}/ts-`, 'y', 10_000n, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL));
  t.rec('exists', await c.exists(`${r}/t`));
  t.rec('getData', await c.getData(`${r}/ts-0000000001`));
  t.rec('ttl 1', await c.createTTL(`${r}/t1`, null, 1n));
  t.rec('ttl 0', await c.createTTL(`${r}/t0`, null, 0n));
  t.rec('ttl -1', await c.createTTL(`${r}/tm1`, null, -1n));
  t.rec('ttl 2^40 - 1 (EphemeralType.TTL.maxValue)', await c.createTTL(`${r}/tmax`, null, 0xffffffffffn));
  t.rec('ttl above the maximum', await c.createTTL(`${r}/tover`, null, 0x10000000000n));
  t.rec('createTTL with a non-TTL flag', await c.createTTL(`${r}/tp`, null, 1000n, CreateMode.PERSISTENT));
  t.rec('create2 with a TTL flag (no ttl)', await c.create2(`${r}/tf`, null, CreateMode.PERSISTENT_WITH_TTL));
  t.rec('create with a TTL flag (no ttl)', await c.create(`${r}/tf2`, null, CreateMode.PERSISTENT_WITH_TTL));
  t.rec('child of a TTL node', await c.create2(`${r}/t/kid`, 'k'));
  t.rec('ephemeral child of a TTL node', await c.create2(`${r}/t/ekid`, 'k', CreateMode.EPHEMERAL));
  t.rec('TTL child of an ephemeral', await c.create(`${r}/eph`, null, CreateMode.EPHEMERAL).then(() => c.createTTL(`${r}/eph/t`, null, 1000n)));
  t.rec('setData on a TTL node', await c.setData(`${r}/t`, 'z'));
  t.rec('getChildren2', await c.getChildren2(r));
  t.rec('getEphemerals (TTL nodes are not ephemerals)', await c.getEphemerals(r));
  t.rec('delete a TTL node with children', await c.delete(`${r}/t`));
  t.rec('delete its children and it', await c.multi([Op.delete(`${r}/t/kid`), Op.delete(`${r}/t/ekid`), Op.delete(`${r}/t`)]));
});

scenario('TTL sub-ops in a multi', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('createTTL sub-op', await c.multi([Op.createTTL(`${r}/a`, 'a', 5000n), Op.createTTL(`${r}/s-`, 's', 5000n, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL)]));
  t.rec('createTTL sub-op with ttl 0', await c.multi([Op.createTTL(`${r}/b`, 'b', 0n)]));
  t.rec('create sub-op with a TTL flag', await c.multi([Op.create(`${r}/c`, 'c', CreateMode.PERSISTENT_WITH_TTL)]));
  t.rec('create sub-op with a TTL flag after a failure', await c.multi([Op.check(`${r}/a`, 5), Op.create(`${r}/c`, 'c', CreateMode.PERSISTENT_WITH_TTL)]));
  t.rec('children', await c.getChildren2(r));
});

scenario('sessions and ephemerals still work with extended types on', async (t) => {
  const a = await t.raw();
  const w = await t.raw();
  const r = t.root;
  t.note('session', t.sid(a.sessionId));
  t.rec('ephemeral', await a.create2(`${r}/e`, 'x', CreateMode.EPHEMERAL));
  t.rec('container', await a.createContainer(`${r}/cont`, 'c'));
  t.rec('exists container', await w.exists(`${r}/cont`));
  t.rec('watch', await w.exists(`${r}/e`, true));
  t.rec('close', await a.close());
  await w.waitEvents(1);
  t.events('events', w);
  t.rec('children', await w.getChildren2(r));
});
