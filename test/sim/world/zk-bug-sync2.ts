/**
 * ZooKeeper-bug scenarios, synchronization (2/2): the order of "txns durable", "currentEpoch
 * durable" and "NEWLEADER acked" on a follower, and a leader dying in the middle of a SNAP.
 * A stalled disk is SimFileSystem.holdSyncs on the follower's log files: its appends reach
 * the page cache but no fsync of them completes, so nothing after them is durable.
 */
import { formatZxid } from '../../../src/server/zab/index.js';
import { durableThrough } from './durable-view.js';
import { check, durableEpoch, elapse, never, others, settle, until } from './scenario-kit.js';
import type { Scenario } from './scenarios.js';
import { BugRun, epochOf, LOG_FILES, proposalPath } from './zk-bug-kit.js';

const hosts = (ids: readonly number[]): string[] => ids.map((id) => `s${id}`);

/** Writes through a client of the leader while it is cut off: it logs them, nobody else does. */
async function tailOnCutOffLeader(r: BugRun, l: number, paths: readonly string[]): Promise<void> {
  const { w } = r;
  const a = await r.client([l], 'tail');
  const proposals = r.tap.record(['proposal']);
  w.net.partition([hosts([l]), hosts(others(w, l))]);
  for (const p of paths) void r.create(a, p);
  await elapse(w, 15 * w.tickMs);
  check(paths.every((p) => proposals.some((s) => s.from === l && proposalPath(s.msg) === p)), `s${l} did not log the tail ${paths.join(' ')} before losing its quorum`);
}

export const SYNC_SCENARIOS_2: readonly Scenario[] = [
  {
    // ZOOKEEPER-3911 "Data inconsistency caused by DIFF sync uncommitted log": followers acked
    // NEWLEADER before persisting the DIFFed proposals, so a leader could establish (and commit the
    // uncommitted tail of the old epoch) on a quorum that did not hold it. Here the tail u* exists
    // only on the old leader; the follower's disk stalls during sync. The epoch must not establish
    // (so u* is not acknowledged); then both crash and the follower loses the unflushed u*.
    name: 'ZOOKEEPER-3911: no NEWLEADER ACK (so no new epoch) before the DIFFed txns are durable',
    about: 'while the follower\'s log cannot be synced, no leader is established on it, and the uncommitted tail stays unacknowledged',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const epoch0 = epochOf(w, l)!;
      const writer = await r.client([l], 'writer');
      await r.writes(writer, 'w', 3);
      w.crashServer(c);
      const tail = ['/u0', '/u1', '/u2'];
      await tailOnCutOffLeader(r, l, tail);
      w.slot(b).fs.holdSyncs(true, LOG_FILES);
      const newLeader = r.tap.record(['newleader']);
      w.net.heal();
      const established = () => w.running().some((s) => s.node!.quorumState()?.role === 'leader' && s.node!.quorumState()!.epoch > epoch0);
      const why = `an epoch after ${epoch0} was established while the follower's log could not be synced`;
      await until(w, () => established() || newLeader.some((s) => s.from === l && s.to === b), 15_000, `s${l} to sync s${b}`);
      check(!established(), why);
      await never(w, established, 40 * w.tickMs, why);
      check(!tail.some((p) => r.acked.has(p)), 'a write of the uncommitted tail was acknowledged');
      w.crashServer(l); // the old leader's machine is gone for good
      w.crashServer(b);
      w.slot(b).fs.holdSyncs(false);
      w.startServer(b);
      w.startServer(c);
      await r.finish([l]);
    },
  },
  {
    // ZOOKEEPER-4646 "Committed txns may still be lost if followers crash after replying ACK of
    // NEWLEADER but before writing txns to disk" (the 3911 fix logged asynchronously). With a slow
    // log disk, the follower's ACK must come after its fsync: when the ACK leaves, the synced txns
    // are durable, so once the epoch is established and the old tail committed, crashing leader
    // and follower at once loses nothing.
    name: 'ZOOKEEPER-4646: after a NEWLEADER ACK the synced txns survive a crash of the follower',
    about: 'a follower with a slow log disk acks NEWLEADER only once the tail it was synced is durable; the committed tail survives an immediate crash of leader and follower',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const writer = await r.client([l], 'writer');
      await r.writes(writer, 'w', 2);
      w.crashServer(c);
      const tail = ['/u0', '/u1'];
      await tailOnCutOffLeader(r, l, tail);
      // b's log fsyncs complete only 300 ms after the leader sent it the tail and NEWLEADER.
      const slow = w.slot(b).fs;
      slow.holdSyncs(true, LOG_FILES);
      let ack: { zxid: number; durable: boolean } | undefined;
      r.tap.watch((s) => {
        if (s.to === b && s.msg.type === 'newleader' && ack === undefined) w.sched.after(300, () => slow.holdSyncs(false));
        if (s.from === b && s.msg.type === 'ack' && s.msg.newLeader && ack === undefined) ack = { zxid: s.msg.zxid, durable: durableThrough(slow, s.msg.zxid) };
      });
      w.net.heal();
      // Committed (not acknowledged: their client's connection went with the old leadership)
      // when the new epoch is established on l and b.
      await until(w, () => tail.every((p) => r.committed.has(p)), 20_000, 'the tail to be committed by a new epoch');
      check(ack !== undefined && ack.durable, `s${b} acked NEWLEADER at ${ack ? formatZxid(ack.zxid) : '?'} before the synced txns were durable`);
      w.crashServer(l); // at once: b's ACK has just left
      w.crashServer(b);
      w.startServer(b);
      w.startServer(c);
      await r.finish([l]); // the old leader's machine is gone for good
    },
  },
  {
    // ZOOKEEPER-4643 "Committed txns may be improperly truncated if follower crashes right after
    // updating currentEpoch but before persisting txns to disk": with the new currentEpoch and a
    // short log, the follower wins the next election and truncates committed txns elsewhere.
    name: 'ZOOKEEPER-4643: currentEpoch is persisted only after the synced txns are durable',
    about: 'a follower whose synced txns are not durable yet keeps its old currentEpoch on disk; after crashes nothing committed is lost',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const writer = await r.client([l, c], 'writer');
      await r.writes(writer, 'w', 2);
      w.net.partition([hosts([b]), hosts([l, c])]);
      await r.writes(writer, 'm', 3); // committed by l + c, missing on b
      await until(w, () => w.slot(b).node?.mode() === 'looking', 5000, `s${b} to give up on the leader`);
      const before = durableEpoch(w, b, 'currentEpoch');
      w.crashServer(c);
      w.slot(b).fs.holdSyncs(true, LOG_FILES);
      const newLeader = r.tap.record(['newleader']);
      w.net.heal();
      await until(w, () => newLeader.some((s) => s.from === l && s.to === b), 15_000, `s${b} to be sent NEWLEADER`);
      await elapse(w, 3 * w.tickMs);
      const now = durableEpoch(w, b, 'currentEpoch');
      check(now === before, `s${b}'s currentEpoch went from ${before} to ${now} on disk while the txns it was synced were not durable`);
      w.crashServer(l); // the old leader's machine is gone for good
      w.crashServer(b);
      w.slot(b).fs.holdSyncs(false);
      w.startServer(b);
      w.startServer(c);
      await r.finish([l]); // with the bug, b (newer currentEpoch, short log) leads and m* are lost
    },
  },
  {
    // ZOOKEEPER-3642 "Data inconsistency when the leader crashes right after sending SNAP sync":
    // the learner kept the snapshot only in memory but reported its zxid to the next leader, which
    // DIFFed from there; a restart then lost the snapshot's data.
    name: 'ZOOKEEPER-3642: leader crash between SNAP and NEWLEADER loses nothing on the learner',
    about: 'a learner sent a SNAP whose leader dies before NEWLEADER syncs with the next leader, and keeps everything through a restart',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const writer = await r.client([l, b], 'writer');
      w.crashServer(c);
      await r.writes(writer, 'w', 10);
      // l no longer has the log c needs: SNAP.
      await settle(w, w.slot(l).node!.snapshot(), 5000, 'a snapshot on the leader');
      await elapse(w, w.tickMs);
      r.tap.rule((from, to, m) => (from === l && to === c && m.type === 'newleader' ? 'drop' : undefined));
      const snaps = r.tap.record(['snapchunk']);
      w.startServer(c);
      await until(w, () => snaps.some((s) => s.from === l && s.to === c), 10_000, `s${c} to get a SNAP`);
      await elapse(w, w.tickMs);
      w.crashServer(l);
      r.tap.clearRules();
      await until(w, () => w.converged() && w.running().length === 2, 20_000, `s${b} and s${c} to form an epoch`);
      w.crashServer(c);
      w.startServer(c);
      await r.finish();
    },
  },
];
