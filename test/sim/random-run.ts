/**
 * One seeded random run: a safety phase with faults, then a liveness phase with the faults healed
 * in which the cluster must elect a leader, converge and commit new writes within a bound.
 */
import { Prng } from './prng.js';
import { Sim, TICK } from './cluster.js';
import { CALM, type NetFaults } from './network.js';
import { SimFailure } from './checker.js';

export interface RunOptions {
  readonly safetyTicks?: number;
  readonly livenessTicks?: number;
  /** Force a cluster size (default: drawn from the seed). */
  readonly n?: number;
}

export interface RunResult {
  readonly seed: number;
  readonly scenario: string;
  readonly n: number;
  readonly committed: number;
  readonly acked: number;
  readonly epochs: number;
  readonly livenessTicks: number;
}

interface Profile {
  readonly name: string;
  readonly net: NetFaults;
  readonly crashP: number;
  readonly partitionP: number;
  readonly pauseP: number;
  readonly diskFaultP: number;
  readonly snapshotP: number;
  readonly proposeP: number;
}

const PROFILES: readonly Profile[] = [
  { name: 'calm-crashes', net: CALM, crashP: 0.01, partitionP: 0, pauseP: 0, diskFaultP: 0, snapshotP: 0.01, proposeP: 0.5 },
  { name: 'lossy', net: { loss: 0.03, dup: 0.02, reorder: 0.02, delayMin: 1, delayMax: 8, longDelayP: 0.01, longDelay: 40 }, crashP: 0.004, partitionP: 0.004, pauseP: 0, diskFaultP: 0.001, snapshotP: 0.005, proposeP: 0.5 },
  { name: 'partitions', net: { ...CALM, delayMax: 6 }, crashP: 0.002, partitionP: 0.015, pauseP: 0.003, diskFaultP: 0, snapshotP: 0.01, proposeP: 0.6 },
  { name: 'paused-leader', net: { ...CALM, delayMax: 6, longDelayP: 0.01, longDelay: 30 }, crashP: 0.002, partitionP: 0.004, pauseP: 0.02, diskFaultP: 0, snapshotP: 0.005, proposeP: 0.6 },
  { name: 'disk-faults', net: { ...CALM, dup: 0.01 }, crashP: 0.004, partitionP: 0.004, pauseP: 0.003, diskFaultP: 0.01, snapshotP: 0.01, proposeP: 0.6 },
  { name: 'chaos', net: { loss: 0.05, dup: 0.05, reorder: 0.05, delayMin: 1, delayMax: 12, longDelayP: 0.02, longDelay: 60 }, crashP: 0.01, partitionP: 0.01, pauseP: 0.01, diskFaultP: 0.003, snapshotP: 0.01, proposeP: 0.6 },
];

export function sizeForSeed(seed: number): number {
  const r = new Prng(seed ^ 0x5eed).int(0, 19);
  return r === 0 ? 1 : r === 1 ? 7 : r < 11 ? 3 : 5;
}

export function runSeed(seed: number, opts: RunOptions = {}): RunResult {
  const pick = new Prng(seed ^ 0xc0ffee);
  const profile = pick.pick(PROFILES);
  const n = opts.n ?? sizeForSeed(seed);
  const scenario = `random/${profile.name}/n=${n}`;
  const sim = new Sim({ n, seed, fsyncMax: pick.int(2, 12) });
  try {
    return drive(sim, profile, seed, scenario, opts);
  } catch (err) {
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const failure = new SimFailure(`seed=${seed} scenario=${scenario} at t=${sim.now}: ${msg}\n  replay: SIM_SEED=${seed} node --import tsx --test test/sim/sim.test.ts\n  recent: ${sim.log.slice(-8).join('; ')}`);
    if (err instanceof Error && err.stack) failure.stack = `${failure.message}\n${err.stack}`;
    throw failure;
  }
}

function drive(sim: Sim, p: Profile, seed: number, scenario: string, opts: RunOptions): RunResult {
  const rng = sim.rng;
  const n = sim.ids.length;
  sim.net.faults = { ...p.net };
  sim.diskFaultP = p.diskFaultP;
  let op = 0;
  const downUntil = new Map<number, number>();
  const pausedUntil = new Map<number, number>();
  let partitionUntil = -1;
  const safetyTicks = opts.safetyTicks ?? 300;
  for (let t = 0; t < safetyTicks; t++) {
    sim.runTicks(1);
    const tick = Math.floor(sim.now / TICK);
    for (const [id, until] of downUntil) if (tick >= until) { sim.restart(id); downUntil.delete(id); }
    for (const [id, until] of pausedUntil) if (tick >= until) { sim.resume(id); pausedUntil.delete(id); }
    if (partitionUntil >= 0 && tick >= partitionUntil) { sim.net.heal(); partitionUntil = -1; }
    if (rng.chance(p.crashP)) {
      const id = rng.pick(sim.ids);
      sim.crash(id);
      downUntil.set(id, tick + rng.int(3, 40));
    }
    if (rng.chance(p.pauseP)) {
      const l = sim.leader() ?? rng.pick(sim.ids);
      if (!pausedUntil.has(l)) { sim.pause(l); pausedUntil.set(l, tick + rng.int(5, 50)); }
    }
    if (partitionUntil < 0 && n > 1 && rng.chance(p.partitionP)) {
      const shuffled = rng.shuffle([...sim.ids]);
      const l = sim.leader();
      if (l !== undefined && rng.chance(0.4)) sim.net.partition([[l], sim.ids.filter((i) => i !== l)]);
      else { const cut = rng.int(1, n - 1); sim.net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]); }
      partitionUntil = tick + rng.int(5, 60);
    }
    if (rng.chance(p.snapshotP * n)) sim.takeSnapshot(rng.pick(sim.ids));
    if (rng.chance(p.proposeP)) {
      const via = rng.chance(0.25) ? rng.pick(sim.ids) : undefined;
      sim.submit(`s${seed}-w${op++}`, via);
    }
  }
  // ---- liveness: heal everything; a leader must emerge, everyone converge, new writes commit.
  sim.net.faults = { ...CALM };
  sim.net.heal();
  sim.diskFaultP = 0;
  for (const id of sim.ids) { sim.resume(id); sim.restart(id); sim.setHoldFsync(id, false); }
  const start = sim.now;
  const bound = opts.livenessTicks ?? 250;
  // Writes submitted now; an unacknowledged one may legitimately be lost in a leader change, so
  // keep submitting (one outstanding at a time, retried after 20 ticks) until 3 are acknowledged.
  const want: string[] = [];
  let live = 0;
  let lastSubmit = -Infinity;
  const ackedLive = (): number => want.filter((w) => sim.checker.acked.has(w)).length;
  const done = (): boolean => sim.converged() && [...sim.servers.values()].every((s) => s.core !== null && !s.paused) && ackedLive() >= 3
    && [...sim.servers.values()].every((s) => s.applied.length === sim.checker.chain.length);
  while (!done()) {
    if (sim.now - start > bound * TICK) {
      const roles = [...sim.servers.values()].map((s) => `${s.id}:${s.role.role}${s.role.synced ? '+' : ''}@${s.role.epoch}/${s.applied.length}`).join(' ');
      throw new SimFailure(`liveness: no convergence within ${bound} ticks (chain ${sim.checker.chain.length}; ${roles}; acked ${ackedLive()}/${want.length})`);
    }
    sim.runTicks(1);
    const outstanding = want.length > ackedLive();
    if (sim.converged() && ackedLive() < 3 && (!outstanding || sim.now - lastSubmit > 20 * TICK)) {
      const w = `s${seed}-live${live++}`;
      want.push(w);
      lastSubmit = sim.now;
      sim.submit(w);
    }
  }
  sim.checker.final(sim.appliedStates());
  return {
    seed, scenario, n,
    committed: sim.checker.chain.length,
    acked: sim.checker.acked.size,
    epochs: sim.checker.leaders.size,
    livenessTicks: Math.round((sim.now - start) / TICK),
  };
}
