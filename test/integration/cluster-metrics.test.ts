/**
 * A 3-process zk-elect cluster's figures about itself, read the three ways an operator reads
 * them (the `mntr` four-letter word, /commands/mntr and /metrics) plus `lead`: the leader
 * counts its learners and synced followers from the consensus core, a kill -9 of a follower
 * shows as one fewer, its restart as one more again. Nothing here is a constant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../../src/launcher/cli-process.js';
import { fourLetterWord } from '../../src/launcher/four-letter-word.js';
import type { ZkMember } from '../../src/launcher/types.js';
import { startZkElectCluster, type ZkElectCluster } from '../../src/launcher/zk-elect-cluster.js';

/** mntr as a map, from the four-letter word (`zk_` keys, text values). */
async function mntr4lw(m: ZkMember): Promise<Map<string, string>> {
  const text = await fourLetterWord(m.address, 'mntr', 3000);
  return new Map(text.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, url);
  return (await res.json()) as Record<string, unknown>;
}

/** Unlabelled samples of /metrics. */
async function metrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The leader's learner figures, the same in all three views (or the first view that differs throws). */
async function leaderFigures(zk: ZkElectCluster, leader: ZkMember): Promise<{ learners: number; synced: number; pending: number; members: number }> {
  const admin = zk.adminUrls.get(leader.id)!;
  const text = await mntr4lw(leader);
  const json = await getJson(`${admin}commands/mntr`);
  const prom = await metrics(admin);
  const fromText = { learners: Number(text.get('zk_learners')), synced: Number(text.get('zk_synced_followers')), pending: Number(text.get('zk_pending_syncs')), members: Number(text.get('zk_quorum_size')) };
  assert.equal(text.get('zk_server_state'), 'leader');
  assert.deepEqual({ learners: json.learners, synced: json.synced_followers, pending: json.pending_syncs, members: json.quorum_size }, fromText, 'the 4lw and /commands/mntr agree');
  assert.deepEqual({ learners: prom.get('zk_learners'), synced: prom.get('zk_synced_followers'), pending: prom.get('zk_pending_syncs'), members: prom.get('zk_quorum_members') }, fromText, 'the 4lw and /metrics agree');
  assert.equal(text.get('zk_synced_observers'), '0');
  assert.equal(text.get('zk_synced_non_voting_followers'), '0');
  return fromText;
}

describe('figures of a 3-node zk-elect cluster', () => {
  let zk: ZkElectCluster;
  before(async () => {
    zk = await startZkElectCluster({ nodes: 3, controllable: true, withAdmin: true, fourLetterWhitelist: 'mntr' });
  });
  after(() => zk?.stop());

  test('the leader counts its learners; lead names the leader; a killed follower is one fewer, a restarted one is back', { timeout: 120_000 }, async () => {
    const leader = await eventually(() => zk.leader(), 20_000, 'a leader');
    const followers = zk.members.filter((m) => m !== leader);

    // Followers join a moment after the leader is established: wait for both, then compare.
    await eventually(async () => (await leaderFigures(zk, leader)).synced === 2, 15_000, 'two synced followers');
    assert.deepEqual(await leaderFigures(zk, leader), { learners: 2, synced: 2, pending: 0, members: 3 });

    for (const m of zk.members) {
      const lead = await getJson(`${zk.adminUrls.get(m.id)!}commands/lead`);
      assert.deepEqual(
        { is_leader: lead.is_leader, leader_id: lead.leader_id, leader_ip: lead.leader_ip, error: lead.error },
        { is_leader: m === leader, leader_id: leader.id, leader_ip: '127.0.0.1', error: null },
        `lead on server ${m.id}`,
      );
      assert.deepEqual(await getJson(`${zk.adminUrls.get(m.id)!}commands/zabstate`), { voting: true, zabstate: 'broadcast', command: 'zabstate', error: null });
      const prom = await (await fetch(`${zk.adminUrls.get(m.id)!}metrics`)).text();
      assert.match(prom, new RegExp(`^zk_quorum_leader_info\\{leader_id="${leader.id}",leader_address="127\\.0\\.0\\.1"\\} 1$`, 'm'));
      if (m !== leader) {
        const f = await mntr4lw(m);
        assert.equal(f.get('zk_server_state'), 'follower');
        assert.equal(f.get('zk_quorum_size'), '3');
        assert.equal(f.has('zk_learners'), false, 'learner figures only on the leader, as ZooKeeper');
      }
    }

    const victim = followers[0]!;
    await victim.kill('SIGKILL');
    await eventually(async () => (await leaderFigures(zk, leader)).learners === 1, 20_000, 'the leader to count one learner');
    assert.deepEqual(await leaderFigures(zk, leader), { learners: 1, synced: 1, pending: 0, members: 3 });

    await victim.start();
    await eventually(async () => (await leaderFigures(zk, leader)).synced === 2, 30_000, 'the restarted follower synced again');
    assert.deepEqual(await leaderFigures(zk, leader), { learners: 2, synced: 2, pending: 0, members: 3 });
  });
});
