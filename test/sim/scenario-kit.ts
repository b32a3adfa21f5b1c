/** Helpers for scripted scenarios on the simulator. */
import assert from 'node:assert/strict';
import type { ZabMessage } from '../../src/server/zab/index.js';
import { Sim, type SimConfig } from './cluster.js';

export function newSim(over: Partial<SimConfig> = {}): Sim {
  return new Sim({ n: 3, seed: 1, fsyncMin: 1, fsyncMax: 3, ...over });
}

/** Run until one established leader and everyone synced and caught up. */
export function settle(sim: Sim, maxTicks = 300): number {
  const ok = sim.runTicks(maxTicks, () => sim.converged() && [...sim.servers.values()].every((s) => s.core === null || s.paused || s.applied.length === sim.checker.chain.length));
  assert.ok(ok, `cluster did not settle within ${maxTicks} ticks: ${roles(sim)}`);
  return sim.leader() as number;
}

export function roles(sim: Sim): string {
  return [...sim.servers.values()].map((s) => `${s.id}:${s.core === null ? 'down' : s.role.role}${s.role.synced ? '+' : ''}@${s.role.epoch}/${s.applied.length}`).join(' ');
}

/** A client write through the current leader, waited for until acknowledged. */
export function write(sim: Sim, payload: string, maxTicks = 60): void {
  sim.submit(payload);
  assert.ok(sim.runTicks(maxTicks, () => sim.checker.acked.has(payload)), `write ${payload} not acknowledged: ${roles(sim)}`);
}

export function writes(sim: Sim, prefix: string, n: number): string[] {
  const ps = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  for (const p of ps) write(sim, p);
  return ps;
}

/** Propose directly on server `id` (whatever it believes it is). */
export function proposeAt(sim: Sim, id: number, payload: string): void {
  sim.input(id, { type: 'propose', payload: Buffer.from(payload, 'latin1') });
}

export function epochOf(sim: Sim, id: number): number {
  return sim.server(id).role.epoch;
}

/** Record messages of given types. */
export function record(sim: Sim, types: readonly string[]): { from: number; to: number; msg: ZabMessage; t: number }[] {
  const out: { from: number; to: number; msg: ZabMessage; t: number }[] = [];
  const prev = sim.onSend;
  sim.onSend = (from, to, msg) => {
    prev?.(from, to, msg);
    if (types.includes(msg.type)) out.push({ from, to, msg, t: sim.now });
  };
  return out;
}

export function others(sim: Sim, ...not: number[]): number[] {
  return sim.ids.filter((i) => !not.includes(i));
}

/** Heal, restart everything but `keepDown` (machines that are gone for good), settle, write, and
 * run the end-of-run checks over the running servers. */
export function finish(sim: Sim, keepDown: readonly number[] = []): void {
  sim.net.heal();
  sim.net.filter = null;
  sim.releaseHeld();
  for (const id of sim.ids) {
    sim.resume(id);
    sim.setHoldFsync(id, false);
    if (!keepDown.includes(id)) sim.restart(id);
  }
  settle(sim);
  write(sim, `final-${sim.now}`);
  settle(sim);
  sim.checker.final(sim.appliedStates());
}
