/**
 * A minority partition of a real 3-process zk-elect cluster: every peer link goes through
 * its own relay (one per direction and port), so cutting the relays to and from one node
 * isolates it. The isolated leader must stop leading and commit nothing; the majority
 * elects a leader and keeps committing; after healing, the isolated node catches up.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ZkSession } from '../../src/election/session.js';
import { CLI, eventually } from '../../src/launcher/cli-process.js';
import { allocatePorts } from '../../src/launcher/ports.js';
import { LocalEnsemble, LocalMember } from '../../src/launcher/local-ensemble.js';
import { TcpRelay } from '../support/tcp-relay.js';

const relays: TcpRelay[] = [];
let ensemble: LocalEnsemble | undefined;
after(async () => {
  await ensemble?.stop();
  await Promise.all(relays.map((r) => r.close()));
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
  const ports = await allocatePorts(3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-partition-'));
  // relay[i][j]: node i's links to node j (quorum and election).
  const relay = new Map<string, { quorum: TcpRelay; election: TcpRelay }>();
  for (const a of ports) {
    for (const b of ports) {
      if (a.id === b.id) continue;
      const pair = { quorum: await TcpRelay.start({ host: '127.0.0.1', port: b.quorum }), election: await TcpRelay.start({ host: '127.0.0.1', port: b.election }) };
      relays.push(pair.quorum, pair.election);
      relay.set(`${a.id}>${b.id}`, pair);
    }
  }
  const members = ports.map((me) => {
    const servers = ports.map((p) => {
      const r = relay.get(`${me.id}>${p.id}`);
      return { id: p.id, host: '127.0.0.1', clientPort: p.client, quorumPort: r ? r.quorum.port : p.quorum, electionPort: r ? r.election.port : p.election };
    });
    const memberDir = path.join(dir, `member-${me.id}`);
    fs.mkdirSync(memberDir, { recursive: true });
    const config = path.join(memberDir, 'cluster.json');
    fs.writeFileSync(config, JSON.stringify({ tickMs: 200, initLimit: 10, syncLimit: 5, dataDir: dir, servers }));
    const args = [CLI, 'server', '--id', String(me.id), '--config', config, '--min-session-timeout', '1000', '--log-level', 'info'];
    return new LocalMember(me.id, me.client, memberDir, process.execPath, args, 30_000);
  });
  ensemble = new LocalEnsemble(members, dir);
  for (const m of members) m.spawn();
  await ensemble.waitReady(30_000, 'zk-elect cluster behind relays');

  const all = members.map((m) => m.address).join(',');
  const writer = await ZkSession.connect({ connect: all, sessionTimeoutMs: 10_000 });
  await writer.create('/p', Buffer.alloc(0), 'persistent');
  for (let i = 0; i < 20; i++) await writer.create(`/p/before-${i}`, Buffer.alloc(0), 'persistent');
  await writer.close();

  const old = await eventually(() => ensemble!.leader(), 20_000, 'a leader');
  const isolate = (on: boolean) => {
    for (const [key, pair] of relay) {
      const [a, b] = key.split('>').map(Number);
      if (a === old.id || b === old.id) {
        pair.quorum.cut(on);
        pair.election.cut(on);
      }
    }
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
