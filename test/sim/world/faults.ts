/**
 * Faults, all drawn from the run's seed: a profile picks which kinds and how often; every
 * `stepMs` of the safety phase each kind fires with its probability. Every fault also heals by
 * itself after a bounded time, and `healAll` ends them all for the liveness phase.
 */
import type { Prng } from '../prng.js';
import { ELECTION_PORT, QUORUM_PORT, type SimWorld } from './world.js';

export interface FaultProfile {
  readonly name: string;
  readonly crash: number;
  readonly pause: number;
  readonly partition: number;
  readonly isolateLeader: number;
  readonly oneWay: number;
  readonly linkReset: number;
  readonly clientMove: number;
  readonly clientCutoff: number;
  /** Per-message loss/dup/reorder on the peer links (the core must survive it). */
  readonly chaos: { loss: number; dup: number; reorder: number } | null;
  readonly slowLinks: number;
  readonly wallJump: number;
  readonly slowDisk: number;
  readonly failSync: number;
}

const NONE = { crash: 0, pause: 0, partition: 0, isolateLeader: 0, oneWay: 0, linkReset: 0, clientMove: 0, clientCutoff: 0, chaos: null, slowLinks: 0, wallJump: 0, slowDisk: 0, failSync: 0 };

export const PROFILES: readonly FaultProfile[] = [
  { ...NONE, name: 'crashes', crash: 0.03, clientMove: 0.03, slowDisk: 0.01 },
  { ...NONE, name: 'partitions', partition: 0.03, isolateLeader: 0.03, oneWay: 0.02, clientCutoff: 0.02 },
  { ...NONE, name: 'paused', pause: 0.04, isolateLeader: 0.01, wallJump: 0.02 },
  { ...NONE, name: 'lossy', chaos: { loss: 0.02, dup: 0.02, reorder: 0.02 }, slowLinks: 0.03, linkReset: 0.03, clientMove: 0.02 },
  { ...NONE, name: 'disks', crash: 0.02, slowDisk: 0.04, failSync: 0.01, wallJump: 0.01 },
  {
    name: 'chaos', crash: 0.02, pause: 0.02, partition: 0.015, isolateLeader: 0.015, oneWay: 0.01, linkReset: 0.02, clientMove: 0.02, clientCutoff: 0.01,
    chaos: { loss: 0.02, dup: 0.01, reorder: 0.01 }, slowLinks: 0.02, wallJump: 0.01, slowDisk: 0.02, failSync: 0.005,
  },
];

/** One fault in flight and how it ends. */
interface Active {
  until: number;
  end(): void;
}

export class FaultInjector {
  private readonly active: Active[] = [];
  private partitioned = false;

  constructor(
    private readonly world: SimWorld,
    readonly profile: FaultProfile,
    private readonly rng: Prng,
  ) {
    if (profile.chaos) world.net.setMessageChaos([QUORUM_PORT, ELECTION_PORT], profile.chaos);
  }

  /** One step of the safety phase. */
  step(): void {
    const w = this.world;
    const now = w.sched.now;
    for (let i = this.active.length - 1; i >= 0; i--) {
      const a = this.active[i]!;
      if (a.until <= now) {
        this.active.splice(i, 1);
        a.end();
      }
    }
    const p = this.profile;
    const r = this.rng;
    const ids = w.servers.map((s) => s.id);
    const ticks = (lo: number, hi: number) => r.int(lo, hi) * w.tickMs;
    if (r.chance(p.crash)) {
      const id = r.pick(ids);
      w.crashServer(id);
      // Started again only if still down: its supervisor may have restarted it meanwhile (after a
      // storage failure or a failed start), and a second process on the same host and data dir
      // is not a fault this profile means to inject.
      this.later(ticks(2, 40), () => {
        if (w.servers.find((s) => s.id === id)?.host.state === 'down') w.startServer(id);
      });
    }
    if (r.chance(p.pause)) {
      const id = r.chance(0.5) ? (w.leader() ?? r.pick(ids)) : r.pick(ids);
      w.pauseServer(id);
      this.later(ticks(1, 30), () => w.resumeServer(id));
    }
    if (!this.partitioned && r.chance(p.partition)) {
      const shuffled = r.shuffle(ids.map((id) => `s${id}`));
      const cut = r.int(1, shuffled.length - 1);
      this.partition([shuffled.slice(0, cut), shuffled.slice(cut)], ticks(3, 60));
    }
    if (!this.partitioned && r.chance(p.isolateLeader)) {
      const l = w.leader();
      if (l !== undefined) this.partition([[`s${l}`], ids.filter((i) => i !== l).map((i) => `s${i}`)], ticks(3, 60));
    }
    if (!this.partitioned && r.chance(p.oneWay)) {
      const [a, b] = r.shuffle([...ids]) as [number, number];
      w.note(`block s${a} -> s${b}`);
      w.net.block(`s${a}`, `s${b}`);
      this.partitioned = true;
      this.later(ticks(3, 40), () => {
        w.net.unblock(`s${a}`, `s${b}`);
        this.partitioned = false;
      });
    }
    if (r.chance(p.linkReset)) {
      const [a, b] = r.shuffle([...ids]) as [number, number];
      w.note(`reset link s${a} <-> s${b}`);
      w.net.resetLink(`s${a}`, `s${b}`);
    }
    const clients = w.clientHostNames;
    if (clients.length > 0 && r.chance(p.clientMove)) {
      // The client's connection to every server resets: it reconnects (usually elsewhere) with the same session.
      const c = r.pick(clients);
      w.note(`move client ${c}`);
      for (const id of ids) w.net.resetLink(c, `s${id}`);
    }
    if (clients.length > 0 && r.chance(p.clientCutoff)) {
      // Cut a client off from every server, sometimes for longer than any session timeout.
      const c = r.pick(clients);
      const ms = ticks(1, 25);
      w.note(`cut off client ${c} for ${ms} ms`);
      for (const id of ids) {
        w.net.block(c, `s${id}`);
        w.net.block(`s${id}`, c);
      }
      this.later(ms, () => {
        for (const id of ids) {
          w.net.unblock(c, `s${id}`);
          w.net.unblock(`s${id}`, c);
        }
      });
    }
    if (r.chance(p.slowLinks)) {
      const [a, b] = r.shuffle([...ids]) as [number, number];
      const slow = { delayMinMs: 5, delayMaxMs: r.int(20, 200), longDelayP: 0.05, longDelayMs: 500 };
      w.net.setProfile(`s${a}`, `s${b}`, slow);
      this.later(ticks(5, 50), () => w.net.setProfile(`s${a}`, `s${b}`, { delayMinMs: 1, delayMaxMs: 5, longDelayP: 0, longDelayMs: 0 }));
    }
    if (r.chance(p.wallJump)) {
      const id = r.pick(ids);
      const delta = r.chance(0.5) ? r.int(10_000, 3_600_000) : -r.int(10_000, 3_600_000);
      w.note(`wall clock of s${id} jumps ${delta} ms`);
      w.slot(id).host.hw.jumpWall(delta);
    }
    if (r.chance(p.slowDisk)) {
      const id = r.pick(ids);
      const fs = w.slot(id).fs;
      fs.setLatency({ latencyMs: { min: 1, max: 20 }, syncLatencyMs: { min: 20, max: r.int(50, 400) } });
      this.later(ticks(5, 50), () => fs.setLatency({ latencyMs: { min: 0, max: 1 }, syncLatencyMs: { min: 1, max: 5 } }));
    }
    if (r.chance(p.failSync)) {
      const id = r.pick(ids);
      w.note(`the next fsync on s${id} fails`);
      w.slot(id).fs.failNextSync();
    }
  }

  private partition(groups: string[][], ms: number): void {
    this.world.note(`partition ${groups.map((g) => g.join(',')).join(' | ')} for ${ms} ms`);
    this.world.net.partition(groups);
    this.partitioned = true;
    this.later(ms, () => {
      this.world.net.heal();
      this.partitioned = false;
    });
  }

  private later(ms: number, end: () => void): void {
    this.active.push({ until: this.world.sched.now + ms, end });
  }

  /** Ends every fault: the liveness phase runs on a healthy network with every server up. */
  healAll(): void {
    const w = this.world;
    for (const a of this.active.splice(0)) a.end();
    w.net.setMessageChaos([QUORUM_PORT, ELECTION_PORT], null);
    w.net.heal();
    for (const s of w.servers) {
      s.fs.setLatency({ latencyMs: { min: 0, max: 1 }, syncLatencyMs: { min: 1, max: 5 } });
      if (s.host.state === 'paused') w.resumeServer(s.id);
      if (s.node === undefined && s.host.state === 'down') w.startServer(s.id);
    }
    this.partitioned = false;
  }
}
