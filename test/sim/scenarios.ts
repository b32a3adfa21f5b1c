/**
 * Named regression scenarios, synchronization: each reproduces the situation of a ZooKeeper bug
 * and fails if the core had that bug (checked by injecting each bug into the core). The comment of
 * each says what the bug was. Broadcast/liveness ones are in scenarios-broadcast.ts.
 */
import assert from 'node:assert/strict';
import { epochOf, finish, newSim, others, proposeAt, record, roles, settle, write, writes } from './scenario-kit.js';

export interface Scenario {
  readonly name: string;
  readonly run: () => void;
}

const zxidOf = (sim: ReturnType<typeof newSim>, payload: string): number => {
  const e = sim.checker.chain.find((c) => c.payload.toString('latin1') === payload);
  assert.ok(e, `${payload} not committed`);
  return e.zxid;
};

export const SYNC_SCENARIOS: readonly Scenario[] = [
  {
    // ZOOKEEPER-1156 "Log truncation truncating log too much - can cause data loss": the TRUNC
    // point / truncation went below the last txn the follower shares with the leader, discarding
    // committed txns. Here the old leader holds an uncommitted tail (u*) in the same epoch as the
    // committed w*; the new leader must TRUNC it exactly to the last committed w (not lower, not
    // higher) and DIFF from there.
    name: 'ZOOKEEPER-1156: TRUNC removes exactly the uncommitted tail of the old leader',
    run: () => {
      const sim = newSim({ seed: 11 });
      const old = settle(sim);
      writes(sim, 'w', 5);
      const lastCommitted = zxidOf(sim, 'w4');
      sim.net.partition([[old], others(sim, old)]);
      for (const u of ['u0', 'u1', 'u2']) proposeAt(sim, old, u);
      sim.runTicks(20);
      const next = sim.leader();
      assert.ok(next !== undefined && next !== old, `a new leader in the majority: ${roles(sim)}`);
      writes(sim, 'x', 3);
      const truncs = record(sim, ['trunc', 'diff', 'snap']);
      sim.net.heal();
      settle(sim);
      const toOld = truncs.filter((r) => r.to === old);
      assert.equal(toOld[0]?.msg.type, 'trunc', `old leader synced with ${toOld[0]?.msg.type}`);
      assert.equal((toOld[0]?.msg as { zxid: number }).zxid, lastCommitted, 'TRUNC to the last shared zxid');
      assert.ok(!sim.checker.chain.some((e) => e.payload.toString().startsWith('u')), 'the uncommitted tail is gone');
      finish(sim);
    },
  },
  {
    // ZOOKEEPER-1154 "Data inconsistency when the node(s) with the highest zxid is not present at
    // the time of leader election": a server holding txns of an epoch the new leader never saw
    // was synced from a wrong point. Such a follower must get a SNAP (a TRUNC would have to cross
    // an epoch boundary and the common prefix is unknown).
    name: 'ZOOKEEPER-1154: a follower holding an epoch the leader never saw gets SNAP, not TRUNC',
    run: () => {
      const sim = newSim({ seed: 12 });
      const first = settle(sim);
      writes(sim, 'w', 3);
      sim.crash(first);
      sim.runTicks(30);
      const second = settle(sim, 100) ?? assert.fail('no second leader');
      sim.restart(first);
      settle(sim);
      // The second leader's epoch has no committed txn; it proposes one only it logs.
      const secondEpoch = epochOf(sim, second);
      sim.net.partition([[second], others(sim, second)]);
      proposeAt(sim, second, 'orphan');
      sim.runTicks(25);
      writes(sim, 'x', 3);
      const syncs = record(sim, ['trunc', 'diff', 'snap']);
      sim.net.heal();
      settle(sim);
      const toSecond = syncs.filter((r) => r.to === second)[0];
      assert.equal(toSecond?.msg.type, 'snap', `follower with epoch ${secondEpoch} txns synced by ${toSecond?.msg.type}`);
      assert.ok(!sim.checker.chain.some((e) => e.payload.toString() === 'orphan'));
      finish(sim);
    },
  },
  {
    // ZOOKEEPER-1282 "Learner.java not following Zab 1.0 protocol - setCurrentEpoch should be done
    // upon receipt of NEWLEADER (before acking it) and not upon receipt of UPTODATE". A follower
    // whose ACK of NEWLEADER counted toward establishing the epoch must have currentEpoch durable
    // even if it crashes before UPTODATE.
    name: 'ZOOKEEPER-1282: currentEpoch is durable when NEWLEADER is acked, not at UPTODATE',
    run: () => {
      const sim = newSim({ seed: 13 });
      const l1 = settle(sim);
      const [f, g] = others(sim, l1) as [number, number];
      writes(sim, 'w', 2);
      sim.crash(f);
      sim.crash(l1);
      sim.restart(l1);
      settle(sim);
      const epoch = epochOf(sim, sim.leader() as number);
      // f joins the new epoch; UPTODATE (and its repeat in PINGs) never reaches it.
      sim.net.filter = (_from, to, m) => (to === f && (m.type === 'uptodate' || (m.type === 'ping' && m.upToDate)) ? 'drop' : 'deliver');
      const acks = record(sim, ['ack']);
      sim.restart(f);
      assert.ok(sim.runTicks(40, () => acks.some((a) => a.from === f && (a.msg as { newLeader: boolean }).newLeader)), 'f acks NEWLEADER');
      assert.equal(sim.server(f).disk.currentEpoch, epoch, 'currentEpoch persisted before the ACK');
      sim.crash(f);
      sim.restart(f);
      assert.equal(sim.server(f).core?.currentEpoch, epoch, 'and it survives the crash');
      void g;
      finish(sim);
    },
  },
  {
    // ZOOKEEPER-2678 made DIFF sync skip the snapshot at NEWLEADER, so the diffed txns were only
    // applied in memory while the follower acked NEWLEADER; a follower restarting right after could
    // come back without them. Here a follower misses 30 committed writes, is DIFFed while the only
    // other server holding them is down, and restarts right after the new epoch is established.
    name: 'ZOOKEEPER-2678: txns received by DIFF are logged durably, not only applied',
    run: () => {
      const sim = newSim({ seed: 14, fsyncMax: 8 });
      const l = settle(sim);
      const [b, c] = others(sim, l) as [number, number];
      sim.net.partition([[b], [l, c]]);
      writes(sim, 'm', 30);
      sim.crash(c);
      sim.setHoldFsync(b, true); // b's disk stalls while the 30 txns are DIFFed to it
      sim.net.heal();
      sim.runTicks(25);
      sim.crash(b);
      sim.restart(b);
      sim.crash(l); // the old leader's machine is gone for good
      sim.restart(c);
      // With the bug b came back with the new currentEpoch and without m*, won against c and
      // truncated m* away; here b's claims match its disk and c's m* survive.
      finish(sim, [l]);
    },
  },
  {
    // ZOOKEEPER-3911 "Data inconsistency caused by DIFF sync uncommitted log": followers acked
    // NEWLEADER before persisting the DIFFed proposals, so a leader could establish (and commit the
    // uncommitted tail of the old epoch) on a quorum that did not hold it. Here the tail u* exists
    // only on the old leader; the follower's disk stalls during sync. The epoch must not establish
    // (so u* is not acknowledged); then both crash and the follower loses the unflushed u*.
    name: 'ZOOKEEPER-3911: no NEWLEADER ACK (so no new epoch) before the DIFFed txns are durable',
    run: () => {
      const sim = newSim({ seed: 15 });
      const l = settle(sim);
      const [b, c] = others(sim, l) as [number, number];
      const epoch0 = epochOf(sim, l);
      writes(sim, 'w', 3);
      sim.crash(c);
      sim.net.partition([[l], [b, c]]);
      for (const u of ['u0', 'u1', 'u2']) proposeAt(sim, l, u);
      sim.runTicks(15);
      sim.setHoldFsync(b, true);
      sim.net.heal();
      sim.runTicks(40);
      const newer = [...sim.checker.leaders.keys()].filter((e) => e > epoch0);
      assert.deepEqual(newer, [], `an epoch established while the follower's disk was stalled: ${roles(sim)}`);
      assert.ok(!['u0', 'u1', 'u2'].some((u) => sim.checker.acked.has(u)));
      sim.crash(l);
      sim.crash(b);
      sim.restart(b);
      sim.restart(c);
      finish(sim, [l]); // the old leader's machine is gone for good
    },
  },
  {
    // ZOOKEEPER-4646 "Committed txns may still be lost if followers crash after replying ACK of
    // NEWLEADER but before writing txns to disk" (the 3911 fix logged asynchronously). With a slow
    // disk, the follower's ACK must come after its fsync, so once the epoch is established and the
    // old tail committed, crashing leader and follower loses nothing.
    name: 'ZOOKEEPER-4646: after a NEWLEADER ACK the synced txns survive a crash of the follower',
    run: () => {
      const sim = newSim({ seed: 16, fsyncMin: 15, fsyncMax: 25 });
      const l = settle(sim);
      const [b, c] = others(sim, l) as [number, number];
      writes(sim, 'w', 2);
      sim.crash(c);
      sim.net.partition([[l], [b, c]]);
      for (const u of ['u0', 'u1']) proposeAt(sim, l, u);
      sim.runTicks(15);
      sim.net.heal();
      const inChain = (u: string): boolean => sim.checker.chain.some((e) => e.payload.toString() === u);
      // Committed (not client-acknowledged: their client's leader is gone) when the epoch is established.
      assert.ok(sim.runTicks(120, () => ['u0', 'u1'].every(inChain)), `u* committed by the new epoch: ${roles(sim)}`);
      sim.crash(l);
      sim.crash(b);
      sim.restart(b);
      sim.restart(c);
      finish(sim, [l]); // the old leader's machine is gone for good
    },
  },
  {
    // ZOOKEEPER-4643 "Committed txns may be improperly truncated if follower crashes right after
    // updating currentEpoch but before persisting txns to disk": with the new currentEpoch and a
    // short log, the follower wins the next election and truncates committed txns elsewhere.
    name: 'ZOOKEEPER-4643: currentEpoch is persisted only after the synced txns are durable',
    run: () => {
      const sim = newSim({ seed: 17 });
      const l = settle(sim);
      const [b, c] = others(sim, l) as [number, number];
      const epoch0 = epochOf(sim, l);
      writes(sim, 'w', 2);
      sim.net.partition([[b], [l, c]]);
      writes(sim, 'm', 3); // committed by l + c, missing on b
      sim.crash(c);
      sim.setHoldFsync(b, true);
      sim.net.heal();
      const nl = record(sim, ['newleader']);
      assert.ok(sim.runTicks(60, () => nl.some((r) => r.to === b)), 'b is sent NEWLEADER');
      sim.runTicks(3);
      assert.equal(sim.server(b).disk.currentEpoch, epoch0, 'currentEpoch not advanced while the txns are not durable');
      sim.crash(l);
      sim.crash(b);
      sim.restart(b);
      sim.restart(c);
      finish(sim, [l]); // with the bug, b (newer currentEpoch, short log) leads and m* are lost
    },
  },
  {
    // ZOOKEEPER-3642 "Data inconsistency when the leader crashes right after sending SNAP sync":
    // the learner kept the snapshot only in memory but reported its zxid to the next leader, which
    // DIFFed from there; a restart then lost the snapshot's data.
    name: 'ZOOKEEPER-3642: leader crash between SNAP and NEWLEADER loses nothing on the learner',
    run: () => {
      const sim = newSim({ seed: 18 });
      const l = settle(sim);
      const [b, c] = others(sim, l) as [number, number];
      sim.crash(c);
      writes(sim, 'w', 10);
      sim.takeSnapshot(l); // l no longer has the log c needs: SNAP
      sim.net.filter = (from, to, m) => (from === l && to === c && m.type === 'newleader' ? 'drop' : 'deliver');
      const snaps = record(sim, ['snap']);
      sim.restart(c);
      assert.ok(sim.runTicks(60, () => snaps.some((r) => r.to === c)), `c gets a SNAP: ${roles(sim)}`);
      sim.runTicks(1);
      sim.crash(l);
      sim.net.filter = null;
      settle(sim, 200);
      sim.crash(c);
      sim.restart(c);
      void b;
      finish(sim);
    },
  },
];
