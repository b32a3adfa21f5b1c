/**
 * Simulated network between servers. By default each directed link is FIFO with a random delay
 * (as a TCP connection). Faults: loss, duplication, reordering (a message skips the FIFO order),
 * long delays, partitions (blocked directed links), and a per-test filter that can drop or hold
 * specific messages. Messages carry the sender's and receiver's incarnation: a crash resets the
 * connections, so nothing sent to or by an earlier incarnation is delivered.
 */
import type { ZabMessage } from '../../src/server/zab/index.js';
import type { Prng } from './prng.js';

export interface NetFaults {
  loss: number;
  dup: number;
  reorder: number;
  /** Delay range in time units (a tick is TICK units). */
  delayMin: number;
  delayMax: number;
  /** Probability of an extra long delay (up to `longDelay` units). */
  longDelayP: number;
  longDelay: number;
}

export const CALM: NetFaults = { loss: 0, dup: 0, reorder: 0, delayMin: 1, delayMax: 4, longDelayP: 0, longDelay: 0 };

export type FilterVerdict = 'deliver' | 'drop' | 'hold';
export type MessageFilter = (from: number, to: number, msg: ZabMessage) => FilterVerdict;

export interface Delivery {
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly fromInc: number;
  readonly toInc: number;
  readonly bytes: Buffer;
}

export class SimNetwork {
  faults: NetFaults = { ...CALM };
  private readonly blocked = new Set<string>();
  private readonly linkClock = new Map<string, number>();
  filter: MessageFilter | null = null;
  readonly held: Delivery[] = [];

  constructor(private readonly rng: Prng) {}

  isBlocked(from: number, to: number): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** Block all links between different groups. */
  partition(groups: readonly (readonly number[])[]): void {
    this.blocked.clear();
    for (const g of groups) for (const h of groups) {
      if (g === h) continue;
      for (const a of g) for (const b of h) this.blocked.add(`${a}>${b}`);
    }
  }

  blockLink(from: number, to: number): void {
    this.blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Deliveries (0, 1 or 2) for one sent message. */
  plan(now: number, from: number, to: number, fromInc: number, toInc: number, msg: ZabMessage, bytes: Buffer): Delivery[] {
    if (this.isBlocked(from, to)) return [];
    const verdict = this.filter?.(from, to, msg) ?? 'deliver';
    if (verdict === 'drop') return [];
    const f = this.faults;
    if (this.rng.chance(f.loss)) return [];
    const copies = this.rng.chance(f.dup) ? 2 : 1;
    const out: Delivery[] = [];
    for (let i = 0; i < copies; i++) {
      let delay = this.rng.int(f.delayMin, f.delayMax);
      if (this.rng.chance(f.longDelayP)) delay += this.rng.int(1, f.longDelay);
      const key = `${from}>${to}`;
      let at = now + delay;
      if (!this.rng.chance(f.reorder)) {
        // FIFO on the link unless this message is picked to be reordered.
        at = Math.max(at, this.linkClock.get(key) ?? 0);
        this.linkClock.set(key, at);
      }
      const d: Delivery = { at, from, to, fromInc, toInc, bytes };
      if (verdict === 'hold') this.held.push(d);
      else out.push(d);
    }
    return out;
  }

  /** Held messages, in send order, removed from the hold. */
  release(pred: (d: Delivery) => boolean = () => true): Delivery[] {
    const out: Delivery[] = [];
    for (let i = 0; i < this.held.length; ) {
      const d = this.held[i] as Delivery;
      if (pred(d)) {
        out.push(d);
        this.held.splice(i, 1);
      } else i++;
    }
    return out;
  }
}
