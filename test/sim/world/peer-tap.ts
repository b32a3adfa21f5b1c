/**
 * A tap on the peer links of a SimWorld: every ZAB message a server writes to another (on the
 * quorum and the election port) is decoded when it is written, shown to watchers, and passed,
 * dropped or held as the scenario's rules say. It sees the wire only: what the real node code
 * sent, in the order it sent it.
 */
import type { ZabMessage } from '../../../src/server/zab/index.js';
import type { UnitVerdict } from '../io/net-types.js';
import { decodePeerUnit, serverIdOf } from './scenario-kit.js';
import { ELECTION_PORT, QUORUM_PORT, type SimWorld } from './world.js';

export interface PeerSend {
  readonly from: number;
  readonly to: number;
  readonly msg: ZabMessage;
  readonly atMs: number;
  /** What the rules decided for it. */
  readonly verdict: UnitVerdict;
}

/** A rule says what to do with a message, or nothing (the next rule decides; none: deliver). */
export type PeerRule = (from: number, to: number, msg: ZabMessage) => UnitVerdict | undefined;

export class PeerTap {
  private rules: PeerRule[] = [];
  private readonly watchers: Array<(s: PeerSend) => void> = [];

  constructor(private readonly w: SimWorld) {
    for (const port of [QUORUM_PORT, ELECTION_PORT]) w.net.setFilter(port, (from, to, bytes) => this.screen(from, to, bytes));
  }

  /** Calls `fn` with every message sent from now on. */
  watch(fn: (s: PeerSend) => void): void {
    this.watchers.push(fn);
  }

  /** Every message of the given types sent from now on (a live list). */
  record(types: readonly ZabMessage['type'][]): PeerSend[] {
    const out: PeerSend[] = [];
    this.watch((s) => {
      if (types.includes(s.msg.type)) out.push(s);
    });
    return out;
  }

  /** Adds a rule; returns its removal. */
  rule(r: PeerRule): () => void {
    this.rules.push(r);
    return () => {
      this.rules = this.rules.filter((x) => x !== r);
    };
  }

  clearRules(): void {
    this.rules = [];
  }

  /** Sends the held messages `pred` accepts (all without one), each behind what its link carries by now. */
  release(pred: (from: number, to: number, msg: ZabMessage) => boolean = () => true): number {
    return this.w.net.releaseHeld((u) => {
      const msg = decodePeerUnit(u.bytes);
      return msg !== undefined && pred(serverIdOf(u.from), serverIdOf(u.to), msg);
    });
  }

  private screen(fromHost: string, toHost: string, bytes: Buffer): UnitVerdict {
    const msg = decodePeerUnit(bytes);
    if (msg === undefined) return 'deliver'; // the hello: links must come up
    const from = serverIdOf(fromHost);
    const to = serverIdOf(toHost);
    let verdict: UnitVerdict = 'deliver';
    for (const r of this.rules) {
      const v = r(from, to, msg);
      if (v !== undefined) {
        verdict = v;
        break;
      }
    }
    const sent: PeerSend = { from, to, msg, atMs: this.w.sched.now, verdict };
    for (const fn of this.watchers) fn(sent);
    return verdict;
  }
}
