/**
 * ZooKeeper-bug scenarios, synchronization (1/2): how a new leader brings a server with a
 * divergent or stale log to its history, and what a follower must have on disk when it says
 * it holds that history. Each sets up the situation of the bug on real nodes and clients, and
 * fails if the node code had the bug its comment describes.
 */
import { formatZxid, zxidEpoch } from '../../../src/server/zab/index.js';
import type { WireClient } from '../../../src/client/zk-client.js';
import { check, durableEpoch, elapse, others, until } from './scenario-kit.js';
import type { Scenario } from './scenarios.js';
import { BugRun, epochOf, LOG_FILES, proposalPath } from './zk-bug-kit.js';

const hosts = (ids: readonly number[]): string[] => ids.map((id) => `s${id}`);

export const SYNC_SCENARIOS_1: readonly Scenario[] = [
  {
    // ZOOKEEPER-1156 "Log truncation truncating log too much - can cause data loss": the TRUNC
    // point went below the last txn the follower shares with the leader, discarding committed
    // txns. Here the old leader, cut off, logs an uncommitted tail (u*) in the same epoch as the
    // committed w*; the new leader must TRUNC it to exactly the last committed w (not lower, not
    // higher) and DIFF from there.
    name: 'ZOOKEEPER-1156: TRUNC removes exactly the uncommitted tail of the old leader',
    about: 'the old leader, back from a partition with an uncommitted tail, is sent TRUNC to exactly its last committed txn',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const old = w.leader()!;
      const a = await r.client([old], 'a');
      const ws = await r.writes(a, 'w', 5);
      const lastCommitted = Number(ws[4]!);
      check(Number(w.slot(old).node!.lastZxid) === lastCommitted, 'nothing but w* committed before the cut');
      const proposals = r.tap.record(['proposal']);
      w.net.partition([hosts([old]), hosts(others(w, old))]);
      const tail = ['/u0', '/u1', '/u2'];
      for (const p of tail) void r.create(a, p); // proposed by the old leader, never committed
      await until(w, () => w.leader() !== undefined && w.leader() !== old, 10_000, 'the majority to elect a new leader');
      check(tail.every((p) => proposals.some((s) => s.from === old && proposalPath(s.msg) === p)), 'the old leader logged the tail u0..u2');
      const b = await r.client(others(w, old), 'b');
      await r.writes(b, 'x', 3);
      const syncs = r.tap.record(['trunc', 'diff', 'snapchunk']);
      w.net.heal();
      await until(w, () => w.converged() && w.running().length === 3, 10_000, 'the old leader to rejoin');
      const first = syncs.find((s) => s.to === old)?.msg;
      check(first?.type === 'trunc', `the old leader was synced with ${first?.type ?? 'nothing'}, not TRUNC`);
      check(first.zxid === lastCommitted, `TRUNC to ${formatZxid(first.zxid)}, not to the last shared txn ${formatZxid(lastCommitted)}`);
      check(!tail.some((p) => r.heldAnywhere(p) || r.acked.has(p)), 'the uncommitted tail is gone');
      await r.finish();
    },
  },
  {
    // ZOOKEEPER-1154 "Data inconsistency when the node(s) with the highest zxid is not present at
    // the time of leader election": a server holding txns of an epoch the new leader never saw
    // was synced from a wrong point. Such a follower must get a SNAP (a TRUNC would have to cross
    // an epoch boundary, and the common prefix is unknown).
    name: 'ZOOKEEPER-1154: a follower holding an epoch the leader never saw gets SNAP, not TRUNC',
    about: 'a server whose log ends in an epoch the new leader never saw is synced by SNAP',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const first = w.leader()!;
      // Every session is made now, in the first epoch: the next epoch must commit no txn. One
      // client per server, so the next leader (whichever it is) has one.
      const writer = await r.client(others(w, first), 'writer');
      const on = new Map<number, WireClient>();
      for (const s of w.servers) on.set(s.id, await r.client([s.id], `on${s.id}`));
      await r.writes(writer, 'w', 3);
      w.crashServer(first);
      await until(w, () => w.leader() !== undefined && w.leader() !== first, 10_000, 'a second leader');
      w.startServer(first);
      await until(w, () => w.converged() && w.running().length === 3, 10_000, 'the first leader to rejoin');
      const second = w.leader()!;
      const secondEpoch = epochOf(w, second)!;
      check(w.running().every((s) => zxidEpoch(Number(s.node!.lastZxid)) < secondEpoch), `a txn was committed in epoch ${secondEpoch}: the scenario needs it empty`);
      const client = on.get(second)!;
      await until(w, () => client.state === 'connected', 5000, 'the second leader\'s client to reconnect');
      const proposals = r.tap.record(['proposal']);
      w.net.partition([hosts([second]), hosts(others(w, second))]);
      void r.create(client, '/orphan'); // logged by the second leader only
      await until(w, () => w.leader() !== undefined && w.leader() !== second, 10_000, 'the majority to elect a third leader');
      check(proposals.some((s) => s.from === second && proposalPath(s.msg) === '/orphan'), 'the second leader logged /orphan');
      const late = await r.client(others(w, second), 'late');
      await r.writes(late, 'x', 3);
      const syncs = r.tap.record(['trunc', 'diff', 'snapchunk']);
      w.net.heal();
      await until(w, () => w.converged() && w.running().length === 3, 10_000, 'the second leader to rejoin');
      const toSecond = syncs.find((s) => s.to === second)?.msg;
      check(toSecond?.type === 'snapchunk', `the server holding epoch ${secondEpoch} txns was synced by ${toSecond?.type ?? 'nothing'}, not SNAP`);
      check(!r.heldAnywhere('/orphan') && !r.acked.has('/orphan'), '/orphan is gone');
      await r.finish();
    },
  },
  {
    // ZOOKEEPER-1282 "Learner.java not following Zab 1.0 protocol - setCurrentEpoch should be done
    // upon receipt of NEWLEADER (before acking it) and not upon receipt of UPTODATE". A follower
    // whose ACK of NEWLEADER counted toward establishing the epoch must have currentEpoch durable
    // even if it crashes before UPTODATE.
    name: 'ZOOKEEPER-1282: currentEpoch is durable when NEWLEADER is acked, not at UPTODATE',
    about: 'when a follower\'s NEWLEADER ACK leaves, its currentEpoch file already holds the new epoch, and a restart reads it back',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const l1 = w.leader()!;
      const [f, g] = others(w, l1) as [number, number];
      const writer = await r.client([g], 'writer');
      await r.writes(writer, 'w', 2);
      w.crashServer(f);
      w.crashServer(l1);
      w.startServer(l1);
      await until(w, () => w.converged() && w.running().length === 2, 10_000, 'a new epoch without f');
      const before = durableEpoch(w, f, 'currentEpoch') ?? 0;
      // f joins the new epoch; UPTODATE (and its repeat in PINGs) never reaches it.
      r.tap.rule((_from, to, m) => (to === f && (m.type === 'uptodate' || (m.type === 'ping' && m.upToDate)) ? 'drop' : undefined));
      let acked: { epoch: number; onDisk: number | undefined } | undefined;
      r.tap.watch((s) => {
        if (!acked && s.from === f && s.msg.type === 'ack' && s.msg.newLeader) acked = { epoch: s.msg.epoch, onDisk: durableEpoch(w, f, 'currentEpoch') };
      });
      w.startServer(f);
      await until(w, () => acked !== undefined, 10_000, 'f to ack NEWLEADER');
      const { epoch, onDisk } = acked!;
      check(epoch > before, `f acked NEWLEADER of epoch ${epoch}, not newer than its currentEpoch ${before}`);
      check(onDisk === epoch, `f acked NEWLEADER of epoch ${epoch} with currentEpoch ${onDisk} on disk`);
      w.crashServer(f);
      // Restarted, f votes with the currentEpoch it reads back from its disk.
      const votes = r.tap.record(['notification']);
      w.startServer(f);
      await until(w, () => votes.some((v) => v.from === f), 5000, 'the restarted f to vote');
      const vote = votes.find((v) => v.from === f)!.msg;
      check(vote.type === 'notification' && vote.peerEpoch === epoch, `after a crash f votes with currentEpoch ${vote.type === 'notification' ? vote.peerEpoch : '?'}, not ${epoch}`);
      await r.finish();
    },
  },
  {
    // ZOOKEEPER-2678 made DIFF sync skip the snapshot at NEWLEADER, so the diffed txns were only
    // applied in memory while the follower acked NEWLEADER; a follower restarting right after could
    // come back without them. Here a follower misses 30 committed writes, is DIFFed while the only
    // other server holding them is down, and restarts right after the new epoch could have been
    // established. With the bug it came back with the new currentEpoch and without m*, won the
    // election against the server holding them and truncated m* away.
    name: 'ZOOKEEPER-2678: txns received by DIFF are logged durably, not only applied',
    about: 'a follower DIFFed 30 txns while its disk stalls, then restarted, loses none of the acknowledged ones',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3 });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const writer = await r.client([l, c], 'writer');
      w.net.partition([hosts([b]), hosts([l, c])]);
      await r.writes(writer, 'm', 30);
      await until(w, () => w.slot(b).node?.mode() === 'looking', 5000, `s${b} to give up on the leader`);
      w.crashServer(c);
      w.slot(b).fs.holdSyncs(true, LOG_FILES); // b's log disk stalls while the 30 txns are DIFFed to it
      const newLeader = r.tap.record(['newleader']);
      w.net.heal();
      await until(w, () => newLeader.some((s) => s.from === l && s.to === b), 15_000, `s${b} to be DIFFed by s${l}`);
      await elapse(w, 5 * w.tickMs); // its ACK, were it sent before the txns are durable, would count by now
      w.crashServer(b);
      w.slot(b).fs.holdSyncs(false);
      w.startServer(b);
      w.crashServer(l); // the old leader's machine is gone for good
      w.startServer(c);
      await r.finish([l]);
    },
  },
];
