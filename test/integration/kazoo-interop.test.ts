/**
 * A real kazoo Election candidate (Debian's python3-kazoo, a separate process) in the same
 * election as zk-elect candidates using named handoff, priority and preempt. kazoo knows none of
 * it: it sorts seats first as we do (it compares the text of `-?\d{10}`), waits behind them,
 * leads when its node is first, and is never a leader alongside one of ours.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LeaderElection, type ElectionOptions } from '../../src/election/election.js';
import { joinPath } from '../../src/election/names.js';
import { ZkSession } from '../../src/election/session.js';
import { eventually, sleep } from '../../src/launcher/cli-process.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { ELECTION_EVENTS, Recorder } from '../support/recorder.js';
import { TOPOLOGIES, uniquePath, watchesByPath } from '../support/zk.js';
import { requirePart } from '../support/require-part.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.resolve(import.meta.dirname, '../support/kazoo_candidate.py');
const haveKazoo = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import kazoo'], { timeout: 10_000 }).status === 0;
requirePart(haveKazoo, `kazoo for ${PYTHON}`, 'apt-get install -y python3-kazoo');

interface KazooEvent {
  event: string;
  ts: number;
  [k: string]: unknown;
}

class KazooCandidate {
  readonly events: KazooEvent[] = [];
  readonly child: ChildProcess;
  stderr = '';
  constructor(hosts: string, electionPath: string, id: string) {
    this.child = spawn(PYTHON, [SCRIPT, hosts, electionPath, id], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        this.events.push(JSON.parse(buf.slice(0, nl)) as KazooEvent);
        buf = buf.slice(nl + 1);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
  }
  named(event: string): KazooEvent[] {
    return this.events.filter((e) => e.event === event);
  }
  send(cmd: string): void {
    this.child.stdin!.write(cmd + '\n');
  }
  waitFor(event: string, timeoutMs: number, after = 0): Promise<KazooEvent> {
    return eventually(() => this.events.find((e) => e.event === event && e.ts >= after), timeoutMs, `kazoo "${event}" (stderr: ${this.stderr.slice(-500)})`);
  }
  async contenders(): Promise<string[]> {
    const t = Date.now();
    this.send('contenders');
    return (await this.waitFor('contenders', 5000, t)).ids as string[];
  }
  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

interface Cand {
  readonly id: string;
  readonly session: ZkSession;
  readonly election: LeaderElection;
  readonly rec: Recorder;
}

describe('zk-elect and kazoo in one election', () => {
  for (const topology of TOPOLOGIES.filter((t) => t.nodes === 1)) {
    describe(`against ${topology.name}`, () => {
      let zk: ZkEnsemble;
      const cands: Cand[] = [];
      const kazoos: KazooCandidate[] = [];

      before(async () => {
        zk = await topology.start({});
      });
      after(async () => {
        for (const k of kazoos) k.stop();
        for (const c of cands) {
          await c.election.close().catch(() => undefined);
          await c.session.close();
        }
        await zk?.stop();
      });

      const cand = async (p: string, id: string, options: Omit<ElectionOptions, 'path' | 'id'> = {}) => {
        const session = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
        const election = new LeaderElection(session, { path: p, id, ...options });
        const c = { id, session, election, rec: new Recorder(election, [...ELECTION_EVENTS, 'handoff'], id) };
        cands.push(c);
        await election.join();
        return c;
      };

      /** Our candidates' leadership from their events, kazoo's from its elected/released lines: never two at once. */
      const assertNeverTwoLeaders = (ours: readonly Cand[], k: KazooCandidate) => {
        const spans: Array<{ id: string; from: number; to: number }> = [];
        for (const c of ours) {
          let from: number | undefined;
          for (const r of c.rec.log) {
            if (r.event === 'elected' && from === undefined) from = r.ts;
            else if ((r.event === 'resigned' || r.event === 'lost') && from !== undefined) {
              spans.push({ id: c.id, from, to: r.ts });
              from = undefined;
            }
          }
          if (from !== undefined) spans.push({ id: c.id, from, to: Infinity });
        }
        const kFrom = k.named('elected')[0]?.ts;
        if (kFrom !== undefined) spans.push({ id: 'kazoo', from: kFrom, to: k.named('released')[0]?.ts ?? Infinity });
        for (const a of spans) for (const b of spans) if (a.id !== b.id && a.from < b.to && b.from < a.to) assert.fail(`${a.id} led [${a.from}, ${a.to}) while ${b.id} led [${b.from}, ${b.to})`);
      };

      test('named handoff over a kazoo candidate, seats first for kazoo too; kazoo leads when first, ours wait; priority resumes after it', async () => {
        const p = uniquePath('kazoo');
        const L = await cand(p, 'L');
        await L.election.waitForLeadership({ timeoutMs: 5000 });
        const K = new KazooCandidate(zk.connectString, p, 'K');
        kazoos.push(K);
        const joined = await K.waitFor('joined', 30_000);
        const H = await cand(p, 'H', { priority: 5 });
        const X = await cand(p, 'X');
        await X.rec.waitFor('following', 5000);
        assert.deepEqual(await K.contenders(), ['L', 'K', 'H', 'X']);

        // 1. L hands over to H, over K's head: K's watch on L's node stays in place (it was not woken).
        const lNode = joinPath(p, L.election.nodeName!);
        const kSession = (await L.session.exists(joinPath(p, String(joined.node))))!.ephemeralOwner;
        assert.ok((await watchesByPath(zk)).get(lNode)?.has(kSession), 'kazoo watches its predecessor, L');
        await L.election.resign({ to: 'H' });
        await H.rec.waitFor('elected', 5000);
        await sleep(300);
        assert.ok((await watchesByPath(zk)).get(lNode)?.has(kSession), 'kazoo still watches L: nothing woke it');
        assert.deepEqual(await K.contenders(), ['H', 'L', 'K', 'H', 'X'], 'kazoo sorts the seat first (H holds two nodes)');

        // 2. L leaves: kazoo wakes, finds H's seat ahead of it and waits.
        await L.election.close();
        await sleep(500);
        assert.equal(K.named('elected').length, 0, 'kazoo waits behind the seat');

        // 3. H leaves: kazoo is first and leads; ours follow. A higher priority with preempt
        //    cannot move kazoo (it ignores requests): it waits.
        await H.election.close();
        await K.waitFor('elected', 10_000);
        const P = await cand(p, 'P', { priority: 9, preempt: true });
        await P.rec.waitFor('following', 5000);
        await sleep(500);
        assert.ok(!X.election.isLeader && !P.election.isLeader);
        assert.equal(await L.session.exists(joinPath(p, 'zk-elect.handoff-request')).catch(() => null), null, 'no request to a kazoo leader');

        // 4. kazoo releases: X is first and gives way to P, the higher priority.
        const t0 = Date.now();
        K.send('release');
        await K.waitFor('released', 10_000);
        await P.rec.waitFor('elected', 10_000, t0);
        assert.equal(X.rec.named('elected').length, 0, 'X gave way to P');
        assertNeverTwoLeaders([L, H, X, P], K);
      });
    });
  }
});
