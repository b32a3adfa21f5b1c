/**
 * Session passwords come from a random secret in the data directory (mode 0600), not from a
 * constant in the source: a password forged with the old constant is refused, the real one
 * works after a restart, and an unsafe or damaged secret file stops the server at start. In a
 * cluster every member holds the leader's secret, so a session created on the leader
 * reconnects to another member after the leader is killed.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../../src/launcher/cli-process.js';
import type { ZkEnsemble, ZkMember } from '../../src/launcher/types.js';
import { startZkElectCluster } from '../../src/launcher/zk-elect-cluster.js';
import { CreateMode, RawClient } from '../support/raw-client.js';
import { startZkElectServer } from '../support/zk-elect-server.js';

/** What every zk-elect server used to hand out: HMAC-SHA256 under a constant in the source. */
function forgedPassword(id: bigint): Buffer {
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigInt64BE(BigInt.asIntN(64, id));
  return createHmac('sha256', 'zk-elect session password v1').update(idBytes).digest().subarray(0, 16);
}

async function reattach(address: string, from: RawClient, passwd: Buffer): Promise<RawClient> {
  return RawClient.connect(address, { sessionId: from.sessionId, passwd, lastZxidSeen: from.lastZxid, timeoutMs: from.negotiatedTimeoutMs });
}

describe('session secret, standalone', () => {
  let zk: ZkEnsemble;
  let secretFile: string;
  before(async () => {
    zk = await startZkElectServer();
    secretFile = path.join(zk.members[0]!.dir!, 'data', 'session-secret');
  });
  after(() => zk?.stop());

  test('the secret is random, owner-only, and a password forged with the old constant is refused', async () => {
    const stat = fs.statSync(secretFile);
    assert.equal(stat.mode & 0o777, 0o600, `mode ${(stat.mode & 0o777).toString(8)}`);
    assert.match(fs.readFileSync(secretFile, 'latin1'), /^zk-elect-session-secret 1 [0-9a-f]{64} [0-9a-f]{8}\n$/);
    const owner = await RawClient.connect(zk.connectString, { timeoutMs: 10_000 });
    try {
      await owner.create('/mine', Buffer.from('x'), CreateMode.EPHEMERAL);
      assert.notDeepEqual(owner.passwd, forgedPassword(owner.sessionId), 'the server still hands out the constant-derived password');
      const thief = await reattach(zk.connectString, owner, forgedPassword(owner.sessionId));
      assert.equal(thief.expired, true, 'a forged password took the session over');
      await thief.close().catch(() => undefined);
      // The owner's session is untouched: its ephemeral is there and it still answers.
      const r = await owner.exists('/mine');
      assert.equal(r.err, 0);
      assert.equal(r.body?.stat.ephemeralOwner, owner.sessionId);
      const again = await reattach(zk.connectString, owner, owner.passwd);
      assert.equal(again.expired, false, 'the real password was refused');
      await again.close();
    } finally {
      await owner.close().catch(() => undefined);
    }
  });

  test('the password still works after a kill -9 and restart; an unsafe or damaged secret file stops the start', async () => {
    const owner = await RawClient.connect(zk.connectString, { timeoutMs: 20_000, autoPing: false });
    const member = zk.members[0]!;
    await member.kill('SIGKILL');
    await owner.closedPromise;
    await member.start();
    const back = await reattach(zk.connectString, owner, owner.passwd);
    assert.equal(back.expired, false, 'the session did not survive the restart');
    await back.close();

    await member.kill('SIGKILL');
    const good = fs.readFileSync(secretFile);
    try {
      fs.chmodSync(secretFile, 0o644);
      await assert.rejects(member.start(), /session secret .*session-secret has mode 0644.*chmod 600/s);
      fs.chmodSync(secretFile, 0o600);
      fs.writeFileSync(secretFile, good.toString('latin1').replace(/[0-9a-f](?= [0-9a-f]{8}\n$)/, (c) => (c === '0' ? '1' : '0')));
      await assert.rejects(member.start(), /session secret .*session-secret is damaged \(checksum mismatch\)/s);
    } finally {
      fs.writeFileSync(secretFile, good, { mode: 0o600 });
      fs.chmodSync(secretFile, 0o600);
    }
    await member.start();
  });
});

describe('session secret, cluster', () => {
  let zk: ZkEnsemble;
  const secretOf = (m: ZkMember) => fs.readFileSync(path.join(path.dirname(m.dir!), `node-${m.id}`, 'session-secret'), 'latin1');
  before(async () => {
    zk = await startZkElectCluster({ nodes: 3 });
  });
  after(() => zk?.stop());

  test('every member holds the leader\'s secret; a session made on the leader reconnects to another member after the leader is killed', async () => {
    const leader = await eventually(() => zk.leader(), 20_000, 'a leader');
    await eventually(() => new Set(zk.members.map(secretOf)).size === 1, 10_000, 'all members to hold one secret');
    const owner = await RawClient.connect(leader.address, { timeoutMs: 20_000, autoPing: false });
    await owner.create('/owned', Buffer.alloc(0), CreateMode.EPHEMERAL);
    const other = zk.members.find((m) => m !== leader)!;
    // A follower still syncing closes connections during the handshake; retry until it answers.
    const forged = await eventually(async () => reattach(other.address, owner, forgedPassword(owner.sessionId)).catch(() => undefined), 20_000, 'a follower to answer the forged reconnect');
    assert.equal(forged.expired, true, 'a forged password was accepted by a follower');
    await forged.close().catch(() => undefined);

    await leader.kill('SIGKILL');
    await owner.closedPromise;
    const moved = await eventually(async () => {
      const c = await reattach(other.address, owner, owner.passwd).catch(() => undefined); // refused while no leader is synced
      return c;
    }, 20_000, 'the session to reattach on another member');
    try {
      assert.equal(moved.expired, false, 'the session was refused after failover');
      const r = await moved.exists('/owned');
      assert.equal(r.body?.stat.ephemeralOwner, owner.sessionId, 'the session\'s ephemeral is gone');
    } finally {
      await moved.close();
    }
  });
});
