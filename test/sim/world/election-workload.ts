/**
 * Candidates running the library's own recipe (src/election: ZkSession with its loss deadline,
 * LeaderElection) over simulated sessions, with their events stamped in simulated time. The
 * election checker requires that no candidate is elected while another still leads: an old
 * leader's `lost` (or resignation) comes before any successor's `elected`.
 *
 * With `handoffs` (run.ts --handoffs), candidates also have priorities (0 or 1) and leaders
 * often hand over by name (resign({ to })), so named handoffs, seats and priority deferral
 * run under the same faults and the same checker. Without it the runs are exactly as before.
 */
import { LeaderElection } from '../../../src/election/election.js';
import { ZkSession } from '../../../src/election/session.js';
import { wireTransport } from '../../../src/election/wire-handle.js';
import { WireClient } from '../../../src/client/zk-client.js';
import { Prng } from '../prng.js';
import type { Recorder } from './recorder.js';
import type { SimWorld } from './world.js';

export interface LeadershipEvent {
  readonly atMs: number;
  readonly candidate: string;
  readonly event: 'elected' | 'reinstated' | 'suspended' | 'lost' | 'resigned';
}

export class ElectionWorkload {
  readonly events: LeadershipEvent[] = [];
  /** Named handoffs (resign({ to }), priority) whose target took the lead. */
  handoffsTaken = 0;
  readonly elections: LeaderElection[] = [];
  /** Who leads right now, as the candidates themselves believe (from their events). */
  private readonly leading = new Map<string, number>();

  constructor(
    private readonly world: SimWorld,
    private readonly recorder: Recorder,
    readonly candidates: number,
    readonly handoffs = false,
  ) {}

  start(running: () => boolean): void {
    for (let i = 0; i < this.candidates; i++) void this.candidate(i, running);
  }

  private async candidate(i: number, running: () => boolean): Promise<void> {
    const name = `cand${i}`;
    const host = this.world.clientHost(name);
    const rng = new Prng(this.world.rng.nextU32());
    let generation = 0;
    const sessionTimeoutMs = rng.int(4, 10) * this.world.tickMs;
    const transport = wireTransport((o) => {
      const label = `${name}#${++generation}`;
      const client: WireClient = new WireClient({
        network: this.world.net.forHost(host),
        clock: host.clock(),
        rng: new Prng(rng.nextU32()),
        servers: this.world.addresses,
        sessionTimeoutMs: o.sessionTimeoutMs,
        name: label,
        onEvent: (e) => {
          listener(e);
          o.onEvent?.(e);
        },
      });
      const listener = this.recorder.listener(host, label, () => client.negotiatedTimeoutMs || o.sessionTimeoutMs);
      return client;
    });
    let session: ZkSession;
    try {
      session = await ZkSession.connect({ connect: this.world.addresses.join(','), sessionTimeoutMs, clock: host.clock(), transport, connectTimeoutMs: 60_000 });
    } catch (e) {
      this.recorder.fail(`${name}: could not open a session: ${(e as Error).message}`);
      return;
    }
    const priority = this.handoffs ? rng.int(0, 1) : 0;
    const election = new LeaderElection(session, { path: '/election', id: name, uuid: `u${i}`, priority });
    this.elections.push(election);
    const note = (event: LeadershipEvent['event']) => this.events.push({ atMs: this.world.sched.now, candidate: name, event });
    election.on('elected', () => {
      note('elected');
      this.begin(name);
    });
    election.on('reinstated', (info) => {
      note('reinstated');
      if (info.leader) this.begin(name);
    });
    election.on('suspended', () => note('suspended'));
    election.on('lost', () => {
      note('lost');
      this.leading.delete(name);
    });
    election.on('resigned', () => {
      note('resigned');
      this.leading.delete(name);
    });
    election.on('handoff', (h) => {
      if (h.outcome === 'taken') this.handoffsTaken++;
    });
    election.on('error', () => undefined);
    await election.join().catch(() => undefined);
    // Now and then a leader steps aside gracefully (requeue), so handoffs happen too.
    while (running()) {
      await new Promise<void>((r) => host.clock().after(rng.int(200, 2000), r));
      if (running() && election.isLeader && rng.chance(0.3)) {
        if (this.handoffs && rng.chance(0.6)) {
          const others = [...Array(this.candidates).keys()].filter((j) => j !== i);
          await election.resign({ to: `cand${rng.pick(others)}` }).catch(() => undefined);
        } else {
          await election.resign({ requeue: true }).catch(() => undefined);
        }
      }
    }
  }

  private begin(name: string): void {
    for (const [other, since] of this.leading) {
      if (other !== name) this.recorder.fail(`election: ${name} elected while ${other} (leading since t=${Math.round(since)}) has not lost leadership`);
    }
    if (!this.leading.has(name)) this.leading.set(name, this.world.sched.now);
  }
}
