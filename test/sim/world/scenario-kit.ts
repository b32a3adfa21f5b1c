/**
 * Helpers for scripted scenarios on the whole-node simulator: form a cluster, open clients
 * pinned to chosen servers, and await client calls while simulated time runs.
 */
import { decodeMessage, type ZabMessage } from '../../../src/server/zab/index.js';
import { WireClient } from '../../../src/client/zk-client.js';
import { Prng } from '../prng.js';
import type { Recorder } from './recorder.js';
import { CLIENT_PORT, SimWorld, type WorldOptions } from './world.js';

export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure';
}

export function check(cond: unknown, why: string): asserts cond {
  if (!cond) throw new ScenarioFailure(why);
}

/** A world whose servers have all started and agree on a leader. */
export async function formed(options: WorldOptions): Promise<SimWorld> {
  const w = new SimWorld(options);
  for (const s of w.servers) w.startServer(s.id);
  await until(w, () => w.converged(), 10_000, 'the cluster to form');
  return w;
}

/** Runs simulated time until `cond` holds; fails after `ms`. */
export async function until(w: SimWorld, cond: () => boolean, ms: number, what: string): Promise<void> {
  await w.sched.run({ untilMs: w.sched.now + ms, stop: cond });
  check(cond(), `${what}: not within ${ms} ms (t=${Math.round(w.sched.now)}; ${roles(w)})`);
}

/** Runs simulated time for `ms`. */
export async function elapse(w: SimWorld, ms: number): Promise<void> {
  await w.sched.run({ untilMs: w.sched.now + ms });
}

/** Runs simulated time until `p` settles; fails after `ms`. */
export async function settle<T>(w: SimWorld, p: Promise<T>, ms: number, what: string): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then(
    (v) => {
      value = v;
      done = true;
    },
    (e: unknown) => {
      error = e;
      done = true;
    },
  );
  await until(w, () => done, ms, what);
  if (error !== undefined) throw error;
  return value as T;
}

/** A client that only talks to the given servers. */
export function pinned(w: SimWorld, name: string, serverIds: readonly number[], sessionTimeoutMs: number, recorder?: Recorder, session?: { id: bigint; passwd: Buffer }): WireClient {
  const host = w.clientHost(name);
  const label = `${name}`;
  const client: WireClient = new WireClient({
    network: w.net.forHost(host),
    clock: host.clock(),
    rng: new Prng(w.rng.nextU32()),
    servers: serverIds.map((id) => `${w.slot(id).host.ip}:${CLIENT_PORT}`),
    sessionTimeoutMs,
    name: label,
    ...(recorder ? { onEvent: recorder.listener(host, label, () => client.negotiatedTimeoutMs || sessionTimeoutMs) } : {}),
    ...(session ? { session } : {}),
  });
  client.start();
  return client;
}

export function roles(w: SimWorld): string {
  return w.servers
    .map((s) => {
      const q = s.node?.quorumState();
      return `s${s.id}:${s.node ? `${q?.role ?? '?'}@${q?.epoch ?? '?'}` : s.host.state}`;
    })
    .join(' ');
}

/** The other server ids. */
export function others(w: SimWorld, ...not: number[]): number[] {
  return w.servers.map((s) => s.id).filter((id) => !not.includes(id));
}

/** The first 4 bytes of the hello a peer link's dialling end writes first (peer-transport.ts). */
const PEER_HELLO_MAGIC = 0x5a4b5045;
const PEER_HELLO_BYTES = 10;

/**
 * The ZAB message in one write() unit of a peer link (each message leaves in one write, framed
 * as [u32 length][payload]); undefined for the hello and announcements. Throws if the unit is not exactly one
 * frame: then the one-message-per-write assumption the scenarios rely on no longer holds.
 */
export function decodePeerUnit(bytes: Buffer): ZabMessage | undefined {
  if (bytes.length === PEER_HELLO_BYTES && bytes.readUInt32BE(0) === PEER_HELLO_MAGIC) return undefined;
  // An announcement frame (length word with the top bit set): link state, not a ZAB message.
  if (bytes.length >= 4 && (bytes.readUInt32BE(0) & 0x8000_0000) !== 0 && (bytes.readUInt32BE(0) & 0x7fff_ffff) === bytes.length - 4) return undefined;
  if (bytes.length < 4 || bytes.readUInt32BE(0) !== bytes.length - 4) throw new Error(`a peer-link write of ${bytes.length} bytes is not one framed message`);
  return decodeMessage(bytes.subarray(4));
}

/** Server id of a server host name ('s3' -> 3). */
export function serverIdOf(hostName: string): number {
  const m = /^s(\d+)$/.exec(hostName);
  if (!m) throw new Error(`${hostName} is not a server host`);
  return Number(m[1]);
}

/** The durable value of an epoch file ('acceptedEpoch' | 'currentEpoch') on server `id`'s disk. */
export function durableEpoch(w: SimWorld, id: number, name: 'acceptedEpoch' | 'currentEpoch'): number | undefined {
  const text = w.slot(id).fs.readDurable(`/data/${name}`)?.toString('latin1');
  const m = text === undefined ? null : /^zk-elect-epoch 1 (\d+) /.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Runs simulated time for `ms`; fails if `cond` holds at any point meanwhile. */
export async function never(w: SimWorld, cond: () => boolean, ms: number, what: string): Promise<void> {
  await w.sched.run({ untilMs: w.sched.now + ms, stop: cond });
  check(!cond(), `${what} (t=${Math.round(w.sched.now)}; ${roles(w)})`);
}
