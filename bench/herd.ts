/**
 * A thundering herd, measured: N candidates in one election, zk-elect against kazoo's Lock, on
 * Apache ZooKeeper 3.8 and on zk-elect's server, in the same run.
 *
 *   npm run bench:herd [-- --candidates 1000 --processes 1,10 --handoffs 30
 *                          --servers apache,zk-elect --libs zk-elect,kazoo]
 *
 * Each setup spreads the candidates over P worker processes (bench/herd-worker.ts for
 * zk-elect, bench/kazoo-herd-worker.py for kazoo; one session per candidate): P = 1 is many
 * sessions in one process, P > 1 is separate processes. Per setup it prints
 * - the time for all N to join: from the join command until every candidate reported its node
 *   created and its predecessor watched (or itself elected);
 * - graceful handoff p50/p99: the leader resigns (zk-elect: resign({ requeue: true }); kazoo:
 *   release() then acquire() again) until the successor is elected;
 * - wake-ups per handoff, counted on both sides. Client side: every watch notification a
 *   candidate's session delivers (the workers wrap the real clients' watchers). Server side:
 *   before each handoff the server's watch table (`wchp`) lists who watches the leader's node,
 *   and nobody may hold a child watch on the election path (mntr's watch count equals wchs's
 *   data-watch total); on Apache, mntr's node_deleted_watch_count / node_children_watch_count
 *   summaries count the notifications the deletion actually fired.
 * A handoff passes when exactly one candidate other than the resigner was woken, it was the
 * successor, and the server agrees.
 *
 * Bounded: every wait has a deadline; workers are killed on the way out. Libraries alternate
 * which goes first from one setup to the next.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { joinPath, orderCandidates } from '../src/election/names.js';
import { ZkSession } from '../src/election/session.js';
import { fourLetterWord } from '../src/launcher/four-letter-word.js';
import type { ZkEnsemble } from '../src/launcher/types.js';
import { startZooKeeper } from '../test/support/apache-zookeeper.js';
import { startZkElectServer } from '../test/support/zk-elect-server.js';
import { watchesByPath } from '../test/support/zk.js';
import { kazooAvailable } from './kazoo.js';
import { fmt, summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    candidates: { type: 'string', default: '1000' },
    processes: { type: 'string', default: '1,10' },
    handoffs: { type: 'string', default: '30' },
    servers: { type: 'string', default: 'apache,zk-elect' },
    libs: { type: 'string', default: 'zk-elect,kazoo' },
  },
});
const N = Number(values.candidates);
const SETUPS = String(values.processes).split(',').map(Number);
const HANDOFFS = Number(values.handoffs);
const SERVERS = String(values.servers).split(',');
const LIBS = String(values.libs).split(',') as Lib[];
if (!(N >= 2 && N <= 5000 && HANDOFFS >= 1) || SETUPS.some((p) => !(p >= 1 && p <= 50 && p <= N)) || SERVERS.some((s) => s !== 'apache' && s !== 'zk-elect') || LIBS.some((l) => l !== 'zk-elect' && l !== 'kazoo')) {
  process.stderr.write('usage: npm run bench:herd -- [--candidates 2..5000] [--processes 1,10] [--handoffs N] [--servers apache,zk-elect] [--libs zk-elect,kazoo]\n');
  process.exit(2);
}

type Lib = 'zk-elect' | 'kazoo';
const monoMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface WorkerEvent {
  ev: 'ready' | 'queued' | 'elected' | 'resigning' | 'wake' | 'lost' | 'error';
  id?: string;
  t?: number;
  session?: string;
  path?: string;
  message?: string;
  reason?: string;
}

/** P worker processes and everything they reported, in arrival order. */
class Herd {
  readonly workers: ChildProcess[] = [];
  readonly events: WorkerEvent[] = [];
  readonly workerOf = new Map<string, ChildProcess>();
  readonly sessionOf = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  private failure: Error | undefined;

  constructor(lib: Lib, connect: string, electionPath: string, processes: number) {
    const per = Math.ceil(N / processes);
    for (let p = 0; p < processes; p++) {
      const count = Math.min(per, N - p * per);
      const args = [electionPath, String(count), `w${p}`];
      const child =
        lib === 'zk-elect'
          ? spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'herd-worker.ts'), connect, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
          : spawn(PYTHON, [path.join(import.meta.dirname, 'kazoo-herd-worker.py'), connect, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
      this.workers.push(child);
      child.on('exit', (code) => {
        if (code !== 0 && code !== null) this.fail(new Error(`worker w${p} exited with ${code}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const e = JSON.parse(line) as WorkerEvent;
        if (e.id) this.workerOf.set(e.id, child);
        if (e.session && e.id) this.sessionOf.set(e.id, e.session);
        if (e.ev === 'error' || e.ev === 'lost') this.fail(new Error(`${e.id}: ${e.ev} ${e.message ?? e.reason ?? ''}`));
        this.events.push(e);
        for (const w of [...this.waiters]) w();
      });
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of [...this.waiters]) w();
  }

  send(child: ChildProcess, msg: object): void {
    child.stdin!.write(JSON.stringify(msg) + '\n');
  }

  broadcast(msg: object): void {
    for (const w of this.workers) this.send(w, msg);
  }

  /** Resolves once `done()` holds, re-evaluated at every report; rejects after `timeoutMs`. */
  until<T>(done: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) return finish(() => reject(this.failure));
        const v = done();
        if (v !== undefined) finish(() => resolve(v));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        fn();
      };
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.broadcast({ cmd: 'exit' });
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            const kill = setTimeout(() => w.kill('SIGKILL'), 20_000);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
          }),
      ),
    );
  }
}

async function mntr(zk: ZkEnsemble): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of zk.members) {
    for (const line of (await fourLetterWord(m.address, 'mntr')).split('\n')) {
      const [k, v] = line.split('\t');
      if (k && v !== undefined && /^-?[\d.]+$/.test(v.trim())) out.set(k, (out.get(k) ?? 0) + Number(v));
    }
  }
  return out;
}

async function dataWatchTotal(zk: ZkEnsemble): Promise<number> {
  let total = 0;
  for (const m of zk.members) total += Number(/Total watches:\s*(\d+)/.exec(await fourLetterWord(m.address, 'wchs'))?.[1] ?? NaN);
  return total;
}

interface HandoffRecord {
  ms: number;
  /** Candidates other than the resigner that received any watch notification. */
  wokenOthers: string[];
  /** Every notification to a candidate other than the resigner: who, and for which node. */
  otherWakes: string[];
  wakeEvents: number;
  /** Notifications the resigner itself received (zk-elect: its own node's watch). */
  resignerWakes: string[];
  successorWoken: boolean;
  successor: string;
  /** Sessions watching the leader's node on the server, the leader's own excluded. */
  serverWatchers: string[];
  serverSuccessorOnly: boolean;
  childWatches: number;
  /** Apache only: notifications the deletion fired, from mntr's summaries. */
  firedDeleted?: number;
  firedChildren?: number;
}

async function trial(zk: ZkEnsemble, lib: Lib, processes: number, admin: ZkSession) {
  const electionPath = `/herd/${lib}-${processes}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await admin.create('/herd', Buffer.alloc(0), 'persistent').catch(() => undefined);
  await admin.create(electionPath, Buffer.alloc(0), 'persistent');
  const herd = new Herd(lib, zk.connectString, electionPath, processes);
  try {
    const c0 = monoMs();
    await herd.until(() => (herd.events.filter((e) => e.ev === 'ready').length === processes ? true : undefined), 600_000, 'every session to connect');
    const connectMs = monoMs() - c0;

    const t0 = monoMs();
    herd.broadcast({ cmd: 'join' });
    const joinedAt = new Map<string, number>();
    const joinMs = await herd.until(
      () => {
        for (const e of herd.events) if ((e.ev === 'queued' || e.ev === 'elected') && e.id && !joinedAt.has(e.id)) joinedAt.set(e.id, e.t!);
        return joinedAt.size === N ? Math.max(...joinedAt.values()) - t0 : undefined;
      },
      900_000,
      `all ${N} candidates to join`,
    );
    const children = (await admin.getChildren(electionPath)).length;
    if (children !== N) throw new Error(`expected ${N} candidate nodes after the join, found ${children}`);

    const records: HandoffRecord[] = [];
    for (let h = 0; h < HANDOFFS; h++) {
      // Who leads and who follows it, as the server sees it; node data is the candidate's id.
      const ordered = orderCandidates(await admin.getChildren(electionPath));
      const leaderNode = joinPath(electionPath, ordered[0]!.name);
      const leader = (await admin.getData(leaderNode)).data.toString();
      const successor = (await admin.getData(joinPath(electionPath, ordered[1]!.name))).data.toString();
      const watches = await watchesByPath(zk);
      if (watches.has(electionPath)) throw new Error('a data watch on the election path itself');
      const childWatches = ((await mntr(zk)).get('zk_watch_count') ?? NaN) - (await dataWatchTotal(zk));
      const serverWatchers = [...(watches.get(leaderNode) ?? [])].filter((s) => s !== herd.sessionOf.get(leader));
      const before = zk.source === 'zk-elect' ? undefined : await mntr(zk);

      const mark = herd.events.length;
      herd.send(herd.workerOf.get(leader)!, { cmd: 'resign', id: leader });
      const since = () => herd.events.slice(mark);
      const { resignedAt, electedAt, elected } = await herd.until(
        () => {
          const r = since().find((e) => e.ev === 'resigning' && e.id === leader);
          const el = since().find((e) => e.ev === 'elected' && e.id !== leader);
          return r && el ? { resignedAt: r.t!, electedAt: el.t!, elected: el.id! } : undefined;
        },
        60_000,
        `handoff ${h + 1}`,
      );
      if (elected !== successor) throw new Error(`handoff ${h + 1}: ${elected} was elected, but ${successor} was next in line`);
      await herd.until(() => (since().some((e) => e.ev === 'queued' && e.id === leader) ? true : undefined), 60_000, `${leader} to queue again`);
      await sleep(100); // late notifications still count against this handoff
      const wakes = since().filter((e) => e.ev === 'wake');
      const wokenOthers = [...new Set(wakes.filter((e) => e.id !== leader).map((e) => e.id!))];
      const rec: HandoffRecord = {
        ms: electedAt - resignedAt,
        wokenOthers,
        otherWakes: wakes.filter((e) => e.id !== leader).map((e) => `${e.id}:${e.path!.slice(-10)}`),
        wakeEvents: wakes.length,
        resignerWakes: wakes.filter((e) => e.id === leader).map((e) => e.path!.slice(e.path!.lastIndexOf('/') + 1)),
        successorWoken: wokenOthers.includes(successor),
        successor,
        serverWatchers,
        serverSuccessorOnly: serverWatchers.length === 1 && serverWatchers[0] === herd.sessionOf.get(successor),
        childWatches,
      };
      if (before) {
        const after = await mntr(zk);
        const d = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
        rec.firedDeleted = d('zk_sum_node_deleted_watch_count');
        rec.firedChildren = d('zk_sum_node_children_watch_count');
      }
      records.push(rec);
    }
    return { connectMs, joinMs, records };
  } finally {
    await herd.stop();
  }
}

function report(server: string, lib: Lib, processes: number, r: Awaited<ReturnType<typeof trial>>): void {
  const s = summarize(r.records.map((x) => x.ms));
  const exact = r.records.filter((x) => x.wokenOthers.length === 1 && x.successorWoken && x.serverSuccessorOnly && x.childWatches === 0).length;
  const woken = r.records.map((x) => x.wokenOthers.length);
  console.log(`\n${lib} on ${server}, ${N} candidates in ${processes} process${processes === 1 ? '' : 'es'}:`);
  console.log(`  workers started and sessions connected in ${fmt(r.connectMs)} ms; all ${N} joined in ${fmt(r.joinMs)} ms`);
  console.log(`  handoff (${s.n}): p50 ${fmt(s.p50)} ms   p99 ${fmt(s.p99)} ms   min ${fmt(s.min)} ms   max ${fmt(s.max)} ms`);
  console.log(`  client side: candidates woken besides the resigner per handoff: min ${Math.min(...woken)} max ${Math.max(...woken)}; watch notifications in all: ${r.records.reduce((a, x) => a + x.wakeEvents, 0)}, of them to the resigner: ${r.records.reduce((a, x) => a + x.resignerWakes.length, 0)}`);
  if (process.env['HERD_VERBOSE']) for (const x of r.records) console.log(`    ${fmt(x.ms)} ms: resigner got ${JSON.stringify(x.resignerWakes)}; woken besides: ${JSON.stringify(x.otherWakes)}, successor ${x.successor}, ${x.wakeEvents} notifications, server watchers ${JSON.stringify(x.serverWatchers)} (successor only: ${x.serverSuccessorOnly}), child watches ${x.childWatches}`);
  console.log(`  server side: watchers of the leader's node besides its owner: ${[...new Set(r.records.map((x) => x.serverWatchers.length))].join('/')} session(s), always the successor: ${r.records.every((x) => x.serverSuccessorOnly)}; child watches: ${Math.max(...r.records.map((x) => x.childWatches))}`);
  if (r.records[0]?.firedDeleted !== undefined) {
    console.log(`  server side (mntr): notifications fired per handoff for the deletion: ${[...new Set(r.records.map((x) => x.firedDeleted))].join('/')}, for children: ${r.records.reduce((a, x) => a + (x.firedChildren ?? 0), 0)} in all`);
  }
  console.log(`  exactly one candidate woken (the successor, on both sides): ${exact} of ${r.records.length} handoffs`);
}

const libs = LIBS.filter((l) => l !== 'kazoo' || kazooAvailable());
if (libs.length < LIBS.length) console.log('kazoo is not installed (apt-get install python3-kazoo): zk-elect only');
let turn = 0;
for (const server of SERVERS) {
  const zk = server === 'apache' ? await startZooKeeper({ nodes: 1 }) : await startZkElectServer({ nodes: 1, serverArgs: ['--max-client-cnxns', '0'] });
  const name = server === 'apache' ? `Apache ZooKeeper (${zk.source}, standalone)` : 'zk-elect server (standalone)';
  const admin = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 30_000 });
  try {
    console.log(`\n${name} at ${zk.connectString}`);
    for (const processes of SETUPS) {
      const order = turn++ % 2 === 0 ? libs : [...libs].reverse();
      for (const lib of order) {
        // A setup this machine cannot carry (sessions expiring, a leader past its loss deadline)
        // is reported as such and the run goes on.
        const r = await trial(zk, lib, processes, admin).catch((e: Error) => e);
        if (r instanceof Error) console.log(`\n${lib} on ${name}, ${N} candidates in ${processes} process${processes === 1 ? '' : 'es'}: FAILED: ${r.message}`);
        else report(name, lib, processes, r);
      }
    }
  } finally {
    await admin.close();
    await zk.stop();
  }
}
