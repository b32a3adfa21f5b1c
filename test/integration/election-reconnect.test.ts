/**
 * A follower cut off and reconnected with the same session, against Apache ZooKeeper and our
 * server (standalone and 3 nodes), built from real parts: the follower's connection is cut by
 * a TCP proxy that also refuses reconnects for a while.
 *
 * 1. The leader resigns while its follower is cut off: after the reconnect the follower is
 *    elected, with the same session (the C client re-registers its predecessor watch and the
 *    server reports the deletion; the election also re-checks after any disconnect).
 * 2. The ownership check before declaring (the two-leaders bug Curator fixed in CURATOR-696),
 *    which now travels in one batch with the children read: while the follower is cut off,
 *    its node is replaced by one with the same name owned by another session and the leader
 *    resigns, so after the reconnect the listing puts "its" name first and only the ownership
 *    read tells it the node is not its own. It must report the node lost before anything else,
 *    and lead only later, with a node its own session created. Mutant
 *    `declare-without-ownership-check` (test/sim/mutant-list.ts) is caught here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LeaderElection } from '../../src/election/election.js';
import { joinPath } from '../../src/election/names.js';
import { ZkSession } from '../../src/election/session.js';
import { sleep } from '../../src/launcher/cli-process.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { ELECTION_EVENTS, Recorder } from '../support/recorder.js';
import { ZkTcpProxy } from '../support/tcp-proxy.js';
import { TOPOLOGIES, uniquePath } from '../support/zk.js';

for (const topology of TOPOLOGIES) {
  describe(`election reconnects against ${topology.name}`, () => {
    let zk: ZkEnsemble;
    let admin: ZkSession;
    before(async () => {
      zk = await topology.start({ controllable: true });
      admin = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
    });
    after(async () => {
      await admin?.close();
      await zk?.stop();
    });

    test('the leader resigns while its follower is cut off: after the reconnect the follower re-checks and is elected', async () => {
      const path = uniquePath('recheck');
      const proxy = await ZkTcpProxy.start({ host: '127.0.0.1', port: zk.members[0]!.clientPort });
      const sa = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
      const sb = await ZkSession.connect({ connect: proxy.address, sessionTimeoutMs: 10_000 });
      const a = new LeaderElection(sa, { path, id: 'a' });
      const b = new LeaderElection(sb, { path, id: 'b' });
      const rec = new Recorder(b, ELECTION_EVENTS, 'b');
      try {
        await a.join();
        await a.waitForLeadership({ timeoutMs: 10_000 });
        await b.join();
        await rec.waitFor('following', 10_000);
        const session = sb.sessionId;
        proxy.refuse(true);
        proxy.cutAll();
        const t0 = Date.now();
        await rec.waitFor('suspended', 10_000, t0);
        await a.close(); // b cannot hear the deletion
        await sleep(500);
        proxy.refuse(false);
        await rec.waitFor('elected', 15_000, t0);
        assert.equal(sb.sessionId, session, 'the same session throughout');
        assert.deepEqual(rec.named('lost', t0), [], 'b kept its node');
      } finally {
        await b.close().catch(() => undefined);
        await a.close().catch(() => undefined);
        await sb.close();
        await sa.close();
        await proxy.close();
      }
    });

    test('a first-in-line node owned by another session is not ours: it is reported lost before b may lead', async () => {
      const path = uniquePath('owner');
      const proxy = await ZkTcpProxy.start({ host: '127.0.0.1', port: zk.members[0]!.clientPort });
      const sa = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
      const sb = await ZkSession.connect({ connect: proxy.address, sessionTimeoutMs: 10_000 });
      const a = new LeaderElection(sa, { path, id: 'a' });
      const b = new LeaderElection(sb, { path, id: 'b' });
      const rec = new Recorder(b, ELECTION_EVENTS, 'b');
      try {
        await a.join();
        await a.waitForLeadership({ timeoutMs: 10_000 });
        await b.join();
        await rec.waitFor('following', 10_000);
        const nodeB = joinPath(path, b.nodeName!);

        // b hears nothing from here on, and cannot reconnect yet.
        proxy.refuse(true);
        proxy.cutAll();
        const t0 = Date.now();
        await admin.remove(nodeB);
        await admin.create(nodeB, Buffer.from('b'), 'ephemeral'); // same name, another owner
        await a.close(); // the leader resigns: "b's" name is now first
        await sleep(500);
        proxy.refuse(false); // b reconnects with its session, well within its 10 s timeout

        // b must learn that the first node is not its own before anything else: it reports the
        // node lost, then (that node carries b's uuid but another owner: an orphan it deletes)
        // queues with a node of its own, and only then may it lead.
        await rec.waitFor('elected', 30_000, t0);
        const story = rec.since(t0).filter((r) => (r.event === 'lost' || r.event === 'elected')).map((r) => r.event);
        assert.deepEqual(story.slice(0, 2), ['lost', 'elected'], `b's events since the cut: ${story.join(', ')}`);
        assert.equal((rec.named('lost', t0)[0]!.args[0] as { reason: string }).reason, 'node-deleted');
        assert.notEqual(joinPath(path, b.nodeName!), nodeB, 'b leads with a node of its own');
        const owner = await admin.exists(joinPath(path, b.nodeName!));
        assert.equal(owner?.ephemeralOwner, sb.sessionId, 'b leads with a node its own session owns');
        assert.equal(sb.sessionId, b.session.sessionId);
      } finally {
        await b.close().catch(() => undefined);
        await a.close().catch(() => undefined);
        await sb.close();
        await sa.close();
        await proxy.close();
      }
    });
  });
}
