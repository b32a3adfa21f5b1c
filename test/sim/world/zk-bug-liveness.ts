/**
 * ZooKeeper-bug scenarios, epochs and membership: zxid counter exhaustion, a leader that wakes
 * up after being replaced, and servers rejoining an established leader.
 */
import { formatZxid, zxidCounter, zxidEpoch } from '../../../src/server/zab/index.js';
import { check, elapse, others, until } from './scenario-kit.js';
import type { Scenario } from './scenarios.js';
import { BugRun, epochOf, proposalPath } from './zk-bug-kit.js';

export const LIVENESS_SCENARIOS: readonly Scenario[] = [
  {
    // ZOOKEEPER-1277 "servers stop serving when lower 32bits of zxid roll over": the leader must
    // force a new epoch instead of letting the counter wrap into the epoch bits.
    name: 'ZOOKEEPER-1277: zxid counter exhaustion forces a new epoch, nothing is lost',
    about: 'with 5 counters per epoch, 14 writes go through new epochs; no txn ever uses counter 5 or more',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3, server: { zxidCounterLimit: 5 } });
      const { w } = r;
      const zxids: bigint[] = [];
      w.onApplied((t) => zxids.push(t.result.zxid));
      const c = await r.client(w.servers.map((s) => s.id), 'writer');
      for (let i = 0; i < 14; i++) await r.writeEventually(c, `/r${i}`, 10_000);
      const over = zxids.filter((z) => zxidCounter(Number(z)) >= 5);
      check(over.length === 0, `counters at or past the limit: ${over.map((z) => formatZxid(Number(z))).join(' ')}`);
      const epochs = new Set(zxids.map((z) => zxidEpoch(Number(z))));
      check(epochs.size >= 4, `14 writes with 4 counters per epoch used only epochs ${[...epochs].join(', ')}`);
      await r.finish();
    },
  },
  {
    // A leader that is paused (SIGSTOP) while the others elect a new one must, when it wakes up,
    // commit nothing new: it learns from STALE replies or its own quorum check that it lost the
    // quorum, and rejoins as a follower, its orphan proposals truncated. Here a client's write
    // reaches it as it wakes, before anything from its peers does (their traffic to it is held
    // until it has given up by its own quorum check), so it does propose it.
    name: 'paused leader wakes up, commits nothing new, and rejoins as a follower',
    about: 'a leader paused while the others move on proposes a write when it wakes, commits nothing, and follows the new leader',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const old = w.leader()!;
      const epoch = epochOf(w, old)!;
      const ghost = await r.client([old], 'ghost');
      const writer = await r.client(others(w, old), 'writer');
      await r.writes(writer, 'w', 3);
      w.pauseServer(old);
      await until(w, () => w.leader() !== undefined && w.leader() !== old, 10_000, 'the others to elect a new leader');
      const writer2 = await r.client(others(w, old), 'writer2');
      await r.writes(writer2, 'x', 3);
      for (const id of others(w, old)) w.net.block(`s${id}`, `s${old}`);
      const proposals = r.tap.record(['proposal']);
      void r.create(ghost, '/ghost'); // waits in the paused process's socket
      w.resumeServer(old);
      await until(w, () => proposals.some((s) => s.from === old && proposalPath(s.msg) === '/ghost'), 3000, 'the woken leader to propose /ghost');
      await until(w, () => w.slot(old).node?.mode() !== 'leader', 3000, 'the woken leader to step down on its own quorum check');
      for (const id of others(w, old)) w.net.unblock(`s${id}`, `s${old}`);
      await elapse(w, 30 * w.tickMs);
      check(!r.committed.has('/ghost') && !r.acked.has('/ghost'), '/ghost was committed');
      const q = w.slot(old).node?.quorumState();
      check(q?.role !== 'leader' || q.epoch > epoch, `s${old} still leads epoch ${epoch}`);
      await until(w, () => w.converged() && w.running().length === 3, 10_000, 'the cluster to converge');
      check(w.slot(old).node!.mode() === 'follower', `s${old} rejoined as ${w.slot(old).node!.mode()}`);
      await r.finish();
    },
  },
  {
    // Whole-ensemble sanity for 7 servers: minority crash, majority keeps committing; a
    // restarted server joins through the LEADING/FOLLOWING answers without a new election.
    name: '7 servers: a restarted server joins the established leader without a new epoch',
    about: 'three of seven servers crash and come back while the leader keeps committing: they join it, same epoch',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 7 });
      const { w } = r;
      const l = w.leader()!;
      const epoch = epochOf(w, l)!;
      const down = others(w, l).slice(0, 3);
      const writer = await r.client([l], 'writer');
      for (const x of down) w.crashServer(x);
      await r.writes(writer, 'w', 5);
      for (const x of down) w.startServer(x);
      await until(w, () => w.converged() && w.running().length === 7, 10_000, 'the restarted servers to join');
      check(w.leader() === l && epochOf(w, l) === epoch, `the joiners brought a new epoch: s${w.leader()}@${epochOf(w, w.leader()!)}, was s${l}@${epoch}`);
      await r.finish();
    },
  },
];
