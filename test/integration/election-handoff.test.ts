/**
 * Named handoff, priority, preempt, requests and metadata through the library, against real
 * ZooKeeper and our server. "Woken" is counted on the client (a candidate logs `woken` at debug
 * level whenever one of its watches fires) and checked on the server (`wchp`: the watches the
 * sleeping candidates set before the handoff are still in place, so none of them fired).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LeaderElection, type ElectionOptions } from '../../src/election/election.js';
import { HandoffError } from '../../src/election/errors.js';
import { joinPath } from '../../src/election/names.js';
import { requestHandoff } from '../../src/election/request.js';
import { ZkSession } from '../../src/election/session.js';
import { eventually, sleep } from '../../src/launcher/cli-process.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { captureLogger, type LogEntry } from '../support/capture-logger.js';
import { ELECTION_EVENTS, Recorder } from '../support/recorder.js';
import { ZkTcpProxy } from '../support/tcp-proxy.js';
import { TOPOLOGIES, uniquePath, watchesByPath } from '../support/zk.js';

interface Cand {
  readonly id: string;
  readonly session: ZkSession;
  readonly election: LeaderElection;
  readonly rec: Recorder;
  readonly log: LogEntry[];
}

const EVENTS = [...ELECTION_EVENTS, 'handoff'] as const;

/** Intervals in which each candidate believed it led (isLeader), from its own events. */
function assertNeverTwoLeaders(cands: readonly Cand[]): void {
  const spans: Array<{ id: string; from: number; to: number }> = [];
  for (const c of cands) {
    let from: number | undefined;
    for (const r of c.rec.log) {
      const leads = r.event === 'elected' || (r.event === 'reinstated' && (r.args[0] as { leader?: unknown }).leader !== undefined);
      if (leads && from === undefined) from = r.ts;
      else if ((r.event === 'resigned' || r.event === 'lost' || r.event === 'suspended') && from !== undefined) {
        spans.push({ id: c.id, from, to: r.ts });
        from = undefined;
      }
    }
    if (from !== undefined) spans.push({ id: c.id, from, to: Infinity });
  }
  for (const a of spans) for (const b of spans) if (a !== b && a.from < b.to && b.from < a.to && a.id !== b.id) {
    assert.fail(`${a.id} led [${a.from}, ${a.to}) while ${b.id} led [${b.from}, ${b.to})`);
  }
}

const woken = (c: Cand, since: number) => c.log.filter((e) => e.message === 'woken' && e.ts >= since);

for (const topology of TOPOLOGIES) {
  describe(`named handoff and priority against ${topology.name}`, () => {
    let zk: ZkEnsemble;
    let admin: ZkSession;
    const all: Cand[] = [];
    const proxies: ZkTcpProxy[] = [];

    /** A candidate; behind its own TCP proxy when `proxied`, so a test can cut it off. */
    async function cand(
      path: string,
      id: string,
      options: Omit<ElectionOptions, 'path' | 'id' | 'logger'> = {},
      sessionTimeoutMs = 4000,
      proxy?: ZkTcpProxy,
    ): Promise<Cand> {
      const session = await ZkSession.connect({ connect: proxy?.address ?? zk.connectString, sessionTimeoutMs });
      const { logger, entries } = captureLogger();
      const election = new LeaderElection(session, { path, id, logger, ...options });
      const c = { id, session, election, rec: new Recorder(election, EVENTS, id), log: entries };
      all.push(c);
      await election.join();
      return c;
    }

    before(async () => {
      zk = await topology.start({});
      admin = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
    });
    const proxyTo = async () => {
      const m = zk.members[0]!;
      const p = await ZkTcpProxy.start({ host: '127.0.0.1', port: m.clientPort });
      proxies.push(p);
      return p;
    };

    after(async () => {
      for (const p of proxies) await p.close();
      for (const c of all) {
        await c.election.close().catch(() => undefined);
        await c.session.close();
      }
      await admin?.close();
      await zk?.stop();
    });

    test('resign({ to }): the named candidate leads, nobody else wakes, the old leader waits right behind it', async () => {
      const path = uniquePath('named');
      const cs: Cand[] = [];
      for (const id of ['a', 'b', 'c', 'd', 'e']) cs.push(await cand(path, id));
      const [a, b, c, d, e] = cs as [Cand, Cand, Cand, Cand, Cand];
      const first = await a.election.waitForLeadership({ timeoutMs: 5000 });
      await e.rec.waitFor('following', 5000);
      await sleep(200);
      const watchesBefore = await watchesByPath(zk);
      const t0 = Date.now();
      await a.election.resign({ to: 'd' });
      const elected = await d.rec.waitFor('elected', 5000, t0);
      const leader = elected.args[0] as { token: bigint; seat: boolean; node: string };
      assert.ok(leader.seat, 'd leads on a seat');
      assert.ok(leader.token > first.token, `token ${leader.token} > ${first.token}`);
      assert.deepEqual(a.rec.named('handoff', t0).map((r) => (r.args[0] as { outcome: string }).outcome), ['taken']);
      await sleep(500);
      for (const x of [b, c, e]) {
        assert.deepEqual(woken(x, t0), [], `${x.id} was woken`);
        assert.deepEqual(x.rec.since(t0).map((r) => r.event), [], `${x.id} changed no state`);
      }
      const following = await a.rec.waitFor('following', 5000, t0);
      assert.deepEqual([(following.args[0] as { position: number }).position, (following.args[0] as { predecessor: { id: string } }).predecessor.id], [1, 'd']);
      assert.deepEqual(woken(d, t0).map((w) => w.path), [joinPath(path, `zk-elect.grant-for.${d.election.uuid}.json`)], 'd was woken by its grant only');
      // The server still holds the watches b and e set before: neither fired.
      const watchesAfter = await watchesByPath(zk);
      for (const [x, watched] of [[b, a], [e, d]] as const) {
        const node = joinPath(path, (await watched.election.candidates()).find((l) => l.id === watched.id)!.nodes!.at(-1)!);
        assert.ok(watchesBefore.get(node)?.has(x.session.sessionId), `${x.id} watched ${node} before`);
        assert.ok(watchesAfter.get(node)?.has(x.session.sessionId), `${x.id} still watches ${node}`);
      }
      assert.deepEqual((await a.election.candidates()).map((l) => l.id), ['d', 'a', 'b', 'c', 'e']);
      assertNeverTwoLeaders(cs);

      // d resigns the plain way: a is next, with a token above d's (it takes a seat of its own).
      const t1 = Date.now();
      await d.election.resign();
      const next = await a.rec.waitFor('elected', 5000, t1);
      assert.ok((next.args[0] as { token: bigint }).token > leader.token, 'fencing tokens keep growing after a seat led');
      await sleep(300);
      for (const x of [b, c]) assert.deepEqual(x.rec.since(t1).map((r) => r.event), [], `${x.id} changed no state`);
      assertNeverTwoLeaders(cs);
    });

    test('resign({ to }) to nobody, or to a target that does not answer: the queue decides', async () => {
      const path = uniquePath('fallback');
      const [a, b, c] = [await cand(path, 'a'), await cand(path, 'b', { handoffTimeoutMs: 800 }), await cand(path, 'c')];
      await a.election.waitForLeadership({ timeoutMs: 5000 });
      await c.rec.waitFor('following', 5000);
      await assert.rejects(b.election.resign({ to: 'c' }), HandoffError, 'only the leader can hand over');
      let t0 = Date.now();
      await a.election.resign({ to: 'nobody' });
      await b.rec.waitFor('elected', 5000, t0);
      assert.deepEqual(a.rec.named('handoff', t0).map((r) => (r.args[0] as { outcome: string }).outcome), ['no-target']);
      await a.rec.waitFor('following', 5000, t0);
      assert.deepEqual((await a.election.candidates()).map((l) => l.id), ['b', 'c', 'a'], 'a re-entered at the back');

      // c is cut off (its session lives on until it expires): the grant goes unanswered.
      const proxy = await proxyTo();
      const cut = await cand(path, 'cut', {}, 10_000, proxy);
      await cut.rec.waitFor('following', 5000);
      proxy.blackhole(true);
      t0 = Date.now();
      await b.election.resign({ to: 'cut' });
      const outcome = await b.rec.waitFor('handoff', 5000, t0);
      assert.equal((outcome.args[0] as { outcome: string }).outcome, 'timeout');
      await c.rec.waitFor('elected', 5000, t0);
      assert.equal(cut.rec.named('elected').length, 0);
      proxy.blackhole(false);
      proxy.cutAll();
      assertNeverTwoLeaders([a, b, c, cut]);
    });

    test('priority: a higher priority that joins leads next, on a graceful resign and after a crash; equal priorities keep order', async () => {
      const path = uniquePath('priority');
      const a = await cand(path, 'a');
      const b = await cand(path, 'b');
      const c = await cand(path, 'c');
      const h = await cand(path, 'h', { priority: 5 });
      await a.election.waitForLeadership({ timeoutMs: 5000 });
      await h.rec.waitFor('following', 5000);
      await sleep(100);
      let t0 = Date.now();
      await a.election.resign();
      await h.rec.waitFor('elected', 5000, t0);
      await sleep(300);
      assert.equal(b.rec.named('elected', t0).length, 0, 'b gave way without ever leading');
      assert.deepEqual(b.rec.named('handoff', t0).map((r) => (r.args[0] as { reason: string; outcome: string }).reason), ['priority']);
      assert.deepEqual(c.rec.since(t0).map((r) => r.event), [], 'c slept');
      assert.deepEqual((await b.election.candidates()).map((l) => [l.id, l.priority]), [['h', 5], ['b', 0], ['c', 0]]);

      // Equal priorities: g (5) joined after h (5), so after h the queue goes on first-come.
      const gProxy = await proxyTo();
      const g = await cand(path, 'g', { priority: 5 }, 2000, gProxy);
      await g.rec.waitFor('following', 5000);
      t0 = Date.now();
      await h.election.resign();
      await g.rec.waitFor('elected', 5000, t0);
      assert.equal(b.rec.named('elected', t0).length, 0);
      // A crash of g (its session expires): b is first and gives way to nobody, as all left are 0.
      const k = await cand(path, 'k', { priority: 9 });
      await k.rec.waitFor('following', 5000);
      t0 = Date.now();
      gProxy.blackhole(true); // g is cut off: it stops leading at its loss deadline, the server expires it later
      await g.rec.waitFor('lost', 5000, t0);
      await k.rec.waitFor('elected', 15_000, t0);
      assert.equal(b.rec.named('elected', t0).length, 0, 'b gave way to k');
      assertNeverTwoLeaders([a, b, c, h, g, k]);
    });

    test('preempt: a higher priority with preempt takes over at once', async () => {
      const path = uniquePath('preempt');
      const a = await cand(path, 'a');
      const b = await cand(path, 'b', { meta: { zone: 'z1' } });
      await a.election.waitForLeadership({ timeoutMs: 5000 });
      await b.rec.waitFor('following', 5000);
      await sleep(100); // events stamped in the same millisecond as t0 would count as after it
      const t0 = Date.now();
      const p = await cand(path, 'p', { priority: 3, preempt: true });
      await p.rec.waitFor('elected', 5000, t0);
      assert.deepEqual(a.rec.named('resigned', t0).length, 1);
      await sleep(300);
      assert.deepEqual(b.rec.since(t0).map((r) => r.event), [], 'b slept');
      assert.equal(await admin.exists(joinPath(path, 'zk-elect.handoff-request')), null, 'the request is gone');

      assertNeverTwoLeaders([a, b, p]);
    });

    test('requestHandoff from any client: the named candidate leads; unknown and current targets', async () => {
      const path = uniquePath('request');
      const a = await cand(path, 'a');
      const b = await cand(path, 'b', { meta: { zone: 'z1' } });
      const c = await cand(path, 'c');
      await a.election.waitForLeadership({ timeoutMs: 5000 });
      await c.rec.waitFor('following', 5000);
      await sleep(100);
      const t0 = Date.now();
      const r = await requestHandoff(admin, { path, to: 'c' });
      assert.equal(r.handedOver, true);
      assert.equal(r.leader.id, 'c');
      await c.rec.waitFor('elected', 5000, t0);
      assert.deepEqual(b.rec.since(t0).map((x) => x.event), [], 'b slept');
      assert.equal(await admin.exists(joinPath(path, 'zk-elect.handoff-request')), null, 'the request is gone');
      const toB = await requestHandoff(admin, { path, to: b.election.uuid });
      assert.deepEqual([toB.leader.id, toB.leader.meta], ['b', { zone: 'z1' }]);
      await assert.rejects(requestHandoff(admin, { path, to: 'nobody' }), HandoffError);
      const again = await requestHandoff(admin, { path, to: 'b' });
      assert.equal(again.handedOver, false, 'b already leads');
      assertNeverTwoLeaders([a, b, c]);
    });
  });
}
