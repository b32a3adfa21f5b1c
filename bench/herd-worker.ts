/**
 * One process of zk-elect candidates for bench/herd.ts (the kazoo counterpart is
 * bench/kazoo-herd-worker.py; both speak the same JSON lines).
 *
 *   node --import tsx bench/herd-worker.ts CONNECT PATH COUNT PREFIX
 *
 * Opens COUNT sessions (one per candidate) and reports on stdout:
 *   {"ev":"ready"}                                    every session connected
 *   {"ev":"queued","id","t","session"}                join()/requeue finished: node created, watch set
 *   {"ev":"elected","id","t"}                         `elected`
 *   {"ev":"resigning","id","t"}                       just before resign({ requeue: true })
 *   {"ev":"wake","id","t","path"}                     a watch notification reached this candidate
 * and takes on stdin {"cmd":"join"}, {"cmd":"resign","id"}, {"cmd":"exit"}.
 * `t` is CLOCK_MONOTONIC in ms (process.hrtime), comparable across processes on one machine.
 */
import { createInterface } from 'node:readline';
import { LeaderElection } from '../src/election/election.js';
import { ZkSession } from '../src/election/session.js';
import { countingTransport } from '../test/support/counting-transport.js';

const [connect, path, countArg, prefix] = process.argv.slice(2);
const COUNT = Number(countArg);
const monoMs = () => Number(process.hrtime.bigint()) / 1e6;
const say = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

interface Candidate {
  id: string;
  session: ZkSession;
  election: LeaderElection;
}

const candidates = new Map<string, Candidate>();
// Connect in bounded waves: a thousand simultaneous handshakes only measure the accept queue.
for (let i = 0; i < COUNT; i += 50) {
  const wave = await Promise.all(
    Array.from({ length: Math.min(50, COUNT - i) }, async (_, j) => {
      const id = `${prefix}-${i + j}`;
      const session = await ZkSession.connect({ connect: connect!, sessionTimeoutMs: 10_000, connectTimeoutMs: 60_000, transport: countingTransport((event) => say({ ev: 'wake', id, t: monoMs(), path: event.path })) });
      const election = new LeaderElection(session, { path: path!, id });
      election.on('elected', () => say({ ev: 'elected', id, t: monoMs() }));
      election.on('lost', (info) => say({ ev: 'lost', id, t: monoMs(), reason: info.reason }));
      election.on('error', (e) => say({ ev: 'error', id, message: e.message }));
      return { id, session, election };
    }),
  );
  for (const c of wave) candidates.set(c.id, c);
}
say({ ev: 'ready' });

const queued = (c: Candidate) => say({ ev: 'queued', id: c.id, t: monoMs(), session: c.session.sessionId });

for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line) as { cmd: string; id?: string };
  if (msg.cmd === 'join') {
    for (const c of candidates.values()) void c.election.join().then(() => queued(c), (e: Error) => say({ ev: 'error', id: c.id, message: e.message }));
  } else if (msg.cmd === 'resign') {
    const c = candidates.get(msg.id!)!;
    say({ ev: 'resigning', id: c.id, t: monoMs() });
    void c.election.resign({ requeue: true }).then(() => queued(c), (e: Error) => say({ ev: 'error', id: c.id, message: e.message }));
  } else if (msg.cmd === 'exit') {
    break;
  }
}
await Promise.all([...candidates.values()].map(async (c) => {
  await c.election.close().catch(() => undefined);
  await c.session.close();
}));
process.exit(0);
