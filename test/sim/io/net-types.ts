/** Shapes shared by the simulated network's parts (sim-net.ts, sim-socket.ts, pipe.ts). */
import type { SimHost } from './host.js';
import type { Scheduler } from './scheduler.js';
import type { SimSocket } from './sim-socket.js';

/** Per-direction link behaviour. A chunk's delay is uniform in [delayMinMs, delayMaxMs],
 *  plus, with probability longDelayP, up to longDelayMs more (a retransmission, a GC'd
 *  middlebox). FIFO order holds regardless: a late chunk holds back the ones behind it. */
export interface LinkProfile {
  delayMinMs: number;
  delayMaxMs: number;
  longDelayP: number;
  longDelayMs: number;
  /** Probability a write is delivered as two onData chunks (TCP does not keep write
   *  boundaries). Never applied on message-chaos ports. Default 0. */
  splitP?: number;
}

/** Per write() unit, on connections to the ports given to setMessageChaos only. */
export interface MessageChaos {
  loss: number;
  dup: number;
  reorder: number;
}

/** What a per-port filter (SimNetwork.setFilter) decides for one write() unit. */
export type UnitVerdict = 'deliver' | 'drop' | 'hold';

/** Sees each write() unit on connections to one listener port, in both directions, when it is
 *  written (so in the order the sender wrote), with the host names of sender and receiver. */
export type UnitFilter = (fromHost: string, toHost: string, bytes: Buffer) => UnitVerdict;

/** A unit a filter held back: it travels only if SimNetwork.releaseHeld lets it. */
export interface HeldUnit {
  readonly atMs: number;
  /** The server (listener) port of its connection. */
  readonly port: number;
  readonly from: string;
  readonly to: string;
  readonly bytes: Buffer;
}

export type ResetCause = 'destroy' | 'crash' | 'resetLink' | 'refused' | 'timeout';

export interface ResetRecord {
  readonly atMs: number;
  /** Connection id, or null for a dial that never got a connection. */
  readonly conn: number | null;
  /** The host whose socket was reset (for resetLink: one record per end). */
  readonly host: string;
  readonly peer: string;
  /** The server port of the connection. */
  readonly port: number;
  readonly cause: ResetCause;
}

export interface ConnInfo {
  readonly id: number;
  readonly clientHost: string;
  readonly clientPort: number;
  readonly serverHost: string;
  readonly serverPort: number;
  readonly clientOpen: boolean;
  readonly serverOpen: boolean;
  /** Bytes written and not yet delivered, per direction. */
  readonly bytesToServer: number;
  readonly bytesToClient: number;
}

export interface ListenerInfo {
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/** What pipes and sockets need from the network that owns them. */
export interface NetEnv {
  readonly sched: Scheduler;
  isBlocked(from: SimHost, to: SimHost): boolean;
  drawDelay(from: SimHost, to: SimHost): number;
  profile(from: SimHost, to: SimHost): LinkProfile;
  chaosFor(port: number): MessageChaos | null;
  recordReset(r: Omit<ResetRecord, 'atMs'>): void;
  /** A socket decided it is closed (its onClose may still be pending). */
  socketClosed(s: SimSocket): void;
  /** Whether a write() unit of `s` may go now (false: a filter dropped or held it). Absent: always. */
  screen?(s: SimSocket, bytes: Buffer): boolean;
}
