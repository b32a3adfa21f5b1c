/**
 * The `zk-elect` CLI as users run it: real processes, real signals, real ZooKeeper
 * (standalone and a 3-node ensemble, started by the harness).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ZkSession } from '../../src/election/session.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { CLI, CliProcess, eventually, sleep } from '../../src/launcher/cli-process.js';
import { isAlive, TOPOLOGIES, uniquePath } from '../support/zk.js';

function joinArgs(zk: ZkEnsemble, path: string, id: string, sessionTimeoutMs: number): string[] {
  return ['join', '--json', '-c', zk.connectString, '-p', path, '--id', id, '--session-timeout', String(sessionTimeoutMs)];
}

/** Starts candidates one after another, each once it has reported its first position. */
async function startCandidates(zk: ZkEnsemble, path: string, count: number, sessionTimeoutMs: number, procs: CliProcess[]): Promise<CliProcess[]> {
  const started: CliProcess[] = [];
  for (let i = 0; i < count; i++) {
    const p = new CliProcess(joinArgs(zk, path, `cand-${i}`, sessionTimeoutMs));
    procs.push(p);
    started.push(p);
    await p.waitFor((e) => e.event === 'elected' || e.event === 'following', 20_000, 'a first position');
  }
  return started;
}

for (const topology of TOPOLOGIES) {
  describe(`zk-elect CLI against ${topology.name}`, () => {
    let zk: ZkEnsemble;
    const procs: CliProcess[] = [];

    before(async () => {
      zk = await topology.start({});
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      await zk?.stop();
    });

    test('five candidates: exactly one leader, in first-come order', async () => {
      const path = uniquePath('five');
      const five = await startCandidates(zk, path, 5, 4000, procs);
      await sleep(300);
      const leaders = five.filter((p) => p.named('elected').length > 0);
      assert.equal(leaders.length, 1, 'exactly one process reports elected');
      assert.equal(leaders[0], five[0], 'the first to join leads');
      five.slice(1).forEach((p, i) => {
        const f = p.named('following');
        assert.equal(f.length, 1, `cand-${i + 1} reports one following`);
        assert.equal(f[0]!.position, i + 1);
        assert.equal(f[0]!.predecessor, `cand-${i}`, 'each watches only its immediate predecessor');
        assert.equal(f[0]!.leader, 'cand-0');
      });

      const status = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, [CLI, 'status', '--json', '-c', zk.connectString, '-p', path], (err, stdout) => (err ? reject(err) : resolve(stdout))),
      );
      const parsed = JSON.parse(status) as { leader: { id: string; token: number }; candidates: Array<{ id: string }> };
      assert.deepEqual(
        parsed.candidates.map((c) => c.id),
        ['cand-0', 'cand-1', 'cand-2', 'cand-3', 'cand-4'],
      );
      assert.equal(parsed.leader.id, 'cand-0');
      assert.equal(parsed.leader.token, five[0]!.named('elected')[0]!.token);

      for (const p of five) p.signal('SIGINT');
      const exits = await Promise.all(five.map((p) => p.exited));
      assert.deepEqual(
        exits.map((e) => e.code),
        [0, 0, 0, 0, 0],
      );
    });

    test('SIGINT of the leader: prompt handoff and exit 0', async () => {
      const path = uniquePath('sigint');
      // A 10 s session: a handoff that waited for expiry would take at least that long.
      const [leader, next, third] = await startCandidates(zk, path, 3, 10_000, procs);
      const thirdBefore = third!.events.length;
      const t0 = Date.now();
      leader!.signal('SIGINT');
      const elected = await next!.waitForEvent('elected', 8000, t0);
      const handoffMs = elected.ts - t0;
      assert.ok(handoffMs < 3000, `handoff took ${handoffMs} ms, far less than the 10 s session timeout`);
      assert.equal((await leader!.exited).code, 0);
      assert.ok(leader!.named('resigned').length === 1, 'the leader reports that it resigned');
      assert.ok(elected.token! > leader!.named('elected')[0]!.token!, 'the fencing token increases');
      await sleep(300);
      assert.deepEqual(third!.events.slice(thirdBefore), [], 'the third candidate was not woken');
      next!.signal('SIGINT');
      third!.signal('SIGINT');
    });

    test('kill -9 of the leader: the successor is elected once the session expires; nobody else moves', async () => {
      const path = uniquePath('kill9');
      const sessionTimeoutMs = 2000;
      const [leader, next, third] = await startCandidates(zk, path, 3, sessionTimeoutMs, procs);
      const thirdBefore = third!.events.length;
      const t0 = Date.now();
      leader!.signal('SIGKILL');
      const elected = await next!.waitForEvent('elected', sessionTimeoutMs + 15_000, t0);
      const waitedMs = elected.ts - t0;
      // The server must expire the session first: the handoff cannot be much faster than the timeout.
      assert.ok(waitedMs >= sessionTimeoutMs * 0.5, `successor elected after ${waitedMs} ms, before the ${sessionTimeoutMs} ms session could expire`);
      assert.ok(waitedMs <= sessionTimeoutMs + 10_000, `successor elected after ${waitedMs} ms`);
      await sleep(500);
      assert.deepEqual(third!.events.slice(thirdBefore), [], 'the third candidate changed no state');
      next!.signal('SIGINT');
      third!.signal('SIGINT');
    });

    test('run: the command and its grandchildren die on loss; ZK_ELECT_TOKEN strictly increases', async () => {
      const path = uniquePath('run');
      const dir = mkdtempSync(join(tmpdir(), 'zk-elect-run-'));
      try {
        // The grandchild ignores SIGTERM, so only the SIGKILL of the whole group after --grace ends it.
        const script = join(dir, 'leader-job.sh');
        writeFileSync(
          script,
          `#!/bin/sh
echo "$ZK_ELECT_TOKEN $ZK_ELECT_ID $$" >> "${dir}/starts"
(trap '' TERM; exec sleep 300) &
echo "$!" >> "${dir}/grandchildren"
wait
`,
          { mode: 0o755 },
        );
        const runArgs = (id: string) => ['run', '--json', '-c', zk.connectString, '-p', path, '--id', id, '--session-timeout', '4000', '--grace', '500', '--', script];
        const a = new CliProcess(runArgs('run-a'));
        procs.push(a);
        await a.waitForEvent('started', 20_000);
        const b = new CliProcess(runArgs('run-b'));
        procs.push(b);
        await b.waitForEvent('following', 20_000);

        const admin = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000 });
        try {
          const starts = () =>
            readFileSync(join(dir, 'starts'), 'utf8')
              .trim()
              .split('\n')
              .map((l) => l.split(' '));
          const grandchildren = () => readFileSync(join(dir, 'grandchildren'), 'utf8').trim().split('\n').map(Number);
          // Three handoffs: each time, delete the current leader's node (the way an operator or a
          // session expiry would take it) and check its whole process group is gone.
          let expectedStarts = 1;
          for (let round = 0; round < 3; round++) {
            await eventually(() => starts().length === expectedStarts && grandchildren().length === expectedStarts, 10_000, `start #${expectedStarts}`);
            const [token, id, childPid] = starts().at(-1)!;
            const grandchild = grandchildren().at(-1)!;
            assert.ok(isAlive(Number(childPid)) && isAlive(grandchild), 'the leader job and its grandchild run while leading');
            const leaderProc = id === 'run-a' ? a : b;
            const t0 = Date.now();
            const children = await admin.getChildren(path);
            const leaderNode = children.sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)))[0]!;
            await admin.remove(`${path}/${leaderNode}`);
            await leaderProc.waitForEvent('lost', 10_000, t0);
            await eventually(() => !isAlive(Number(childPid)) && !isAlive(grandchild), 10_000, 'the old job and its grandchild to die');
            expectedStarts += 1;
            await eventually(() => starts().length === expectedStarts, 15_000, 'the next leader to start its job');
            const [nextToken, nextId] = starts().at(-1)!;
            assert.notEqual(nextId, id, 'leadership moved to the other process');
            assert.ok(BigInt(nextToken!) > BigInt(token!), `token ${nextToken} > ${token}`);
          }
        } finally {
          await admin.close();
        }
        a.signal('SIGTERM');
        b.signal('SIGTERM');
        assert.equal((await a.exited).code, 0);
        assert.equal((await b.exited).code, 0);
        for (const pid of readFileSync(join(dir, 'grandchildren'), 'utf8').trim().split('\n').map(Number)) {
          await eventually(() => !isAlive(pid), 5000, `grandchild ${pid} to be gone after shutdown`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('run + handoff: the old leader\'s command has stopped before the target starts its own', async () => {
      const path = uniquePath('run-handoff');
      const dir = mkdtempSync(join(tmpdir(), 'zk-elect-run-handoff-'));
      try {
        const script = join(dir, 'job.sh');
        // Takes a while to stop after SIGTERM, as real work does.
        writeFileSync(
          script,
          `#!/bin/sh
echo "start $ZK_ELECT_ID $(date +%s%N) $ZK_ELECT_TOKEN" >> "${dir}/log"
trap 'sleep 0.3; echo "stop $ZK_ELECT_ID $(date +%s%N)" >> "${dir}/log"; exit 0' TERM
while :; do sleep 0.05; done
`,
          { mode: 0o755 },
        );
        const runArgs = (id: string) => ['run', '--json', '-c', zk.connectString, '-p', path, '--id', id, '--session-timeout', '4000', '--grace', '3000', '--', script];
        const a = new CliProcess(runArgs('job-a'));
        procs.push(a);
        await a.waitForEvent('started', 20_000);
        const b = new CliProcess(runArgs('job-b'));
        procs.push(b);
        await b.waitForEvent('following', 20_000);
        const h = new CliProcess(['handoff', '--json', '-c', zk.connectString, '-p', path, '--to', 'job-b']);
        procs.push(h);
        assert.equal((await h.exited).code, 0, h.stderr);
        await b.waitForEvent('started', 10_000);
        const log = () => readFileSync(join(dir, 'log'), 'utf8').trim().split('\n').map((l) => l.split(' '));
        await eventually(() => log().length === 3, 5000, 'three log lines');
        const [startA, stopA, startB] = log();
        assert.deepEqual([startA![0], startA![1], stopA![0], stopA![1], startB![0], startB![1]], ['start', 'job-a', 'stop', 'job-a', 'start', 'job-b']);
        assert.ok(BigInt(startB![2]!) > BigInt(stopA![2]!), 'job-b started after job-a stopped');
        assert.ok(BigInt(startB![3]!) > BigInt(startA![3]!), 'the token grew');
        assert.equal(a.named('exited').at(-1)?.stoppedByUs, true);
        a.signal('SIGTERM');
        b.signal('SIGTERM');
        assert.equal((await a.exited).code, 0);
        assert.equal((await b.exited).code, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('run: the command exiting by itself resigns and passes its exit code on', async () => {
      const path = uniquePath('run-exit');
      const p = new CliProcess(['run', '--json', '-c', zk.connectString, '-p', path, '--', 'sh', '-c', 'exit 7']);
      procs.push(p);
      const exit = await p.exited;
      assert.equal(exit.code, 7);
      assert.equal(p.named('started').length, 1);
      const admin = await ZkSession.connect({ connect: zk.connectString });
      try {
        assert.deepEqual(await admin.getChildren(path), [], 'its node is gone');
      } finally {
        await admin.close();
      }
    });
  });
}

describe('zk-elect CLI: bad input', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number | null; stderr: string; ms: number }>((resolve) => {
      const t0 = Date.now();
      const child = execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, () => undefined);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr, ms: Date.now() - t0 }));
    });

  test('invalid election path: exit 2 with the reason', async () => {
    const r = await cli(['join', '-p', 'no-slash']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid ZooKeeper path "no-slash": it must start with "\/"/);
  });

  test('malformed --connect (flag and ZK_CONNECT): exit 2 with the reason', async () => {
    const r = await cli(['join', '-c', 'localhost']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid connect string "localhost"/);
    const e = await cli(['status'], { ZK_CONNECT: 'zk1:99999' });
    assert.equal(e.code, 2);
    assert.match(e.stderr, /port 99999 is out of range/);
  });

  test('bad numbers and unknown options: exit 2', async () => {
    assert.equal((await cli(['join', '--session-timeout', 'soon'])).code, 2);
    assert.equal((await cli(['join', '--loss-deadline', '1.5'])).code, 2);
    assert.equal((await cli(['join', '--frobnicate'])).code, 2);
    const r = await cli(['run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing required argument 'command'/);
  });

  test('named handoff, priority and metadata: bad arguments exit 2 with the reason', async () => {
    const missing = await cli(['handoff']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--to <id>' not specified/);
    assert.equal((await cli(['handoff', '--to', ''])).code, 2);
    assert.equal((await cli(['handoff', '--to', 'x', '--timeout', 'soon'])).code, 2);
    const prio = await cli(['join', '--priority', '-1']);
    assert.equal(prio.code, 2);
    assert.equal((await cli(['join', '--priority', '1000000'])).code, 2);
    const meta = await cli(['join', '--meta', 'novalue']);
    assert.equal(meta.code, 2);
    assert.match(meta.stderr, /--meta takes key=value/);
    const twice = await cli(['run', '--meta', 'a=1', '--meta', 'a=2', '--', 'true']);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /--meta a is given twice/);
    assert.equal((await cli(['join', '--meta', `big=${'x'.repeat(5000)}`])).code, 2);
  });

  test('handoff to a candidate that does not exist: exit 1 naming it', async () => {
    // Needs a server: the check is against the live candidates.
    const zk = await TOPOLOGIES[2]!.start({});
    try {
      const r = await cli(['handoff', '-c', zk.connectString, '-p', uniquePath('nobody'), '--to', 'ghost']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no live candidate "ghost"/);
    } finally {
      await zk.stop();
    }
  });

  test('unreachable servers: a bounded wait, then exit 1 naming the address', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await cli(['join', '-c', `127.0.0.1:${port}`, '--connect-timeout', '1500']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`could not connect to ZooKeeper at 127\\.0\\.0\\.1:${port} within 1500 ms`));
    assert.ok(r.ms < 1500 + 4000, `gave up after ${r.ms} ms`);
  });

  test('--help shows examples and exits 0', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'run', '--help'], (err, stdout) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, out: stdout })),
    );
    assert.equal(r.code, 0);
    assert.match(r.out, /Examples:/);
    assert.match(r.out, /ZK_ELECT_TOKEN/);
  });
});
