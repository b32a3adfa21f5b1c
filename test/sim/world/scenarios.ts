/**
 * Named scenarios on the whole-node simulator. Each reproduces one defect that issue 8 found in
 * the production node and fails if the defect is back (each is also a mutant in
 * mutant-list.ts, which shows it failing).
 */
import { CreateMode, ErrorCode } from '../../../src/protocol/index.js';
import { checkLinearizable, Op, Res, type HistoryOp } from '../checkers/linearizability.js';
import { checkSessionExpiries } from '../checkers/sessions.js';
import type { WireClient } from '../../../src/client/zk-client.js';
import { Recorder } from './recorder.js';
import { check, elapse, formed, others, pinned, roles, settle, until } from './scenario-kit.js';
import type { AppliedTxn, SimWorld } from './world.js';
import { OpCode } from '../../../src/protocol/index.js';

export interface Scenario {
  readonly name: string;
  readonly about: string;
  run(seed: number): Promise<void>;
}

const connected = (c: WireClient) => c.state === 'connected';

/** A write that may be retried: OK, or NODEEXISTS when an earlier attempt had gone through. */
async function createEventually(w: SimWorld, c: WireClient, path: string, boundMs: number): Promise<void> {
  const end = w.sched.now + boundMs;
  for (;;) {
    const r = await settle(w, c.create(path, Buffer.from('x'), CreateMode.PERSISTENT), Math.max(1, end - w.sched.now), `create ${path}`);
    if (r.err === ErrorCode.OK || r.err === ErrorCode.NODEEXISTS) return;
    check(w.sched.now < end, `create ${path} kept failing (last ${r.err}) for ${boundMs} ms: ${roles(w)}`);
    await elapse(w, 20);
  }
}

/** One follower and its busy clients cut off from the rest; sessions must outlive every answer. */
async function partitionedFollower(seed: number, phaseMs: number): Promise<void> {
  const w = await formed({ seed, nodes: 3 });
  const recorder = new Recorder(() => w.sched.now);
  const closes: AppliedTxn[] = [];
  w.onApplied((t) => t.result.type === OpCode.closeSession && closes.push(t));
  const l = w.leader()!;
  const f = others(w, l)[0]!;
  const clients = [0, 1, 2, 3].map((i) => pinned(w, `c${i}`, [f], (6 + 3 * i) * w.tickMs, recorder));
  await until(w, () => clients.every(connected), 5000, 'clients to connect');
  // Busy clients: each keeps asking, so each hears from the follower as late as it answers.
  let busy = true;
  for (const c of clients) {
    void (async () => {
      while (busy && c.state !== 'expired') {
        await c.exists('/');
        await new Promise<void>((done) => c.clock.after(5, done));
      }
    })();
  }
  await elapse(w, 200 + phaseMs);
  w.net.partition([[`s${f}`, 'c0', 'c1', 'c2', 'c3'], others(w, f).map((id) => `s${id}`)]);
  await elapse(w, 3000);
  busy = false;
  const v = checkSessionExpiries(recorder, closes);
  check(v.length === 0, `cut at phase ${phaseMs} ms: ${v.join('\n  ')}`);
  check(closes.some((t) => t.result.cxid === 0), 'no session expired on the majority side: the scenario proves nothing');
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'defect-1-zxid-rollover',
    about: 'when the zxid counter runs out the leader steps down (a new epoch), and writes through every server go on',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3, server: { zxidCounterLimit: 12 } });
      const epoch0 = w.slot(w.leader()!).node!.quorumState()!.epoch;
      const clients = w.servers.map((s) => pinned(w, `c${s.id}`, [s.id], 2000));
      await until(w, () => clients.every(connected), 5000, 'clients to connect');
      for (let i = 0; i < 45; i++) await createEventually(w, clients[i % clients.length]!, `/r${i}`, 5000);
      const epoch = w.slot(w.leader()!).node!.quorumState()!.epoch;
      check(epoch >= epoch0 + 3, `45 writes with 11 zxids per epoch should have needed 3 new epochs, went from ${epoch0} to ${epoch}`);
    },
  },
  {
    name: 'defect-2-prep-state-after-leadership',
    about: 'a closeSession and a create prepared by an isolated leader and then truncated leave no trace when that server leads again',
    run: async (seed) => {
      // Sessions long enough to outlive the whole scenario.
      const w = await formed({ seed, nodes: 3, server: { maxSessionTimeoutMs: 60_000 } });
      const l = w.leader()!;
      const a = pinned(w, 'a', [l], 30_000);
      await until(w, () => connected(a), 5000, 'a to connect');
      const session = { id: a.sessionId, passwd: a.sessionPasswd };
      w.net.partition([[`s${l}`, 'a'], [...others(w, l).map((id) => `s${id}`)]]);
      // Prepped and proposed by the isolated leader, never committed: the session stays alive
      // in the cluster and /x never exists.
      void a.create('/x', Buffer.from('never'), CreateMode.PERSISTENT);
      void a.close();
      await until(w, () => w.leader() !== undefined && w.leader() !== l, 5000, 'the majority to elect a new leader');
      const l2 = w.leader()!;
      w.net.heal();
      w.net.block('a', `s${l}`); // a is gone for good (its close never took effect)
      await until(w, () => w.converged() && w.running().length === 3, 5000, 'the old leader to rejoin');
      // Give the old leader a longer history than the third server, so that it wins the next
      // election (no later write reaches it: stale prep state would survive untouched).
      const third = others(w, l, l2)[0]!;
      w.net.partition([[`s${third}`], [`s${l}`, `s${l2}`]]);
      const d = pinned(w, 'd', [l2], 4000);
      await until(w, () => connected(d), 5000, 'd to connect');
      await settle(w, d.create('/ahead', null, CreateMode.PERSISTENT), 3000, 'a write the third server misses');
      w.crashServer(l2);
      w.net.heal();
      await until(w, () => w.leader() === l, 5000, `s${l} to lead again`);
      // The session a never closed is alive: a client reattaching it to the re-elected leader
      // must get it back, and /x must be creatable.
      const b = pinned(w, 'b', [l], 30_000, undefined, session);
      await until(w, () => b.state === 'connected' || b.state === 'expired', 5000, 'b to reattach the session');
      check(b.state === 'connected', `the re-elected leader answered the live session 0x${session.id.toString(16)} as ${b.state} (a truncated closeSession still marks it closing?)`);
      const r = await settle(w, b.create('/x', Buffer.from('real'), CreateMode.PERSISTENT), 3000, 'create /x');
      check(r.err === ErrorCode.OK, `create /x on the re-elected leader answered ${r.err} (a stale prepared change from the truncated proposal?)`);
    },
  },
  {
    name: 'follower-lease-partitioned-follower',
    about: 'a follower cut off with its clients answers them only while the leader still holds their sessions',
    run: async (seed) => {
      // The cut lands at several phases of the ping/grant cycle: right after a grant the
      // follower's lease runs longest past its last touch reaching the leader.
      for (const phase of [0, 20, 40, 60, 80]) await partitionedFollower(seed, phase);
    },
  },
  {
    name: 'quorum-counts-only-durable-entries',
    about: 'a write is acknowledged only once a quorum holds it durably: the leader\'s own unsynced copy does not count',
    run: async (seed) => {
      for (const round of [0, 1, 2]) {
        const w = await formed({ seed: seed * 7 + round, nodes: 3 });
        const l = w.leader()!;
        const [fast, cut] = others(w, l) as [number, number];
        const c = pinned(w, 'c', [l], 4000);
        await until(w, () => connected(c), 5000, 'c to connect');
        // One follower falls behind; the leader's disk is slow, the other follower's fast.
        w.net.partition([[`s${cut}`], [`s${l}`, `s${fast}`, 'c']]);
        w.slot(l).fs.setLatency({ syncLatencyMs: { min: 400, max: 400 } });
        const acked: string[] = [];
        for (let i = 0; i < 5; i++) {
          const path = `/d${round}-${i}`;
          void c.create(path, null, CreateMode.PERSISTENT).then((r) => r.err === ErrorCode.OK && acked.push(path));
        }
        await elapse(w, 150);
        // Power cut on the leader and the fast follower; the lagging follower comes back.
        w.crashServer(l);
        w.crashServer(fast);
        w.net.heal();
        w.slot(l).fs.setLatency({ syncLatencyMs: { min: 1, max: 5 } }); // a new disk's speed
        w.startServer(l);
        await until(w, () => w.leader() !== undefined, 10_000, 'a leader of the two survivors');
        w.startServer(fast);
        await until(w, () => w.converged() && w.running().length === 3, 10_000, 'everyone back');
        const lost = acked.filter((p) => !w.slot(w.leader()!).node!.stateView().tree.has(p));
        check(lost.length === 0, `round ${round}: acknowledged writes lost after the power cut: ${lost.join(', ')}`);
      }
    },
  },
  {
    name: 'flipped-bit-in-a-synced-record',
    about: 'a bit flipped in a durable log record makes that server refuse to start, naming the file; after its disk is replaced it catches up and nothing acknowledged is lost',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3 });
      const l = w.leader()!;
      const f = others(w, l)[0]!;
      const c = pinned(w, 'c', [l], 4000);
      await until(w, () => connected(c), 5000, 'c to connect');
      const acked: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await settle(w, c.create(`/b${i}`, Buffer.alloc(64, i), CreateMode.PERSISTENT), 3000, `create /b${i}`);
        if (r.err === ErrorCode.OK) acked.push(`/b${i}`);
      }
      await elapse(w, 200);
      w.crashServer(f);
      // Latent media error: one bit of the first (synced) record of the log changes.
      const log = w.slot(f).fs.listDurableFiles().find((p) => /\/data\/log\/log\.[0-9a-f]{16}$/.test(p));
      check(log !== undefined, `no log segment on s${f}: ${w.slot(f).fs.listDurableFiles().join(', ')}`);
      w.slot(f).fs.flipBit(log, 32 + 20);
      w.startServer(f);
      await until(w, () => w.slot(f).startError !== undefined, 3000, `s${f} to refuse its corrupt log`);
      const why = w.slot(f).startError!.message;
      check(/checksum|corrupt/i.test(why) && why.includes(log), `s${f} refused, but not clearly: ${why}`);
      // The rest of the cluster carries on meanwhile.
      const more = await settle(w, c.create('/after-flip', null, CreateMode.PERSISTENT), 3000, 'a write while s' + f + ' is out');
      check(more.err === ErrorCode.OK, `write while one server refuses: ${more.err}`);
      acked.push('/after-flip');
      // An operator replaces the disk; the server syncs from the leader.
      w.crashServer(f);
      w.replaceDisk(f);
      w.startServer(f);
      await until(w, () => w.converged() && w.running().length === 3, 10_000, `s${f} to rejoin with a new disk`);
      await elapse(w, 500);
      const missing = acked.filter((p) => !w.slot(f).node!.stateView().tree.has(p));
      check(missing.length === 0, `s${f} lacks acknowledged writes after catching up: ${missing.join(', ')}`);
    },
  },
  {
    name: 'defect-3-isolated-leader-stale-sync',
    about: 'a leader cut off from its quorum stops serving before a successor exists: sync + read never returns data older than an acknowledged write',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3 });
      const l = w.leader()!;
      const reader = pinned(w, 'reader', [l], 6000);
      const writer = pinned(w, 'writer', others(w, l), 6000);
      await until(w, () => connected(reader) && connected(writer), 5000, 'clients to connect');
      await settle(w, writer.create('/r', Buffer.from('v0'), CreateMode.PERSISTENT), 2000, 'create /r');
      await elapse(w, w.rng.int(0, 300));
      const history: HistoryOp[] = [{ id: 0, client: 'writer', key: '/r', op: Op.create('v0'), invokeMs: 0, completeMs: 0, result: Res.ok() }];
      let running = true;
      void (async () => {
        for (let n = 1; running; n++) {
          const h: HistoryOp = { id: history.length, client: 'writer', key: '/r', op: Op.set(`v${n}`), invokeMs: w.sched.now };
          history.push(h);
          const r = await writer.setData('/r', Buffer.from(`v${n}`), -1);
          if (r.err === ErrorCode.OK && r.stat) Object.assign(h, { completeMs: w.sched.now, result: Res.written(r.stat.version) });
        }
      })();
      void (async () => {
        while (running) {
          const h: HistoryOp = { id: history.length, client: 'reader', key: '/r', op: Op.read(), invokeMs: w.sched.now };
          history.push(h);
          const s = await reader.sync('/r');
          const r = await reader.getData('/r');
          if (s.err === ErrorCode.OK && r.err === ErrorCode.OK && r.stat) Object.assign(h, { completeMs: w.sched.now, result: Res.data(r.data?.toString() ?? '', r.stat.version) });
          await new Promise<void>((done) => reader.clock.after(5, done));
        }
      })();
      await elapse(w, 300);
      w.note(`isolate leader s${l}`);
      w.net.partition([[`s${l}`, 'reader'], [...others(w, l).map((id) => `s${id}`), 'writer']]);
      await elapse(w, 3000);
      running = false;
      const verdict = checkLinearizable(history);
      check(verdict.ok === true, `sync + read through the isolated leader:\n    ${verdict.ok === true ? '' : verdict.explanation.join('\n    ')}`);
      check(history.filter((h) => h.client === 'reader' && h.result).length >= 5, 'the reader got (almost) no answers: the scenario proves nothing');
    },
  },
  {
    name: 'defect-4-session-moved-late-write',
    about: 'a write still in flight from the server a session left is refused (SESSIONMOVED), never applied after a newer write',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3 });
      const l = w.leader()!;
      const [f1, f2] = others(w, l) as [number, number];
      const c = pinned(w, 'c', [f1, f2], 4000);
      w.net.block('c', `s${f2}`);
      await until(w, () => connected(c) && c.server?.startsWith(w.slot(f1).host.ip) === true, 5000, 'c to connect to the first follower');
      w.net.unblock('c', `s${f2}`);
      await settle(w, c.create('/m', Buffer.from('w0'), CreateMode.PERSISTENT), 2000, 'create /m');
      // The first follower's link to the leader turns slow: w1 is forwarded, and takes its time.
      w.net.setProfile(`s${f1}`, `s${l}`, { delayMinMs: 400, delayMaxMs: 400, longDelayP: 0, longDelayMs: 0 });
      void c.setData('/m', Buffer.from('w1'), -1);
      await elapse(w, 20);
      w.net.resetLink('c', `s${f1}`);
      w.net.block('c', `s${f1}`);
      await until(w, () => connected(c) && c.server?.startsWith(w.slot(f2).host.ip) === true, 3000, 'c to move to the second follower');
      const w2 = await settle(w, c.setData('/m', Buffer.from('w2'), -1), 2000, 'setData w2');
      check(w2.err === ErrorCode.OK, `w2 answered ${w2.err}`);
      await elapse(w, 1500);
      const value = w.slot(l).node!.stateView().getData('/m', { authIds: [] });
      const held = value.ok ? String(value.data ?? '') : `error ${value.err}`;
      check(held === 'w2', `/m holds ${JSON.stringify(held)}: the late w1 from the old server was applied after w2`);
    },
  },
  {
    name: 'defect-4-lagging-follower-revalidates',
    about: 'a session reattaching to a follower that has not applied its creation yet is revalidated by the leader, not answered as expired',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3 });
      const l = w.leader()!;
      const [f1, f2] = others(w, l) as [number, number];
      w.net.setProfile(`s${l}`, `s${f2}`, { delayMinMs: 2000, delayMaxMs: 2000, longDelayP: 0, longDelayMs: 0 });
      const c = pinned(w, 'c', [f1, f2], 4000);
      w.net.block('c', `s${f2}`);
      await until(w, () => connected(c), 5000, 'c to connect to the first follower');
      const sid = c.sessionId;
      w.net.unblock('c', `s${f2}`);
      w.net.resetLink('c', `s${f1}`);
      w.net.block('c', `s${f1}`);
      await until(w, () => c.state === 'connected' || c.state === 'expired', 3000, 'c to reattach to the lagging follower');
      check(c.state === 'connected' && c.sessionId === sid, `the lagging follower answered the live session 0x${sid.toString(16)} with ${c.state}`);
    },
  },
  {
    name: 'defect-4-silent-server-death',
    about: 'when a follower stops silently (no TCP reset), its clients move before their sessions expire and none expires',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3 });
      const recorder = new Recorder(() => w.sched.now);
      const closes: AppliedTxn[] = [];
      w.onApplied((t) => t.result.type === OpCode.closeSession && closes.push(t));
      const l = w.leader()!;
      const f = others(w, l)[0]!;
      const clients = [0, 1, 2].map((i) => pinned(w, `c${i}`, w.servers.map((s) => s.id), 600 + 200 * i, recorder));
      await until(w, () => clients.every(connected), 5000, 'clients to connect');
      // Make sure they are on the follower that will stop.
      for (const [i, c] of clients.entries()) {
        for (const s of others(w, f)) w.net.block(`c${i}`, `s${s}`);
        w.net.resetLink(`c${i}`, `s${l}`);
        for (const s of others(w, f, l)) w.net.resetLink(`c${i}`, `s${s}`);
      }
      await until(w, () => clients.every((c) => connected(c) && c.server?.startsWith(w.slot(f).host.ip) === true), 5000, 'clients to settle on the follower');
      // c0 can reach only the other follower, so at least one session moves to a follower (which
      // must revalidate it through the leader); which server the others pick depends on the seed.
      for (const [i] of clients.entries()) for (const s of others(w, f)) if (i !== 0 || s !== l) w.net.unblock(`c${i}`, `s${s}`);
      w.pauseServer(f); // SIGSTOP: no reset, no FIN, silence
      await elapse(w, 4000);
      const expired = clients.filter((c) => c.state === 'expired');
      check(expired.length === 0, `${expired.length} of 3 live sessions expired after their follower stopped silently`);
      const v = checkSessionExpiries(recorder, closes);
      check(v.length === 0, v.join('; '));
    },
  },
  {
    name: 'session-secret-follows-the-leader',
    about: 'every member takes the leader\'s session secret durably before it serves: a session made on the leader reattaches to another member after the leader crashes (power loss), and the restarted leader holds the same secret',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3 });
      const l = w.leader()!;
      const secretOn = (id: number) => w.slot(id).fs.readDurable('/data/session-secret')?.toString('latin1');
      const c = pinned(w, 'c', [l], 4000);
      await until(w, () => connected(c), 5000, 'c to connect to the leader');
      const sid = c.sessionId;
      const passwd = c.sessionPasswd;
      w.crashServer(l);
      // The same session, from a client that knows only the other members.
      const moved = pinned(w, 'c2', others(w, l), 4000, undefined, { id: sid, passwd });
      await until(w, () => moved.state === 'connected' || moved.state === 'expired', 4000, 'the session to reattach after the leader crashed');
      check(moved.state === 'connected' && moved.sessionId === sid, `a member refused session 0x${sid.toString(16)} after the leader crashed (${moved.state})`);
      w.startServer(l);
      await until(w, () => w.servers.every((s) => s.node !== undefined) && w.servers.every((s) => w.slot(s.id).node?.mode() !== 'looking'), 5000, 'the old leader to rejoin');
      const secrets = new Set(w.servers.map((s) => secretOn(s.id)));
      check(secrets.size === 1 && !secrets.has(undefined), `members hold ${secrets.size} different durable secrets`);
    },
  },
  {
    name: 'defect-5-wall-clock-jump',
    about: 'a wall-clock step on the leader expires no session (expiry runs on the monotonic clock)',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3 });
      const clients = [0, 1, 2].map((i) => pinned(w, `c${i}`, w.servers.map((s) => s.id), 1000));
      await until(w, () => clients.every(connected), 5000, 'clients to connect');
      const l = w.leader()!;
      w.slot(l).host.hw.jumpWall(3_600_000);
      await elapse(w, 1500);
      w.slot(l).host.hw.jumpWall(-7_200_000);
      await elapse(w, 1500);
      const expired = clients.filter((c) => c.state === 'expired');
      check(expired.length === 0, `${expired.length} of 3 sessions expired when the leader's wall clock jumped`);
    },
  },
  {
    name: 'defect-6-one-sided-link-loss',
    about: 'when the leader drops a follower it cannot hear, the follower learns at once (a reset), not a syncLimit later',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3 });
      const l = w.leader()!;
      const f = others(w, l)[0]!;
      const c = pinned(w, 'c', [f], 8000);
      await until(w, () => connected(c), 5000, 'c to connect');
      w.net.block(`s${f}`, `s${l}`); // the leader hears nothing from f; f still hears the leader
      // The leader drops f after syncLimit ticks without a word from it; f must notice then, not
      // (still hearing nothing new) only after its own syncLimit.
      const syncLimit = w.cluster.syncLimit;
      await until(w, () => w.slot(f).node?.mode() !== 'follower', (syncLimit + 3) * w.tickMs, `s${f} to notice the leader dropped it`);
      w.net.unblock(`s${f}`, `s${l}`);
      await createEventually(w, c, '/after', 5000);
    },
  },
  {
    name: 'defect-7-reaper-requests',
    about: 'several containers reaped at once all complete; nothing stays queued in the write path',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3, server: { containerCheckIntervalMs: 100 } });
      const c = pinned(w, 'c', w.servers.map((s) => s.id), 4000);
      await until(w, () => connected(c), 5000, 'c to connect');
      for (const n of [1, 2, 3, 4]) {
        await settle(w, c.create(`/box${n}`, null, CreateMode.CONTAINER), 2000, 'create container');
        await settle(w, c.create(`/box${n}/x`, null, CreateMode.PERSISTENT), 2000, 'create child');
        await settle(w, c.delete(`/box${n}/x`, -1), 2000, 'delete child');
      }
      await elapse(w, 1000);
      for (const s of w.running()) {
        const left = [1, 2, 3, 4].filter((n) => s.node!.stateView().tree.has(`/box${n}`));
        check(left.length === 0, `s${s.id} still holds containers ${left.join(', ')}`);
        check(s.node!.outstandingRequests() === 0, `s${s.id} has ${s.node!.outstandingRequests()} requests stuck in its write path`);
      }
    },
  },
  {
    name: 'defect-7-log-pushback',
    about: 'more log bytes waiting for fsync than the limit slows clients down instead of crashing the server',
    run: async (seed) => {
      const w = await formed({ seed, nodes: 3, server: { maxPendingLogBytes: 8192 } });
      for (const s of w.servers) s.fs.setLatency({ syncLatencyMs: { min: 50, max: 100 } });
      const c = pinned(w, 'c', [w.leader()!], 10_000);
      await until(w, () => connected(c), 5000, 'c to connect');
      const writes = Array.from({ length: 60 }, (_, i) => c.create(`/big${i}`, Buffer.alloc(1000, i), CreateMode.PERSISTENT));
      const results = await settle(w, Promise.all(writes), 30_000, '60 writes of 1000 bytes');
      const failed = results.filter((r) => r.err !== ErrorCode.OK).length;
      check(w.servers.every((s) => !s.exited), `a server exited: ${w.log.slice(-3).join('; ')}`);
      check(failed === 0, `${failed} of 60 writes failed`);
    },
  },
];
