/**
 * A minority partition of a real 3-process zk-elect cluster: every peer link goes through
 * its own relay (one per direction and port), so cutting the relays to and from one node
 * isolates it. The isolated leader must stop leading and commit nothing; the majority
 * elects a leader and keeps committing; after healing, the isolated node catches up.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ZkSession } from '../../src/election/session.js';
import { eventually } from '../../src/launcher/cli-process.js';
import { startRelayedCluster, type RelayedCluster } from '../support/relayed-cluster.js';

let cluster: RelayedCluster | undefined;
after(async () => {
  await cluster?.close();
});

async function children(address: string, p: string): Promise<string[]> {
  const s = await ZkSession.connect({ connect: address, sessionTimeoutMs: 4000, connectTimeoutMs: 5000 });
  try {
    return (await s.getChildren(p)).sort();
  } finally {
    await s.close();
  }
}

test('an isolated leader stops leading and commits nothing; the majority goes on; healing catches it up', async (t) => {
  cluster = await startRelayedCluster({ prefix: 'zk-elect-partition', extraArgs: ['--min-session-timeout', '1000'], logLevel: 'info' });
  const { ensemble, members } = cluster;

  const all = members.map((m) => m.address).join(',');
  const writer = await ZkSession.connect({ connect: all, sessionTimeoutMs: 10_000 });
  await writer.create('/p', Buffer.alloc(0), 'persistent');
  for (let i = 0; i < 20; i++) await writer.create(`/p/before-${i}`, Buffer.alloc(0), 'persistent');
  await writer.close();

  const old = await eventually(() => ensemble.leader(), 20_000, 'a leader');
  const isolate = (on: boolean) => {
    for (const r of cluster!.linksOf(old.id)) r.cut(on);
  };
  const t0 = Date.now();
  isolate(true);
  const majority = members.filter((m) => m.id !== old.id);
  const fresh = await eventually(async () => {
    for (const m of majority) if ((await m.mode()) === 'leader') return m;
    return undefined;
  }, 20_000, 'the majority to elect a leader');
  await eventually(async () => (await old.mode()) !== 'leader', 20_000, 'the isolated leader to step down');
  t.diagnostic(`isolated leader ${old.id}; server ${fresh.id} leads the majority after ${Date.now() - t0} ms`);

  // The isolated node serves nobody: a client aimed only at it cannot even open a session
  // (that would be a write it cannot commit).
  await assert.rejects(ZkSession.connect({ connect: old.address, sessionTimeoutMs: 2000, connectTimeoutMs: 1500 }));

  const majorityWriter = await ZkSession.connect({ connect: majority.map((m) => m.address).join(','), sessionTimeoutMs: 10_000 });
  for (let i = 0; i < 20; i++) await majorityWriter.create(`/p/during-${i}`, Buffer.alloc(0), 'persistent');
  await majorityWriter.close();

  isolate(false);
  await eventually(async () => (await old.mode()) === 'follower', 30_000, 'the old leader to rejoin as a follower');
  const expected = [...Array.from({ length: 20 }, (_, i) => `before-${i}`), ...Array.from({ length: 20 }, (_, i) => `during-${i}`)].sort();
  for (const m of members) {
    await eventually(async () => JSON.stringify(await children(m.address, '/p')) === JSON.stringify(expected), 20_000, `server ${m.id} to hold exactly the committed writes`);
  }
});
