/**
 * ZooKeeper-bug scenarios, broadcast: a cut-off leader's lease, and proposals and ACKs that
 * cross a follower's NEWLEADER/UPTODATE window (see zk-bug-sync.ts for the synchronization
 * ones). Each fails if the node code had the bug its comment describes.
 */
import { CLIENT_PORT } from './world.js';
import { check, elapse, others, until } from './scenario-kit.js';
import type { Scenario } from './scenarios.js';
import { BugRun, epochOf, LOG_FILES } from './zk-bug-kit.js';

const hosts = (ids: readonly number[]): string[] => ids.map((id) => `s${id}`);

/** One run of defect-3 (a cut at one phase of the ping cycle). */
async function cutOffLeader(seed: number): Promise<void> {
  const r = await BugRun.formed({ seed, nodes: 3, syncLimit: 5, initLimit: 10 });
  const { w } = r;
  const old = w.leader()!;
  const oldEpoch = epochOf(w, old)!;
  const reader = await r.client([old], 'reader');
  const writer = await r.client(others(w, old), 'writer');
  await r.writes(writer, `w${seed}-`, 3);
  // When each frame the old leader writes to a client leaves it.
  const frames: number[] = [];
  w.net.setFilter(CLIENT_PORT, (from) => {
    if (from === `s${old}`) frames.push(w.sched.now);
    return 'deliver';
  });
  // The successor is established when it first sends UPTODATE (to the follower whose ACK made its quorum).
  let establishedAt: number | undefined;
  r.tap.watch((s) => {
    if (establishedAt === undefined && s.msg.type === 'uptodate' && s.msg.epoch > oldEpoch) establishedAt = s.atMs;
  });
  let reading = true;
  void (async () => {
    while (reading) {
      await reader.exists('/');
      await new Promise<void>((done) => reader.clock.after(5, done));
    }
  })();
  await until(w, () => frames.length > 0, 2000, 'the reader to be answered');
  await elapse(w, w.rng.int(0, 3 * w.tickMs)); // cut at any phase of the ping cycle, no write in flight
  const cutAt = w.sched.now;
  w.net.partition([[`s${old}`, 'reader'], [...hosts(others(w, old)), 'writer']]);
  await until(w, () => establishedAt !== undefined, 10_000, 'a successor to be established');
  // The reader keeps asking: any answer the old leader sends from now on is one too many.
  await elapse(w, 2 * w.cluster.syncLimit * w.tickMs);
  reading = false;
  w.net.setFilter(CLIENT_PORT, null);
  check(frames.some((t) => t <= cutAt), 'the old leader answered its reader before the cut: else this proves nothing');
  const late = frames.filter((t) => t >= establishedAt!);
  check(late.length === 0, `the old leader s${old} answered a client at t=${late[0]}, after its successor was established at t=${establishedAt}`);
  await r.finish();
}

export const BROADCAST_SCENARIOS: readonly Scenario[] = [
  {
    // zk-elect issue 8, defect 3: the leader's freshness of each follower (syncLimit) and its own
    // quorum check (another syncLimit) added up, so a leader cut off from its quorum served for
    // ~2 x syncLimit ticks, well after the majority had established a successor. Seen from the
    // wire: the old leader writes no frame to any client once a successor is established.
    name: 'defect-3: a leader cut off from its quorum stops serving before a successor is established',
    about: 'five cuts at different phases of the ping cycle: the old leader\'s last client frame leaves before its successor is established',
    run: async (seed) => {
      for (let k = 0; k < 5; k++) await cutOffLeader(seed * 100 + k);
    },
  },
  {
    // ZOOKEEPER-4394 "Learner.syncWithLeader got NullPointerException": a follower receives
    // DIFF, PROPOSAL p1, NEWLEADER, COMMIT p1, PROPOSAL p2 ... UPTODATE; proposals between NEWLEADER
    // and UPTODATE must be logged and committed in order, exactly once, and be acked after the
    // NEWLEADER ACK so they count.
    name: 'ZOOKEEPER-4394: proposals and commits between NEWLEADER and UPTODATE are logged and applied in order',
    about: 'a joining follower is sent a proposal after NEWLEADER and commits before UPTODATE: it syncs in one go, applies both in order, and its ACKs count',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3, syncLimit: 15, initLimit: 20 });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const writer = await r.client([l], 'writer');
      await r.writes(writer, 'w', 2);
      w.crashServer(c);
      w.slot(l).fs.holdSyncs(true, LOG_FILES); // p1 stays uncommitted: only b has it durably
      void r.create(writer, '/p1');
      await elapse(w, 2 * w.tickMs);
      const seen = r.tap.record(['newleader', 'ack', 'followerinfo']);
      w.startServer(c);
      // c's log fsyncs stall once it runs (its recovery syncs its log too), so it cannot ack NEWLEADER yet.
      await until(w, () => w.slot(c).node !== undefined, 5000, `s${c} to start`);
      w.slot(c).fs.holdSyncs(true, LOG_FILES);
      await until(w, () => seen.some((s) => s.from === l && s.to === c && s.msg.type === 'newleader'), 4000, `s${c} to be sent NEWLEADER`);
      void r.create(writer, '/p2'); // between NEWLEADER and UPTODATE
      await elapse(w, 2 * w.tickMs);
      w.slot(l).fs.holdSyncs(false);
      await until(w, () => r.acked.has('/p1') && r.acked.has('/p2'), 3000, 'p1, p2 to commit with l + b');
      w.slot(c).fs.holdSyncs(false);
      await until(w, () => w.slot(c).node?.mode() === 'follower', 3000, `s${c} to finish syncing`);
      const tree = w.slot(c).node!.stateView().tree;
      check(tree.has('/p1') && tree.has('/p2'), `s${c} synced without ${tree.has('/p1') ? '' : '/p1 '}${tree.has('/p2') ? '' : '/p2'}`);
      await elapse(w, 5 * w.tickMs);
      const attempts = new Set(seen.filter((s) => s.from === c && s.msg.type === 'followerinfo').map((s) => (s.msg.type === 'followerinfo' ? s.msg.attempt : -1)));
      check(attempts.size === 1, `s${c} had to sync ${attempts.size} times`);
      const cAcks = seen.filter((s) => s.from === c && s.msg.type === 'ack');
      check(cAcks[0]?.msg.type === 'ack' && cAcks[0].msg.newLeader, `s${c}'s first ACK is not its NEWLEADER ACK`);
      // Now only c can make a quorum with l: its acks after NEWLEADER must count.
      w.net.partition([hosts([b]), [...hosts([l, c]), 'writer']]);
      await r.write(writer, '/p3');
      r.clean();
      await r.finish();
    },
  },
  {
    // ZOOKEEPER-4685 "Unnecessary system unavailability due to Leader shutdown when follower sent
    // ACK of PROPOSAL before sending ACK of NEWLEADER in log recovery": the leader must ignore such
    // an ACK, not shut down. Here the network delivers c's proposal ACK before its NEWLEADER ACK.
    name: 'ZOOKEEPER-4685: a proposal ACK overtaking the NEWLEADER ACK does not bring the leader down',
    about: 'a joining follower\'s NEWLEADER ACK is held back while its proposal ACK arrives: the leader stays, same epoch, and counts the follower once synced',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3, syncLimit: 15, initLimit: 20 });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const epoch = epochOf(w, l)!;
      const writer = await r.client([l], 'writer');
      w.crashServer(c);
      w.slot(l).fs.holdSyncs(true, LOG_FILES);
      void r.create(writer, '/p1');
      await elapse(w, 2 * w.tickMs);
      r.tap.rule((from, to, m) => (from === c && to === l && m.type === 'ack' && m.newLeader ? 'hold' : undefined));
      const acks = r.tap.record(['ack']);
      w.startServer(c);
      await until(w, () => acks.some((a) => a.from === c && a.msg.type === 'ack' && a.msg.newLeader), 4000, `s${c} to ack NEWLEADER (held back)`);
      void r.create(writer, '/p2');
      await until(w, () => acks.some((a) => a.from === c && a.msg.type === 'ack' && !a.msg.newLeader), 2000, `s${c} to ack p2`);
      await elapse(w, 2 * w.tickMs);
      const q = w.slot(l).node?.quorumState();
      check(q?.role === 'leader' && q.epoch === epoch, `the leader went from leading epoch ${epoch} to ${q?.role}@${q?.epoch} on an early proposal ACK`);
      r.tap.clearRules();
      r.tap.release();
      w.slot(l).fs.holdSyncs(false);
      await elapse(w, 5 * w.tickMs);
      check(w.leader() === l && epochOf(w, l) === epoch, `same leader, same epoch: ${w.leader()}@${epochOf(w, w.leader() ?? l)}`);
      w.net.partition([hosts([b]), [...hosts([l, c]), 'writer']]);
      await r.write(writer, '/p3');
      await r.finish();
    },
  },
  {
    // ZOOKEEPER-4785 "Txn loss due to race condition in Learner.syncWithLeader() during DIFF sync":
    // uncommitted proposals received in the DIFF were written to disk asynchronously after the
    // NEWLEADER ACK; the leader committed them counting that ACK, and a follower bounce lost them.
    name: 'ZOOKEEPER-4785: uncommitted proposals in a DIFF are durable before the ACK that commits them',
    about: 'proposals only the leader holds, DIFFed to a joiner whose disk stalls, are not acknowledged; after both crash nothing acknowledged is lost',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3, syncLimit: 20, initLimit: 30 });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const writer = await r.client([l], 'writer');
      await r.writes(writer, 'w', 2);
      w.crashServer(c);
      // l and b cannot talk; c can reach both (so it can learn who leads and sync with l).
      w.net.block(`s${l}`, `s${b}`);
      w.net.block(`s${b}`, `s${l}`);
      const tail = ['/p1', '/p2'];
      for (const p of tail) void r.create(writer, p);
      const newLeader = r.tap.record(['newleader']);
      w.startServer(c);
      await until(w, () => w.slot(c).node !== undefined, 5000, `s${c} to start`);
      w.slot(c).fs.holdSyncs(true, LOG_FILES);
      await until(w, () => newLeader.some((s) => s.from === l && s.to === c), 15 * w.tickMs, `s${c} to sync with s${l}`);
      await elapse(w, 3 * w.tickMs);
      check(!tail.some((p) => r.acked.has(p)), `${tail.filter((p) => r.acked.has(p)).join(' ')} acknowledged while only s${l} held them durably`);
      w.crashServer(l); // the old leader's machine is gone for good
      w.crashServer(c);
      w.slot(c).fs.holdSyncs(false);
      w.startServer(c);
      await r.finish([l]);
    },
  },
];
