/**
 * `zk-elect demo`: a 3-node zk-elect cluster (no ZooKeeper install needed), three
 * candidates, and the failures that matter, with each re-election timed.
 */
import { CliProcess, type CliEvent } from '../launcher/cli-process.js';
import type { ZkMember } from '../launcher/types.js';
import { startZkElectCluster, type ZkElectCluster } from '../launcher/zk-elect-cluster.js';

export interface DemoOptions {
  candidates: number;
  sessionTimeout: number;
  keep: boolean;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const leaderOf = (procs: CliProcess[]) => procs.find((p) => (p.named('elected').at(-1)?.ts ?? -1) > (p.named('lost').at(-1)?.ts ?? -1) && p.child.exitCode === null);

export async function demoCommand(opts: DemoOptions): Promise<void> {
  say('Starting a 3-node zk-elect cluster on loopback...');
  const zk = await startZkElectCluster({ nodes: 3, controllable: true, withAdmin: true, control: true, serverArgs: ['--log-level', 'warn'] });
  const procs: CliProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await zk.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().finally(() => process.exit(0)));
  try {
    say(`Cluster up at ${zk.connectString}; its leader is server ${(await zk.leader())?.id ?? '?'}.`);
    const dashboard = zk.adminUrls.get(zk.members[0]!.id);
    if (dashboard) say(`Dashboard (live roles, zxids, znodes, elections): ${dashboard}#token=${zk.adminToken.token}`);
    const path = `/demo/election-${process.pid}`;
    for (let i = 1; i <= opts.candidates; i++) {
      const p = new CliProcess(['join', '--json', '-c', zk.connectString, '-p', path, '--id', `candidate-${i}`, '--session-timeout', String(opts.sessionTimeout)]);
      procs.push(p);
      await p.waitFor((e) => e.event === 'elected' || e.event === 'following', 20_000, 'a first position');
    }
    let leader = leaderOf(procs)!;
    say(`${opts.candidates} candidates joined ${path}; ${idOf(leader)} leads with fencing token ${tokenOf(leader.named('elected').at(-1)!)}.`);

    // 1. Kill the cluster's leader node: the cluster re-elects, clients fail over and keep their sessions.
    const member = (await zk.leader()) ?? (await memberOf(zk, leader));
    const t1 = Date.now();
    say(`\nkill -9 the cluster's leader node, server ${member.id} (pid ${member.pid})...`);
    await member.kill('SIGKILL');
    const back = await leader.waitFor((e) => (e.event === 'reinstated' || e.event === 'elected') && e.ts >= t1, opts.sessionTimeout * 3, 'reinstated');
    // Clients of every node reconnect while the cluster re-elects (suspended, then reinstated);
    // what must not happen is another candidate being elected.
    const moved = procs.filter((p) => p !== leader && p.events.some((e) => e.ts >= t1 && e.event === 'elected')).map(idOf);
    const newLeader = await zk.leader();
    say(`  server ${newLeader?.id ?? '?'} now leads the cluster.`);
    say(`  ${idOf(leader)} reconnected and confirmed it still leads the election after ${back.ts - t1} ms (${back.event}); other candidates elected meanwhile: ${moved.length ? moved.join(', ') : 'none'}.`);
    await member.start();
    say(`  server ${member.id} restarted and rejoined as a follower.`);

    // 2. Crash the election leader: the successor waits for the server to expire its session.
    const t2 = Date.now();
    const crashed = leader;
    say(`\nkill -9 the election leader ${idOf(crashed)} (pid ${crashed.pid})...`);
    crashed.signal('SIGKILL');
    const next = await waitForNewLeader(procs, crashed, t2, opts.sessionTimeout * 5);
    say(`  ${idOf(next.proc)} elected after ${next.event.ts - t2} ms (session timeout ${opts.sessionTimeout} ms), token ${tokenOf(next.event)}.`);

    // 3. Stop the leader gracefully: it deletes its node, the successor takes over at once.
    leader = next.proc;
    const t3 = Date.now();
    say(`\nCtrl-C (SIGINT) to the leader ${idOf(leader)}...`);
    leader.signal('SIGINT');
    const third = await waitForNewLeader(procs, leader, t3, opts.sessionTimeout * 5);
    say(`  ${idOf(third.proc)} elected after ${third.event.ts - t3} ms, token ${tokenOf(third.event)}.`);

    if (opts.keep) {
      say(`\nStill running: ZK_CONNECT=${zk.connectString} zk-elect status -p ${path}   (Ctrl-C to stop)`);
      await new Promise(() => undefined);
    }
  } finally {
    say('\nStopping the candidates and the cluster.');
    await stop();
  }
}

const idOf = (p: CliProcess) => String(p.events.find((e) => e.event === 'joining')?.id ?? p.pid);
const tokenOf = (e: CliEvent) => String(e.token);

/**
 * The member serving a candidate's session, from each member's admin server (`connections`,
 * session ids as decimal JSON numbers); the `cons` word is not enabled by default.
 */
async function memberOf(zk: ZkElectCluster, p: CliProcess): Promise<ZkMember> {
  const session = String(p.events.find((e) => e.event === 'joining')?.session ?? '');
  const decimal = /^[0-9a-f]+$/i.test(session) ? BigInt(`0x${session}`).toString() : undefined;
  for (const m of zk.members) {
    const admin = zk.adminUrls.get(m.id);
    if (!admin || decimal === undefined) continue;
    const text = await fetch(`${admin}commands/connections`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
    if (new RegExp(`"session_id":\\s*${decimal}\\b`).test(text)) return m;
  }
  return zk.members[0]!;
}

async function waitForNewLeader(procs: CliProcess[], old: CliProcess, since: number, timeoutMs: number): Promise<{ proc: CliProcess; event: CliEvent }> {
  return Promise.any(procs.filter((p) => p !== old && p.child.exitCode === null).map((p) => p.waitForEvent('elected', timeoutMs, since).then((event) => ({ proc: p, event }))));
}
