/**
 * Safety checkers, outside the core. They see every action a server's driver executes.
 *  (1) committed prefixes agree: every server applies the same sequence (`chain`) from genesis;
 *  (2) no committed txn is lost: restored/installed state is a prefix of the chain, and at the end
 *      every server holds the whole chain;
 *  (3) at most one established leader per epoch;
 *  (4) every client-acknowledged write is in the chain, once, at its zxid, in zxid order;
 *  (5) durability before promises: an ACK/PONG claims only durable entries, an ACK of NEWLEADER
 *      only with currentEpoch persisted, an ACKEPOCH only with acceptedEpoch persisted.
 */
import type { LogEntry, ZabMessage } from '../../src/server/zab/index.js';
import { formatZxid } from '../../src/server/zab/index.js';
import type { SimDisk } from './disk.js';

export class SimFailure extends Error {
  override readonly name = 'SimFailure';
}

export class Checker {
  readonly chain: LogEntry[] = [];
  private readonly payloads = new Set<string>();
  readonly leaders = new Map<number, number>();
  readonly acked = new Map<string, number>();

  fail(msg: string): never {
    throw new SimFailure(msg);
  }

  /** Server `id` applies `e` as the (index)th entry of its state since genesis. */
  onApply(id: number, index: number, e: LogEntry): void {
    const c = this.chain[index];
    const p = e.payload.toString('latin1');
    if (c !== undefined) {
      if (c.zxid !== e.zxid || !c.payload.equals(e.payload)) {
        this.fail(`(1) server ${id} applied ${formatZxid(e.zxid)} "${p}" at #${index}, chain has ${formatZxid(c.zxid)} "${c.payload.toString('latin1')}"`);
      }
      return;
    }
    if (index !== this.chain.length) this.fail(`(1) server ${id} applied #${index} past chain end ${this.chain.length}`);
    const prev = this.chain[index - 1];
    if (prev !== undefined && prev.zxid >= e.zxid) this.fail(`(4) zxid order: ${formatZxid(e.zxid)} after ${formatZxid(prev.zxid)}`);
    if (this.payloads.has(p)) this.fail(`(4) payload "${p}" committed twice`);
    this.payloads.add(p);
    this.chain.push(e);
  }

  /** A whole state (restored from disk or installed from a SNAP) must be a chain prefix. */
  onState(id: number, applied: readonly LogEntry[], what: string): void {
    applied.forEach((e, i) => {
      const c = this.chain[i];
      if (c === undefined) this.fail(`(2) server ${id} ${what} holds #${i} ${formatZxid(e.zxid)} never applied anywhere`);
      if (c.zxid !== e.zxid || !c.payload.equals(e.payload)) this.fail(`(2) server ${id} ${what} diverges at #${i}`);
    });
  }

  onEstablished(id: number, epoch: number): void {
    const other = this.leaders.get(epoch);
    if (other !== undefined && other !== id) this.fail(`(3) servers ${other} and ${id} both established leaders of epoch ${epoch}`);
    this.leaders.set(epoch, id);
  }

  onClientAck(payload: string, zxid: number): void {
    if (this.acked.has(payload)) return;
    const i = this.chain.findIndex((e) => e.zxid === zxid);
    const c = this.chain[i];
    if (c === undefined || c.payload.toString('latin1') !== payload) this.fail(`(4) acked "${payload}" at ${formatZxid(zxid)} not in the chain`);
    this.acked.set(payload, zxid);
  }

  onSend(id: number, disk: SimDisk, msg: ZabMessage): void {
    if (msg.type === 'ack' || (msg.type === 'pong' && msg.synced)) {
      if (!disk.durableThrough(msg.zxid)) this.fail(`(5) server ${id} sent ${msg.type} ${formatZxid(msg.zxid)} before it was durable`);
      if (msg.type === 'ack' && msg.newLeader && disk.currentEpoch !== msg.epoch) {
        this.fail(`(5) server ${id} acked NEWLEADER of epoch ${msg.epoch} with currentEpoch ${disk.currentEpoch} on disk`);
      }
    }
    if (msg.type === 'ackepoch' && disk.acceptedEpoch < msg.epoch) this.fail(`(5) server ${id} sent ACKEPOCH ${msg.epoch} with acceptedEpoch ${disk.acceptedEpoch} on disk`);
  }

  /** End of the liveness phase: every server holds the whole chain, acked writes included. */
  final(states: Map<number, readonly LogEntry[]>): void {
    for (const [id, applied] of states) {
      if (applied.length !== this.chain.length) this.fail(`(2) server ${id} applied ${applied.length} of ${this.chain.length} committed txns`);
      this.onState(id, applied, 'final state');
    }
    const inChain = new Set(this.chain.map((e) => e.payload.toString('latin1')));
    for (const p of this.acked.keys()) if (!inChain.has(p)) this.fail(`(4) acked write "${p}" lost`);
  }
}
