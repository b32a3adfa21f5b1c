/**
 * reconfig answers as ZooKeeper 3.8 does in each mode, checked against the real thing:
 * - reconfigEnabled=false (ZooKeeper's default; standalone and cluster): RECONFIGDISABLED,
 *   which kazoo 2.8 has no exception class for, so its call never returns on either server;
 * - reconfigEnabled=true on a standalone server: UNIMPLEMENTED (PrepRequestProcessor: not a
 *   LeaderZooKeeperServer), which kazoo raises as UnimplementedError;
 * - zk-elect refuses --reconfig-enabled for a cluster node (no dynamic reconfiguration).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { CLI } from '../../src/launcher/cli-process.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { startZooKeeper } from '../support/apache-zookeeper.js';
import { kazoo } from '../support/kazoo-probe.js';
import { OpCode, RawClient } from '../support/raw-client.js';
import { startZkElectServer } from '../support/zk-elect-server.js';

const BASE = { tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 } as const;

/** A raw reconfig (leave server 9) on the first member; the error name and whether the connection lives on. */
async function rawReconfig(zk: ZkEnsemble): Promise<{ err: string; then: string }> {
  const c = await RawClient.connect(zk.members[0]!.address);
  try {
    const r = await c.send({ kind: 'reconfig', xid: 1, type: OpCode.reconfig, body: { joiningServers: null, leavingServers: '9', newMembers: null, curConfigId: -1n } });
    return { err: r.errName, then: (await c.exists('/')).errName };
  } finally {
    await c.close();
  }
}

async function onBoth<T>(apache: () => Promise<ZkEnsemble>, ours: () => Promise<ZkEnsemble>, fn: (zk: ZkEnsemble) => Promise<T>): Promise<{ apache: T; ours: T }> {
  const [a, o] = await Promise.all([apache(), ours()]);
  try {
    return { apache: await fn(a), ours: await fn(o) };
  } finally {
    await Promise.all([a.stop(), o.stop()]);
  }
}

describe('reconfig, as ZooKeeper answers it', () => {
  test('standalone, reconfigEnabled=false (the default): RECONFIGDISABLED; kazoo 2.8 cannot map it and gets no answer', { timeout: 120_000 }, async () => {
    const r = await onBoth(
      () => startZooKeeper({ ...BASE, nodes: 1, controllable: true }),
      () => startZkElectServer({ ...BASE, nodes: 1 }),
      async (zk) => ({ raw: await rawReconfig(zk), kazoo: await kazoo('reconfig', zk.connectString) }),
    );
    assert.deepEqual(r.ours, r.apache);
    assert.deepEqual(r.ours.raw, { err: 'RECONFIGDISABLED', then: 'OK' });
    assert.deepEqual(r.ours.kazoo, { connect: 'OK', reconfig: 'Timeout' });
  });

  test('standalone, reconfigEnabled=true: UNIMPLEMENTED (kazoo raises UnimplementedError)', { timeout: 120_000 }, async () => {
    const r = await onBoth(
      () => startZooKeeper({ ...BASE, nodes: 1, controllable: true, zooCfg: { reconfigEnabled: 'true' } }),
      () => startZkElectServer({ ...BASE, nodes: 1, serverArgs: ['--reconfig-enabled'] }),
      async (zk) => ({ raw: await rawReconfig(zk), kazoo: await kazoo('reconfig', zk.connectString) }),
    );
    assert.deepEqual(r.ours, r.apache);
    assert.deepEqual(r.ours.raw, { err: 'UNIMPLEMENTED', then: 'OK' });
    assert.deepEqual(r.ours.kazoo, { connect: 'OK', reconfig: 'UnimplementedError' });
  });

  test('3-node cluster, reconfigEnabled=false: RECONFIGDISABLED', { timeout: 180_000 }, async () => {
    const r = await onBoth(
      () => startZooKeeper({ ...BASE, nodes: 3, controllable: true }),
      () => startZkElectServer({ ...BASE, nodes: 3 }),
      rawReconfig,
    );
    assert.deepEqual(r.ours, r.apache);
    assert.deepEqual(r.ours, { err: 'RECONFIGDISABLED', then: 'OK' });
  });

  test('zk-elect server refuses --reconfig-enabled on a cluster node (exit 2, says why)', { timeout: 30_000 }, async () => {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'server', '--id', '1', '--config', '/nonexistent/cluster.json', '--reconfig-enabled'], { timeout: 20_000 }, (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }));
    });
    assert.equal(code, 2);
    assert.match(stderr, /--reconfig-enabled.*cluster/);
  });
});
