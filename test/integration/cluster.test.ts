/**
 * The zk-elect cluster as separate processes on real sockets: kill -9 of the leader under
 * write load, a whole-cluster restart, a paused (SIGSTOP) leader. Every acknowledged write
 * must survive on every node.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ZkSession } from '../../src/election/session.js';
import type { ZkEnsemble, ZkMember } from '../../src/launcher/types.js';
import { eventually, sleep } from '../../src/launcher/cli-process.js';
import { startZkElectCluster } from '../../src/launcher/zk-elect-cluster.js';

interface Load {
  acked: Set<string>;
  stop(): Promise<void>;
}

/** `writers` clients creating /load/n<i> through the whole connect string until stopped. */
let loads = 0;
async function writeLoad(zk: ZkEnsemble, writers = 8): Promise<Load> {
  const prefix = `r${++loads}-`;
  const session = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
  await session.create('/load', Buffer.alloc(0), 'persistent').catch(() => undefined);
  const acked = new Set<string>();
  let next = 0;
  let running = true;
  const loops = Array.from({ length: writers }, async () => {
    while (running) {
      const i = next++;
      try {
        const name = `${prefix}${String(i).padStart(7, '0')}`;
        await session.create(`/load/${name}`, Buffer.from(`v${i}`), 'persistent');
        acked.add(name);
      } catch {
        await sleep(50); // connection loss during failover: outcome unknown, not acknowledged
      }
    }
  });
  return {
    acked,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await session.close();
    },
  };
}

async function childrenOn(member: ZkMember, path: string): Promise<Set<string>> {
  const s = await ZkSession.connect({ connect: member.address, sessionTimeoutMs: 4000, connectTimeoutMs: 10_000 });
  try {
    return new Set(await s.getChildren(path));
  } finally {
    await s.close();
  }
}

/** Every running member holds every acknowledged write, and they all agree. */
async function assertConverged(zk: ZkEnsemble, acked: Set<string>): Promise<void> {
  const expected = [...acked];
  let views: Array<Set<string>> = [];
  await eventually(
    async () => {
      views = await Promise.all(zk.members.filter((m) => m.running).map((m) => childrenOn(m, '/load')));
      const first = views[0]!;
      return views.every((v) => v.size === first.size && [...v].every((x) => first.has(x)));
    },
    20_000,
    'every member to hold the same children of /load',
  );
  for (const v of views) {
    const missing = expected.filter((x) => !v.has(x));
    assert.deepEqual(missing, [], 'acknowledged writes missing on a member');
  }
}

async function leaderOf(zk: ZkEnsemble): Promise<ZkMember> {
  return eventually(() => zk.leader(), 20_000, 'a leader');
}

for (const nodes of [3, 5] as const) {
  describe(`zk-elect ${nodes}-node cluster`, () => {
    let zk: ZkEnsemble | undefined;
    after(async () => {
      await zk?.stop();
    });

    test('kill -9 of the leader under write load: a new leader serves writes, no acknowledged write is lost', async (t) => {
      zk = await startZkElectCluster({ nodes, controllable: true });
      const load = await writeLoad(zk);
      await eventually(() => load.acked.size > 200, 20_000, 'writes before the crash');
      const old = await leaderOf(zk);
      const before = load.acked.size;
      const t0 = Date.now();
      await old.kill('SIGKILL');
      const fresh = await eventually(async () => {
        const l = await zk!.leader();
        return l && l.id !== old.id ? l : undefined;
      }, 20_000, 'a new leader');
      await eventually(() => load.acked.size > before + 200, 30_000, 'writes after the crash');
      t.diagnostic(`leader ${old.id} killed; leader ${fresh.id} took over; first writes after ${Date.now() - t0} ms or less`);
      await old.start();
      await load.stop();
      await assertConverged(zk, load.acked);
      t.diagnostic(`${load.acked.size} acknowledged writes, all present on all ${nodes} nodes`);
    });

    if (nodes === 3) {
      test('a killed follower catches up; a whole-cluster kill -9 and restart recovers everything', async () => {
        const load = await writeLoad(zk!);
        const leader = await leaderOf(zk!);
        const follower = zk!.members.find((m) => m.id !== leader.id)!;
        await follower.kill('SIGKILL');
        await eventually(() => load.acked.size > 300, 20_000, 'writes with a follower down');
        await follower.start();
        await load.stop();
        await assertConverged(zk!, load.acked);
        await Promise.all(zk!.members.map((m) => m.kill('SIGKILL')));
        // Start them together: no single member can serve until a quorum is back.
        await Promise.all(zk!.members.map((m) => m.start()));
        await leaderOf(zk!);
        await assertConverged(zk!, load.acked);
      });

      test('a paused leader (SIGSTOP) is replaced; after SIGCONT it rejoins as a follower and commits nothing of its own', async () => {
        const load = await writeLoad(zk!);
        await eventually(() => load.acked.size > 100, 20_000, 'writes before the pause');
        const old = await leaderOf(zk!);
        old.pause();
        const before = load.acked.size;
        const fresh = await eventually(async () => {
          for (const m of zk!.members) if (m.id !== old.id && (await m.mode()) === 'leader') return m;
          return undefined;
        }, 20_000, 'a new leader while the old one is paused');
        await eventually(() => load.acked.size > before + 100, 30_000, 'writes while the old leader is paused');
        old.resume();
        await eventually(async () => (await old.mode()) === 'follower', 20_000, 'the old leader to rejoin as a follower');
        assert.notEqual(fresh.id, old.id);
        await load.stop();
        await assertConverged(zk!, load.acked);
      });
    }
  });
}
