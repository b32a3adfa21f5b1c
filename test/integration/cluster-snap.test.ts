/**
 * SNAP as a stream between real processes (issue 9): a follower killed while the cluster takes
 * more writes than the leader's log keeps (snapshots every 100 txns compact it) comes back,
 * is sent the tree in several bounded chunks, and serves all of it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ZkSession } from '../../src/election/session.js';
import { eventually } from '../../src/launcher/cli-process.js';
import { startZkElectCluster } from '../../src/launcher/zk-elect-cluster.js';
import type { ZkEnsemble, ZkMember } from '../../src/launcher/types.js';

const ZNODES = 1200;
const DATA_BYTES = 1000;
/** The leader's default chunk size (zab/node.ts): the tree must not fit in one. */
const CHUNK_BYTES = 256 * 1024;

/** The JSON fields of every `message` line in a member's log. */
function logged(member: ZkMember, message: string): Array<Record<string, unknown>> {
  const text = fs.readFileSync(path.join(member.dir!, 'console.log'), 'utf8');
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    const at = line.indexOf(`: ${message} {`);
    if (at >= 0) out.push(JSON.parse(line.slice(at + message.length + 3)) as Record<string, unknown>);
  }
  return out;
}

describe('zk-elect cluster: SNAP in chunks', () => {
  let zk: ZkEnsemble | undefined;
  after(async () => {
    await zk?.stop();
  });

  test('a restarted follower that missed more than the leader log holds catches up by a chunked SNAP and serves the data', async (t) => {
    zk = await startZkElectCluster({ nodes: 3, serverArgs: ['--snap-count', '100'] });
    const leader = await eventually(() => zk!.leader(), 20_000, 'a leader');
    const follower = zk.members.find((m) => m.id !== leader.id)!;
    await follower.kill('SIGKILL');
    const rest = zk.members.filter((m) => m.id !== follower.id).map((m) => m.address).join(',');
    const writer = await ZkSession.connect({ connect: rest, sessionTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
    try {
      await writer.create('/snap', Buffer.alloc(0), 'persistent');
      for (let i = 0; i < ZNODES; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, k) => writer.create(`/snap/n${i + k}`, Buffer.alloc(DATA_BYTES, (i + k) % 251), 'persistent')));
      }
    } finally {
      await writer.close();
    }
    await eventually(() => logged(leader, 'snapshot written').length >= 3, 20_000, 'the leader to snapshot (and compact its log) past the follower');
    const t0 = Date.now();
    await follower.start();
    await eventually(async () => (await follower.mode()) === 'follower', 20_000, 'the follower to sync');
    const received = await eventually(() => logged(follower, 'snap received').at(-1), 10_000, 'a "snap received" line on the follower');
    t.diagnostic(`snap received ${JSON.stringify(received)}; following ${Date.now() - t0} ms after the restart`);
    assert.ok(Number(received['bytes']) > ZNODES * DATA_BYTES, `the SNAP held ${String(received['bytes'])} bytes`);
    assert.ok(Number(received['chunks']) >= Math.ceil(Number(received['bytes']) / CHUNK_BYTES) && Number(received['chunks']) >= 4, `in ${String(received['chunks'])} chunks`);
    assert.equal(typeof received['ms'], 'number');
    const sent = logged(leader, 'snap sent').filter((s) => s['peer'] === follower.id);
    assert.ok(sent.length >= 1 && sent.at(-1)!['chunks'] === received['chunks'], `the leader logged ${JSON.stringify(sent)}`);
    // The follower answers from the tree it was sent.
    const reader = await ZkSession.connect({ connect: follower.address, sessionTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
    try {
      const children = await reader.getChildren('/snap');
      assert.equal(children.length, ZNODES);
      for (const i of [0, 1, 617, ZNODES - 1]) {
        const { data } = await reader.getData(`/snap/n${i}`);
        assert.deepEqual(data, Buffer.alloc(DATA_BYTES, i % 251), `/snap/n${i}`);
      }
    } finally {
      await reader.close();
    }
  });
});
