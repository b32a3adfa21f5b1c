/**
 * `zk-elect demo`: a ZooKeeper ensemble, three candidates, and the failures that matter,
 * with each re-election timed. Until zk-elect's own cluster lands, the ensemble is Apache
 * ZooKeeper from a local install (Debian's `zookeeper` package or ZOOKEEPER_HOME).
 */
import { startZooKeeper, type ZkEnsemble, type ZkMember } from '../harness/apache-zookeeper.js';
import { CliProcess, type CliEvent } from '../harness/cli-process.js';

export interface DemoOptions {
  candidates: number;
  sessionTimeout: number;
  keep: boolean;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const leaderOf = (procs: CliProcess[]) => procs.find((p) => (p.named('elected').at(-1)?.ts ?? -1) > (p.named('lost').at(-1)?.ts ?? -1) && p.child.exitCode === null);

export async function demoCommand(opts: DemoOptions): Promise<void> {
  say('Starting a 3-node ZooKeeper ensemble on loopback...');
  const zk = await startZooKeeper({ nodes: 3, controllable: true });
  const procs: CliProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await zk.stop();
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(0)));
  try {
    say(`Ensemble up at ${zk.connectString} (${zk.source}); ZooKeeper leader is server ${(await zk.leader())?.id ?? '?'}.`);
    const path = `/demo/election-${process.pid}`;
    for (let i = 1; i <= opts.candidates; i++) {
      const p = new CliProcess(['join', '--json', '-c', zk.connectString, '-p', path, '--id', `candidate-${i}`, '--session-timeout', String(opts.sessionTimeout)]);
      procs.push(p);
      await p.waitFor((e) => e.event === 'elected' || e.event === 'following', 20_000, 'a first position');
    }
    let leader = leaderOf(procs)!;
    say(`${opts.candidates} candidates joined ${path}; ${idOf(leader)} leads with fencing token ${tokenOf(leader.named('elected').at(-1)!)}.`);

    // 1. Kill the ZooKeeper member the election leader talks to: the client fails over, keeps its session and its leadership.
    const member = await memberOf(zk, leader);
    const t1 = Date.now();
    say(`\nkill -9 ZooKeeper server ${member.id} (pid ${member.pid}), which serves ${idOf(leader)}...`);
    await member.kill('SIGKILL');
    const back = await leader.waitFor((e) => (e.event === 'reinstated' || e.event === 'elected') && e.ts >= t1, opts.sessionTimeout * 3, 'reinstated');
    const moved = procs.filter((p) => p !== leader && p.events.some((e) => e.ts >= t1)).map(idOf);
    say(`  ${idOf(leader)} failed over and still leads after ${back.ts - t1} ms (${back.event}); other candidates that changed state: ${moved.length ? moved.join(', ') : 'none'}.`);
    await member.start();
    say(`  server ${member.id} restarted and rejoined the ensemble.`);

    // 2. Crash the election leader: the successor waits for the server to expire its session.
    const t2 = Date.now();
    const crashed = leader;
    say(`\nkill -9 the election leader ${idOf(crashed)} (pid ${crashed.pid})...`);
    crashed.signal('SIGKILL');
    const next = await waitForNewLeader(procs, t2, opts.sessionTimeout * 5);
    say(`  ${idOf(next.proc)} elected after ${next.event.ts - t2} ms (session timeout ${opts.sessionTimeout} ms), token ${tokenOf(next.event)}.`);

    // 3. Stop the leader gracefully: it deletes its node, the successor takes over at once.
    leader = next.proc;
    const t3 = Date.now();
    say(`\nCtrl-C (SIGINT) to the leader ${idOf(leader)}...`);
    leader.signal('SIGINT');
    const third = await waitForNewLeader(procs, t3, opts.sessionTimeout * 5);
    say(`  ${idOf(third.proc)} elected after ${third.event.ts - t3} ms, token ${tokenOf(third.event)}.`);

    if (opts.keep) {
      say(`\nStill running: ZK_CONNECT=${zk.connectString} zk-elect status -p ${path}   (Ctrl-C to stop)`);
      await new Promise(() => undefined);
    }
  } finally {
    say('\nStopping candidates and ZooKeeper.');
    await stop();
  }
}

const idOf = (p: CliProcess) => String(p.events.find((e) => e.event === 'joining')?.id ?? p.pid);
const tokenOf = (e: CliEvent) => String(e.token);

async function memberOf(zk: ZkEnsemble, p: CliProcess): Promise<ZkMember> {
  const session = String(p.events.find((e) => e.event === 'joining')?.session ?? '');
  const { fourLetterWord } = await import('../harness/apache-zookeeper.js');
  for (const m of zk.members) {
    const cons = await fourLetterWord(m.address, 'cons').catch(() => '');
    if (cons.includes(`sid=0x${session}`)) return m;
  }
  return zk.members[0]!;
}

async function waitForNewLeader(procs: CliProcess[], since: number, timeoutMs: number): Promise<{ proc: CliProcess; event: CliEvent }> {
  return Promise.any(procs.filter((p) => p.child.exitCode === null).map((p) => p.waitForEvent('elected', timeoutMs, since).then((event) => ({ proc: p, event }))));
}
