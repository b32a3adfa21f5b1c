/** The library API against real ZooKeeper: waiting, running as leader, observing, sharing a session. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LeaderElection } from '../../src/election/election.js';
import { LeadershipLostError, LeadershipWaitError } from '../../src/election/errors.js';
import { joinPath } from '../../src/election/names.js';
import { LeaderObserver } from '../../src/election/observer.js';
import { ZkSession } from '../../src/election/session.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { eventually } from '../../src/launcher/cli-process.js';
import { ELECTION_EVENTS, Recorder } from '../support/recorder.js';
import { TOPOLOGIES, uniquePath } from '../support/zk.js';

for (const topology of TOPOLOGIES) {
  describe(`election API against ${topology.name}`, () => {
    let zk: ZkEnsemble;
    const sessions: ZkSession[] = [];
    const connect = async () => {
      const s = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000 });
      sessions.push(s);
      return s;
    };

    before(async () => {
      zk = await topology.start({});
    });
    after(async () => {
      for (const s of sessions) await s.close();
      await zk?.stop();
    });

    test('waitForLeadership resolves on election and rejects on timeout, abort and close', async () => {
      const path = uniquePath('wait');
      const first = new LeaderElection(await connect(), { path, id: 'first' });
      await first.join();
      const info = await first.waitForLeadership({ timeoutMs: 5000 });
      assert.equal(info.id, 'first');
      assert.equal(typeof info.token, 'bigint');

      const second = new LeaderElection(await connect(), { path, id: 'second' });
      await second.join();
      await assert.rejects(second.waitForLeadership({ timeoutMs: 200 }), LeadershipWaitError);
      const ac = new AbortController();
      const aborted = second.waitForLeadership({ signal: ac.signal });
      ac.abort();
      await assert.rejects(aborted, LeadershipWaitError);

      const pending = second.waitForLeadership({ timeoutMs: 10_000 });
      await first.resign();
      const next = await pending;
      assert.equal(next.id, 'second');
      assert.ok(next.token > info.token, 'the fencing token strictly increases');
      const third = new LeaderElection(await connect(), { path, id: 'third' });
      await third.join();
      const closed = assert.rejects(third.waitForLeadership(), LeadershipWaitError);
      await third.close();
      await closed;
      await third.close(); // idempotent
      await second.close();
      await first.close();
    });

    test('runAsLeader aborts its signal the moment leadership is lost', async () => {
      const path = uniquePath('run-as-leader');
      const admin = await connect();
      const election = new LeaderElection(await connect(), { path, id: 'worker', rejoin: false });
      await election.join();
      let ticks = 0;
      const result = election.runAsLeader(async (signal, leader) => {
        assert.equal(leader.id, 'worker');
        while (!signal.aborted) {
          ticks++;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw signal.reason;
      });
      await eventually(() => ticks > 3, 5000, 'the leader function to run');
      // Attach the rejection check before deleting the node: the watch can fire (and `result`
      // reject) before remove() resolves, and an unobserved rejection fails the run.
      const rejected = assert.rejects(result, LeadershipLostError);
      await admin.remove(joinPath(path, election.nodeName!));
      await rejected;
      assert.equal(election.role, 'idle', 'rejoin: false keeps it out after the loss');
      await election.close();
    });

    test('resign with requeue moves to the back; the observer follows every change', async () => {
      const path = uniquePath('observe');
      const watcher = new LeaderObserver(await connect(), path);
      const leaders: Array<string | undefined> = [];
      watcher.on('leader', (l) => leaders.push(l?.id));
      await watcher.start();
      const a = new LeaderElection(await connect(), { path, id: 'a' });
      const b = new LeaderElection(await connect(), { path, id: 'b' });
      await a.join();
      await b.join();
      await eventually(() => watcher.leader?.id === 'a' && watcher.candidates.length === 2, 5000, 'observer to see a lead');
      await a.resign({ requeue: true });
      await eventually(() => watcher.leader?.id === 'b', 5000, 'observer to see b lead');
      assert.deepEqual((await b.candidates()).map((c) => c.id), ['b', 'a']);
      assert.equal((await a.leader())?.id, 'b');
      await a.close();
      await b.close();
      await eventually(() => watcher.candidates.length === 0, 5000, 'observer to see nobody');
      assert.deepEqual(leaders, [undefined, 'a', 'b', undefined].slice(leaders[0] === undefined ? 0 : 1));
      await watcher.close();
    });

    test('several elections share one session', async () => {
      const shared = await connect();
      const other = await connect();
      const paths = [uniquePath('shared-1'), uniquePath('shared-2'), uniquePath('shared-3')];
      const mine = paths.map((path) => new LeaderElection(shared, { path, id: 'shared' }));
      const recs = mine.map((e, i) => new Recorder(e, ELECTION_EVENTS, `shared-${i}`));
      // Another candidate leads the second election first.
      const rival = new LeaderElection(other, { path: paths[1]!, id: 'rival' });
      await rival.join();
      for (const e of mine) await e.join();
      assert.ok(mine[0]!.isLeader && !mine[1]!.isLeader && mine[2]!.isLeader);
      await rival.close();
      await recs[1]!.waitFor('elected', 5000);
      for (const e of mine) assert.equal(e.currentLeader!.sessionId, shared.sessionId);
      for (const e of mine) await e.close();
    });
  });
}
