/**
 * Named regression scenarios, broadcast and liveness (see scenarios.ts for the synchronization
 * ones). Each fails if the core had the bug its comment describes.
 */
import assert from 'node:assert/strict';
import { formatZxid, zxidCounter } from '../../src/server/zab/index.js';
import { epochOf, finish, newSim, others, proposeAt, record, roles, settle, write, writes } from './scenario-kit.js';
import type { Scenario } from './scenarios.js';

export const BROADCAST_SCENARIOS: readonly Scenario[] = [
  {
    // zk-elect issue 8, defect 3: the leader's freshness of each follower (syncLimit) and its own
    // quorum check (another syncLimit) added up, so a leader cut off from its quorum served for
    // ~2 x syncLimit ticks, well after the majority had established a successor. Checker (6)
    // fails the run if any leader's lease outlives the establishment of the next one.
    name: 'defect-3: a leader cut off from its quorum stops serving before a successor is established',
    run: () => {
      for (const seed of [31, 32, 33, 34, 35]) {
        const sim = newSim({ seed, syncLimit: 5, initLimit: 10 });
        const old = settle(sim);
        writes(sim, `w${seed}-`, 3);
        sim.runTicks(sim.rng.int(0, 3)); // cut at any phase of the ping cycle, no write in flight
        sim.net.partition([[old], others(sim, old)]);
        assert.ok(sim.runTicks(40, () => sim.leader() !== undefined && sim.leader() !== old), roles(sim));
        assert.ok(sim.server(old).leaderLeaseUntil < 0 || sim.server(old).leaderLeaseUntil <= sim.now, 'the old leader stopped');
        finish(sim);
      }
    },
  },
  {
    // ZOOKEEPER-4394 "Learner.syncWithLeader got NullPointerException": a follower receives
    // DIFF, PROPOSAL p1, NEWLEADER, COMMIT p1, PROPOSAL p2 ... UPTODATE; proposals between NEWLEADER
    // and UPTODATE must be logged and committed in order, exactly once, and be acked after the
    // NEWLEADER ACK so they count.
    name: 'ZOOKEEPER-4394: proposals and commits between NEWLEADER and UPTODATE are logged and applied in order',
    run: () => {
      const sim = newSim({ seed: 19, syncLimit: 15, initLimit: 20 });
      const l = settle(sim);
      const [b, c] = others(sim, l) as [number, number];
      writes(sim, 'w', 2);
      sim.crash(c);
      sim.setHoldFsync(l, true); // p1 stays uncommitted: only b has acked it
      proposeAt(sim, l, 'p1');
      sim.runTicks(2);
      sim.setHoldFsync(c, true);
      const nl = record(sim, ['newleader', 'ack']);
      sim.restart(c);
      assert.ok(sim.runTicks(40, () => nl.some((r) => r.to === c && r.msg.type === 'newleader')), roles(sim));
      proposeAt(sim, l, 'p2'); // between NEWLEADER and UPTODATE
      sim.runTicks(2);
      sim.setHoldFsync(l, false);
      assert.ok(sim.runTicks(20, () => sim.checker.acked.has('p2')), 'p1, p2 commit with l + b');
      sim.setHoldFsync(c, false);
      assert.ok(sim.runTicks(20, () => sim.server(c).role.synced), roles(sim));
      const cAcks = nl.filter((r) => r.from === c && r.msg.type === 'ack').map((r) => r.msg as { newLeader: boolean });
      assert.equal(cAcks[0]?.newLeader, true, 'the NEWLEADER ACK precedes proposal ACKs');
      // Now only c can make a quorum with l: its acks after NEWLEADER must count.
      sim.net.partition([[b], [l, c]]);
      write(sim, 'p3');
      finish(sim);
    },
  },
  {
    // ZOOKEEPER-4685 "Unnecessary system unavailability due to Leader shutdown when follower sent
    // ACK of PROPOSAL before sending ACK of NEWLEADER in log recovery": the leader must ignore such
    // an ACK, not shut down. Here the network delivers c's proposal ACK before its NEWLEADER ACK.
    name: 'ZOOKEEPER-4685: a proposal ACK overtaking the NEWLEADER ACK does not bring the leader down',
    run: () => {
      const sim = newSim({ seed: 20, syncLimit: 15, initLimit: 20 });
      const l = settle(sim);
      const [b, c] = others(sim, l) as [number, number];
      const epoch = epochOf(sim, l);
      sim.crash(c);
      sim.setHoldFsync(l, true);
      proposeAt(sim, l, 'p1');
      sim.runTicks(2);
      sim.net.filter = (from, to, m) => (from === c && to === l && m.type === 'ack' && m.newLeader ? 'hold' : 'deliver');
      const acks = record(sim, ['ack']);
      sim.restart(c);
      assert.ok(sim.runTicks(40, () => acks.some((a) => a.from === c && (a.msg as { newLeader: boolean }).newLeader)), roles(sim));
      proposeAt(sim, l, 'p2');
      assert.ok(sim.runTicks(20, () => acks.some((a) => a.from === c && !(a.msg as { newLeader: boolean }).newLeader)), 'c acks p2');
      sim.runTicks(2);
      assert.equal(sim.server(l).role.role, 'leading');
      assert.equal(epochOf(sim, l), epoch);
      sim.net.filter = null;
      sim.releaseHeld();
      sim.setHoldFsync(l, false);
      sim.runTicks(5);
      assert.equal(sim.leader(), l, 'same leader, same epoch');
      assert.equal(epochOf(sim, l), epoch);
      sim.net.partition([[b], [l, c]]);
      write(sim, 'p3');
      finish(sim);
    },
  },
  {
    // ZOOKEEPER-4785 "Txn loss due to race condition in Learner.syncWithLeader() during DIFF sync":
    // uncommitted proposals received in the DIFF were written to disk asynchronously after the
    // NEWLEADER ACK; the leader committed them counting that ACK, and a follower bounce lost them.
    name: 'ZOOKEEPER-4785: uncommitted proposals in a DIFF are durable before the ACK that commits them',
    run: () => {
      const sim = newSim({ seed: 21, syncLimit: 20, initLimit: 30 });
      const l = settle(sim);
      const [b, c] = others(sim, l) as [number, number];
      writes(sim, 'w', 2);
      sim.crash(c);
      // l and b cannot talk; c can reach both (so it can learn who leads and sync with l).
      sim.net.blockLink(l, b);
      sim.net.blockLink(b, l);
      proposeAt(sim, l, 'p1');
      proposeAt(sim, l, 'p2');
      sim.setHoldFsync(c, true);
      const nl = record(sim, ['newleader']);
      sim.restart(c);
      assert.ok(sim.runTicks(15, () => nl.some((r) => r.to === c)), `c syncs with l: ${roles(sim)}`);
      sim.runTicks(3);
      assert.ok(!sim.checker.acked.has('p1') && !sim.checker.acked.has('p2'), 'not acknowledged: only l holds them durably');
      sim.crash(l);
      sim.crash(c);
      sim.restart(c);
      finish(sim, [l]);
      void b;
    },
  },
  {
    // ZOOKEEPER-1277 "servers stop serving when lower 32bits of zxid roll over": the leader must
    // force a new epoch instead of letting the counter wrap into the epoch bits.
    name: 'ZOOKEEPER-1277: zxid counter exhaustion forces a new epoch, nothing is lost',
    run: () => {
      const sim = newSim({ seed: 22, zxidCounterLimit: 5 });
      settle(sim);
      for (let i = 0; i < 14; i++) {
        const p = `r${i}`;
        let tries = 0;
        while (!sim.checker.acked.has(p)) {
          assert.ok(tries++ < 20, `write ${p} never acknowledged: ${roles(sim)}`);
          sim.submit(p);
          sim.runTicks(10, () => sim.checker.acked.has(p));
          sim.runTicks(10, () => sim.leader() !== undefined);
        }
      }
      assert.ok(sim.checker.leaders.size >= 4, `epochs used: ${sim.checker.leaders.size}`);
      assert.ok(sim.checker.chain.every((e) => zxidCounter(e.zxid) < 5), `counters: ${sim.checker.chain.map((e) => formatZxid(e.zxid))}`);
      finish(sim);
    },
  },
  {
    // A leader that is paused (SIGSTOP) while the others elect a new one must, when it wakes up,
    // commit nothing new: it learns from STALE replies or its own quorum check that it lost the
    // quorum, and rejoins as a follower, its orphan proposals truncated.
    name: 'paused leader wakes up, commits nothing new, and rejoins as a follower',
    run: () => {
      const sim = newSim({ seed: 23 });
      const old = settle(sim);
      const epoch = epochOf(sim, old);
      writes(sim, 'w', 3);
      sim.pause(old);
      sim.runTicks(30);
      const next = settle(sim, 100);
      assert.notEqual(next, old);
      writes(sim, 'x', 3);
      const commitsByOld: string[] = [];
      sim.onAction = (id, a) => {
        if (id === old && a.type === 'commit') commitsByOld.push(...a.entries.map((e) => e.payload.toString()));
      };
      sim.resume(old);
      proposeAt(sim, old, 'ghost'); // it still believes it leads epoch `epoch`
      sim.runTicks(30);
      assert.ok(!commitsByOld.includes('ghost') && !sim.checker.acked.has('ghost'));
      assert.ok(sim.server(old).role.role !== 'leading' || epochOf(sim, old) > epoch, roles(sim));
      settle(sim);
      assert.equal(sim.server(old).role.role, 'following');
      finish(sim);
    },
  },
  {
    // Whole-ensemble sanity for 7 servers: minority crash, majority keeps committing; a
    // restarted server joins through the LEADING/FOLLOWING answers without a new election.
    name: '7 servers: a restarted server joins the established leader without a new epoch',
    run: () => {
      const sim = newSim({ n: 7, seed: 24 });
      const l = settle(sim);
      const epoch = epochOf(sim, l);
      const [a, b, c] = others(sim, l) as [number, number, number];
      for (const x of [a, b, c]) sim.crash(x);
      writes(sim, 'w', 5);
      for (const x of [a, b, c]) sim.restart(x);
      settle(sim);
      assert.equal(sim.leader(), l);
      assert.equal(epochOf(sim, l), epoch, 'no new epoch for joiners');
      finish(sim);
    },
  },
];
