/**
 * Named handoff under kill -9, at each step of the protocol (src/election/handoff.ts), with real
 * `zk-elect join` processes and a real `zk-elect handoff` requester, against Apache ZooKeeper and
 * our server. The leader L and the target T reach ZooKeeper through TCP proxies that hold their
 * traffic from one request on, so each process is killed exactly before (or just after) one step.
 *
 * In every case: no two processes ever believe they lead at once (from their own timestamped
 * events; a killed process's belief ends when it is killed), the candidates the handoff does not
 * concern are not woken (their debug log has no `woken` line), and the end state is the one the
 * doc comment promises.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CliProcess, sleep, type CliEvent } from '../../src/launcher/cli-process.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { ZkTcpProxy } from '../support/tcp-proxy.js';
import { OpCode } from '../support/zk-frames.js';
import { TOPOLOGIES, uniquePath } from '../support/zk.js';

// Short enough to keep the kill -9 cases quick, long enough for a machine under load.
const SESSION_MS = 4000;

class Cand {
  killedAt: number | undefined;
  private stderrMark = 0;
  private eventMark = 0;
  constructor(
    readonly id: string,
    readonly p: CliProcess,
  ) {}
  mark(): void {
    this.stderrMark = this.p.stderr.length;
    this.eventMark = this.p.events.length;
  }
  /** `woken` debug lines since the mark: a watch of this candidate fired. */
  woken(): string[] {
    return this.p.stderr
      .slice(this.stderrMark)
      .split('\n')
      .filter((l) => / debug: woken /.test(l));
  }
  eventsSinceMark(): CliEvent[] {
    return this.p.events.slice(this.eventMark);
  }
  kill(): void {
    this.killedAt = Date.now();
    this.p.signal('SIGKILL');
  }
  elections(after = 0): CliEvent[] {
    return this.p.events.filter((e) => e.event === 'elected' && e.ts >= after);
  }
}

/** Leadership intervals from each process's own events; they must not overlap. */
function assertNeverTwoLeaders(cands: readonly Cand[]): void {
  const spans: Array<{ id: string; from: number; to: number }> = [];
  for (const c of cands) {
    let from: number | undefined;
    for (const e of c.p.events) {
      if ((e.event === 'elected' || (e.event === 'reinstated' && e.role === 'leader')) && from === undefined) from = e.ts;
      else if ((e.event === 'resigned' || e.event === 'lost' || e.event === 'suspended') && from !== undefined) {
        spans.push({ id: c.id, from, to: e.ts });
        from = undefined;
      }
    }
    if (from !== undefined) spans.push({ id: c.id, from, to: c.killedAt ?? Infinity });
  }
  for (const a of spans) {
    for (const b of spans) {
      if (a.id !== b.id && a.from < b.to && b.from < a.to) assert.fail(`${a.id} led [${a.from}, ${a.to}) while ${b.id} led [${b.from}, ${b.to})`);
    }
  }
}

const isGrantCreate = (op: number, path: string | undefined) => op === OpCode.create && /\/zk-elect\.grant-for\.[^/]+\.json$/.test(path ?? '');
const isSeatCreate = (op: number, path: string | undefined) => op === OpCode.create && /__lock__-\d{10}$/.test(path ?? '');
const isMarkerWrite = (op: number, path: string | undefined) => op === OpCode.setData && (path ?? '').endsWith('/zk-elect.last-seat');

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms))]);
}

for (const topology of TOPOLOGIES.filter((t) => t.nodes === 1)) {
  describe(`named handoff under kill -9 against ${topology.name}`, () => {
    let zk: ZkEnsemble;
    const procs: CliProcess[] = [];
    const proxies: ZkTcpProxy[] = [];

    before(async () => {
      zk = await topology.start({});
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      for (const p of proxies) await p.close();
      await zk?.stop();
    });

    const proxy = async () => {
      const p = await ZkTcpProxy.start({ host: '127.0.0.1', port: zk.members[0]!.clientPort });
      proxies.push(p);
      return p;
    };
    const join = async (path: string, id: string, connect: string, first: 'elected' | 'following', sessionMs = SESSION_MS) => {
      const p = new CliProcess(['join', '--json', '-c', connect, '-p', path, '--id', id, '--session-timeout', String(sessionMs), '--log-level', 'debug']);
      procs.push(p);
      await p.waitForEvent(first, 60_000);
      return new Cand(id, p);
    };
    const handoff = (path: string, to: string) => {
      const p = new CliProcess(['handoff', '--json', '-c', zk.connectString, '-p', path, '--to', to, '--timeout', '40000']);
      procs.push(p);
      return p;
    };
    const status = async (path: string) => {
      const p = new CliProcess(['status', '--json', '-c', zk.connectString, '-p', path]);
      const { code } = await p.exited;
      assert.equal(code, 0);
      return p.events[0] as unknown as { leader: { id: string; token: number } | null; candidates: Array<{ id: string }> };
    };

    /**
     * L leads, then S, T, U queue; L and T go through proxies. A client whose requests are held
     * loses its connection after 2/3 of its session timeout (the C client's receive timeout), so
     * a test that holds T for longer gives T a longer session (`tSessionMs`).
     */
    async function fourCandidates(label: string, tSessionMs = SESSION_MS) {
      const path = uniquePath(label);
      const [pL, pT] = [await proxy(), await proxy()];
      const L = await join(path, 'L', pL.address, 'elected');
      const S = await join(path, 'S', zk.connectString, 'following');
      const T = await join(path, 'T', pT.address, 'following', tSessionMs);
      const U = await join(path, 'U', zk.connectString, 'following');
      await sleep(200);
      for (const c of [L, S, T, U]) c.mark();
      return { path, pL, pT, L, S, T, U, all: [L, S, T, U] };
    }

    test('L killed before its grant reaches ZooKeeper: S leads by the queue, then hands over to T (the request stays)', async () => {
      const { path, pL, L, S, T, U, all } = await fourCandidates('crash-l-before-grant');
      const held = pL.holdRequest(isGrantCreate);
      const h = handoff(path, 'T');
      const hold = await within(held, 20_000, "L's grant");
      L.kill();
      hold.cut();
      await T.p.waitForEvent('elected', 40_000);
      assert.equal((await h.exited).code, 0, h.stderr);
      assert.ok(S.elections().length === 1 && S.p.named('handoff').at(-1)?.outcome === 'taken', 'S led by the queue, then handed over');
      assert.equal((await status(path)).leader?.id, 'T');
      assert.deepEqual(U.woken(), [], 'U slept');
      assertNeverTwoLeaders(all);
    });

    test('L killed after its grant, T takes the seat while L\'s session lives: T leads; S, woken by L\'s expiry, follows T', async () => {
      const { path, pT, L, S, T, U, all } = await fourCandidates('crash-l-after-grant');
      const held = pT.holdRequest(isSeatCreate);
      const h = handoff(path, 'T');
      const hold = await within(held, 20_000, "T's seat");
      L.kill();
      hold.release();
      const elected = await T.p.waitForEvent('elected', 20_000);
      assert.ok(elected.ts < L.killedAt! + SESSION_MS, 'T led before L\'s session could expire');
      assert.equal((await h.exited).code, 0, h.stderr);
      const f = await S.p.waitForEvent('following', 30_000, L.killedAt);
      assert.equal(f.leader, 'T');
      assert.equal(S.elections().length, 0, 'S never led');
      assert.deepEqual(U.woken(), [], 'U slept');
      assertNeverTwoLeaders(all);
    });

    test('L killed after its grant, T tries the seat only after L\'s session expired: T refuses the stale grant', async () => {
      const { path, pT, L, S, T, U, all } = await fourCandidates('crash-l-stale-grant', 30_000);
      const held = pT.holdRequest(isSeatCreate);
      const h = handoff(path, 'T');
      const hold = await within(held, 20_000, "T's seat");
      L.kill();
      await S.p.waitForEvent('elected', 30_000); // L's session expired: S leads by the queue
      hold.release();
      // S answers the pending request (T may take S's grant), or gives up after its handoff timeout.
      const code = (await h.exited).code;
      await sleep(500);
      const final = await status(path);
      assert.equal(final.leader?.id, code === 0 ? 'T' : 'S', `requester exit ${code}, leader ${final.leader?.id}`);
      assert.ok(T.p.stderr.includes('grant not taken'), `T checked the grant after creating the seat and let it go; T's log: ${T.p.stderr.split('\n').filter((l) => / (info|warn|error): /.test(l)).join('\n')}`);
      assert.deepEqual(U.woken(), [], 'U slept');
      assertNeverTwoLeaders(all);
    });

    test('T killed before taking the seat: L gives up at T\'s expiry or its timeout and leads again; the requester exits 1', async () => {
      const { path, pT, L, S, T, all } = await fourCandidates('crash-t-before-seat');
      const held = pT.holdRequest(isSeatCreate);
      const h = handoff(path, 'T');
      const hold = await within(held, 20_000, "T's seat");
      T.kill();
      hold.cut();
      const again = await L.p.waitForEvent('elected', 30_000, T.killedAt);
      assert.equal((await h.exited).code, 1);
      assert.match(h.stderr, /did not happen/);
      assert.ok(['target-gone', 'timeout'].includes(String(L.p.named('handoff').at(-1)?.outcome)));
      assert.equal(again.token, L.elections()[0]!.token, 'no seat was taken: L leads on its own node again');
      assert.deepEqual(S.woken(), [], 'S slept');
      // (On a loaded machine a 2 s session may be suspended and reinstated: that is not a wake-up.)
      assert.deepEqual(S.eventsSinceMark().filter((e) => e.event !== 'suspended' && e.event !== 'reinstated'), []);
      assertNeverTwoLeaders(all);
    });

    test('T killed after taking the seat, before its check: the seat goes with T; L leads again on a seat of its own, with a larger token', async () => {
      const { path, pT, L, S, T, all } = await fourCandidates('crash-t-after-seat');
      const held = pT.holdRequest(isMarkerWrite);
      const h = handoff(path, 'T');
      const hold = await within(held, 20_000, "T's marker write");
      hold.forward(1); // the seat and the marker are written; the check is held
      await sleep(100);
      T.kill();
      hold.cut();
      const again = await L.p.waitForEvent('elected', 30_000, T.killedAt);
      assert.equal((await h.exited).code, 1);
      assert.equal(T.elections().length, 0, 'T never led');
      assert.ok(again.token! > L.elections()[0]!.token!, `token ${again.token} > ${L.elections()[0]!.token}: the seat T took is newer than L's node`);
      assert.match(String(again.node), /__lock__-\d{10}$/, 'L leads on a seat of its own');
      assert.deepEqual(S.woken(), [], 'S slept');
      assertNeverTwoLeaders(all);
    });

    test('T killed after it leads: L, waiting behind the seat, leads next with a larger token; S sleeps', async () => {
      const { path, L, S, T, all } = await fourCandidates('crash-t-after-lead');
      const h = handoff(path, 'T');
      assert.equal((await h.exited).code, 0, h.stderr);
      const tLead = T.elections()[0]!;
      T.kill();
      const next = await L.p.waitForEvent('elected', 30_000, T.killedAt);
      assert.ok(next.token! > tLead.token!, `token ${next.token} > ${tLead.token}`);
      assert.deepEqual(S.woken(), [], 'S slept');
      assert.deepEqual((await status(path)).candidates.map((c) => c.id), ['L', 'S', 'U']);
      assertNeverTwoLeaders(all);
    });

    test('L killed after the handoff: S wakes to follow T; T keeps the lead', async () => {
      const { path, L, S, T, U, all } = await fourCandidates('crash-l-after-handoff');
      const h = handoff(path, 'T');
      assert.equal((await h.exited).code, 0, h.stderr);
      L.kill();
      const f = await S.p.waitForEvent('following', 30_000, L.killedAt);
      assert.equal(f.leader, 'T');
      assert.equal(T.p.named('lost').length + T.p.named('resigned').length, 0, 'T kept the lead');
      assert.equal((await status(path)).leader?.id, 'T');
      assert.deepEqual(U.woken(), [], 'U slept');
      assertNeverTwoLeaders(all);
    });
  });
}

