/**
 * No thundering herd: with 50 candidates, every graceful handoff wakes exactly one candidate
 * besides the one resigning, and that is its successor. Counted on both sides, against Apache
 * ZooKeeper and our server (standalone and 3 nodes):
 * - client side: every watch notification each candidate's real C client delivers;
 * - server side: the watch table (`wchp`) before the handoff lists only the successor (besides
 *   the leader's own session) on the leader's node, and nobody holds a child watch (mntr's
 *   watch count equals wchs's data-watch total); where the server publishes them (Apache 3.8),
 *   mntr's node_deleted_watch_count / node_children_watch_count summaries count the
 *   notifications each deletion actually fired.
 * bench:herd runs the same checks at 1,000 candidates (npm run bench:herd).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LeaderElection } from '../../src/election/election.js';
import { joinPath, orderCandidates } from '../../src/election/names.js';
import { ZkSession } from '../../src/election/session.js';
import { eventually, sleep } from '../../src/launcher/cli-process.js';
import { fourLetterWord } from '../../src/launcher/four-letter-word.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { countingTransport } from '../support/counting-transport.js';
import { TOPOLOGIES, uniquePath, watchesByPath } from '../support/zk.js';

const CANDIDATES = 50;
const HANDOFFS = 5;

async function mntr(zk: ZkEnsemble): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of zk.members) {
    if (!m.running) continue;
    for (const line of (await fourLetterWord(m.address, 'mntr')).split('\n')) {
      const [k, v] = line.split('\t');
      if (k && v !== undefined && /^-?[\d.]+$/.test(v.trim())) out.set(k, (out.get(k) ?? 0) + Number(v));
    }
  }
  return out;
}

async function childWatches(zk: ZkEnsemble): Promise<number> {
  let dataWatches = 0;
  for (const m of zk.members) {
    if (!m.running) continue;
    const total = /Total watches:\s*(\d+)/.exec(await fourLetterWord(m.address, 'wchs'))?.[1];
    assert.ok(total !== undefined, `wchs from ${m.address} has a total`);
    dataWatches += Number(total);
  }
  return (await mntr(zk)).get('zk_watch_count')! - dataWatches;
}

for (const topology of TOPOLOGIES) {
  describe(`election herd against ${topology.name}`, () => {
    let zk: ZkEnsemble;
    let admin: ZkSession;
    before(async () => {
      zk = await topology.start({});
      admin = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
    });
    after(async () => {
      await admin?.close();
      await zk?.stop();
    });

    test(`${CANDIDATES} candidates, ${HANDOFFS} graceful handoffs: each wakes exactly one candidate, the successor, on both sides`, async () => {
      const path = uniquePath('herd');
      const wakes: Array<{ id: string; path: string }> = [];
      const cands: Array<{ id: string; session: ZkSession; election: LeaderElection }> = [];
      const lost: string[] = [];
      try {
        for (let i = 0; i < CANDIDATES; i++) {
          const id = `c${i}`;
          const session = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000, transport: countingTransport((e) => wakes.push({ id, path: e.path })) });
          const election = new LeaderElection(session, { path, id });
          election.on('lost', (info) => lost.push(`${id}: ${info.reason}`));
          cands.push({ id, session, election });
          await election.join();
        }
        await eventually(() => cands[0]!.election.isLeader, 10_000, 'c0 to lead');
        const byId = new Map(cands.map((c) => [c.id, c]));
        const hasFiredCounts = (await mntr(zk)).has('zk_sum_node_deleted_watch_count');

        for (let h = 0; h < HANDOFFS; h++) {
          const ordered = orderCandidates(await admin.getChildren(path));
          assert.equal(ordered.length, CANDIDATES);
          const leaderNode = joinPath(path, ordered[0]!.name);
          const leader = byId.get((await admin.getData(leaderNode)).data.toString())!;
          const successor = byId.get((await admin.getData(joinPath(path, ordered[1]!.name))).data.toString())!;
          assert.ok(leader.election.isLeader, `handoff ${h + 1}: ${leader.id} leads`);

          const watches = await watchesByPath(zk);
          assert.equal(watches.get(path), undefined, 'nobody watches the election path itself');
          assert.equal(await childWatches(zk), 0, 'nobody holds a child watch');
          const watchers = [...(watches.get(leaderNode) ?? [])].filter((s) => s !== leader.session.sessionId);
          assert.deepEqual(watchers, [successor.session.sessionId], `handoff ${h + 1}: the server has only ${successor.id} watching the leader's node`);
          const firedBefore = hasFiredCounts ? await mntr(zk) : undefined;

          const mark = wakes.length;
          const elected = new Promise<void>((resolve) => successor.election.once('elected', () => resolve()));
          await leader.election.resign({ requeue: true });
          await elected;
          await sleep(300); // a late notification still counts against this handoff
          const woken = [...new Set(wakes.slice(mark).filter((w) => w.id !== leader.id).map((w) => w.id))];
          assert.deepEqual(woken, [successor.id], `handoff ${h + 1}: woken besides the resigner`);
          if (firedBefore) {
            const firedAfter = await mntr(zk);
            const fired = (k: string) => firedAfter.get(k)! - firedBefore.get(k)!;
            // One deletion, two notifications: the successor's predecessor watch and the resigner's own.
            assert.equal(fired('zk_sum_node_deleted_watch_count'), 2, `handoff ${h + 1}: notifications the deletion fired`);
            assert.equal(fired('zk_sum_node_children_watch_count'), 0, `handoff ${h + 1}: child notifications`);
          }
        }
        assert.deepEqual(lost, []);
      } finally {
        for (const c of cands) {
          await c.election.close().catch(() => undefined);
          await c.session.close();
        }
      }
    });
  });
}
