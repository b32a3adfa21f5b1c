/**
 * One direction of a simulated TCP connection: a FIFO of segments in flight.
 *
 * Each segment gets a ready time when sent (never earlier than the one before it, so the
 * stream stays ordered); a single pump delivers the head once it is ready and nothing stalls
 * it. Stalls are conditions, not events: a blocked link, a receiving host that is paused (or
 * still replaying what it queued while paused), or a receiving socket the application paused.
 * While stalled the bytes stay here, so they count in the sender's queuedBytes, exactly the
 * signal a sender's backpressure logic watches. Whoever lifts a stall kicks the pipe.
 */
import type { SimHost } from './host.js';
import type { MessageChaos, NetEnv } from './net-types.js';
import type { Scheduled } from './scheduler.js';

export type SegmentKind = 'open' | 'data' | 'fin' | 'rst';

export interface Segment {
  readonly kind: SegmentKind;
  readonly bytes: Buffer | null;
  readyAt: number;
  /** Made by the network itself (resetLink), not by a host: not held by a partition. */
  readonly fromNetwork: boolean;
}

export interface Receiver {
  /** True once the receiving socket is closed: whatever still arrives is discarded. */
  readonly closed: boolean;
  /** Whether data and FIN may be handed over now (not paused, a data handler is set). */
  readonly flowing: boolean;
  receive(seg: Segment): void;
}

export class Pipe {
  private readonly q: Segment[] = [];
  /** Data bytes in flight (not yet handed to the receiving host). */
  bytes = 0;
  private lastReadyAt = 0;
  private ev: Scheduled | null = null;
  private evAt = Number.POSITIVE_INFINITY;
  /** Called whenever the pipe runs empty (the network retires finished connections). */
  onDrained: (() => void) | null = null;
  /** Called when delivering a data segment left no data bytes in flight (the sender's drain). */
  onDataDelivered: (() => void) | null = null;

  constructor(
    private readonly env: NetEnv,
    readonly from: SimHost,
    readonly to: SimHost,
    private readonly receiver: Receiver,
  ) {}

  get length(): number {
    return this.q.length;
  }

  sendOpen(): void {
    this.append('open', null);
  }

  sendFin(): void {
    this.append('fin', null);
  }

  /** A reset overtakes nothing: callers clear the data first (a reset discards it). */
  sendRst(fromNetwork = false): void {
    const seg: Segment = { kind: 'rst', bytes: null, readyAt: this.env.sched.now + this.env.drawDelay(this.from, this.to), fromNetwork };
    this.q.push(seg);
    this.kick();
  }

  /**
   * One write() unit. On a chaos port it may vanish, arrive twice, or jump ahead of data
   * already in flight, always as a whole; elsewhere it may be split in two (a byte stream).
   */
  sendData(bytes: Buffer, chaos: MessageChaos | null): void {
    if (bytes.length === 0) return;
    const rng = this.env.sched.rng;
    if (chaos) {
      if (rng.chance(chaos.loss)) return;
      const copies = rng.chance(chaos.dup) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        if (rng.chance(chaos.reorder) && this.jumpAhead(bytes)) continue;
        this.append('data', bytes);
      }
      return;
    }
    const splitP = this.env.profile(this.from, this.to).splitP ?? 0;
    if (bytes.length > 1 && rng.chance(splitP)) {
      const cut = rng.int(1, bytes.length - 1);
      this.append('data', bytes.subarray(0, cut));
      this.append('data', bytes.subarray(cut));
      return;
    }
    this.append('data', bytes);
  }

  /** Drops data, FIN and the connection-open in flight (a reset); keeps resets. */
  clearData(): void {
    this.removeWhere((s) => s.kind !== 'rst');
  }

  clearAll(): void {
    this.removeWhere(() => true);
  }

  /** Schedules the pump if the head could go now or later; stalls wait for the next kick. */
  kick(): void {
    const head = this.q[0];
    if (!head || this.stalled(head)) return;
    const t = Math.max(this.env.sched.now, head.readyAt);
    if (this.ev && this.evAt <= t) return;
    this.ev?.cancel();
    this.evAt = t;
    this.ev = this.env.sched.at(t, () => this.pump());
  }

  private pump(): void {
    this.ev = null;
    this.evAt = Number.POSITIVE_INFINITY;
    const head = this.q[0];
    if (!head) return;
    if (head.readyAt > this.env.sched.now) {
      this.kick();
      return;
    }
    if (this.stalled(head)) return;
    this.q.shift();
    if (head.bytes) this.bytes -= head.bytes.length;
    this.receiver.receive(head);
    if (head.bytes && this.bytes === 0) this.onDataDelivered?.();
    // One segment per event: the async work each read starts settles before the next read.
    this.kick();
    if (this.q.length === 0) this.onDrained?.();
  }

  private stalled(head: Segment): boolean {
    if (!head.fromNetwork && this.env.isBlocked(this.from, this.to)) return true;
    if (this.receiver.closed) return false;
    if (!this.to.ready) return true;
    return (head.kind === 'data' || head.kind === 'fin') && !this.receiver.flowing;
  }

  private append(kind: SegmentKind, bytes: Buffer | null): void {
    const readyAt = Math.max(this.lastReadyAt, this.env.sched.now + this.env.drawDelay(this.from, this.to));
    this.lastReadyAt = readyAt;
    this.q.push({ kind, bytes, readyAt, fromNetwork: false });
    if (bytes) this.bytes += bytes.length;
    this.kick();
  }

  /** Inserts before a random data segment in flight (never before 'open'); false if none. */
  private jumpAhead(bytes: Buffer): boolean {
    const spots: number[] = [];
    this.q.forEach((s, i) => {
      if (s.kind === 'data') spots.push(i);
    });
    if (spots.length === 0) return false;
    const i = this.env.sched.rng.pick(spots);
    const ahead = this.q[i] as Segment;
    this.q.splice(i, 0, { kind: 'data', bytes, readyAt: ahead.readyAt, fromNetwork: false });
    this.bytes += bytes.length;
    this.kick();
    return true;
  }

  private removeWhere(pred: (s: Segment) => boolean): void {
    for (let i = this.q.length - 1; i >= 0; i--) {
      const s = this.q[i] as Segment;
      if (!pred(s)) continue;
      if (s.bytes) this.bytes -= s.bytes.length;
      this.q.splice(i, 1);
    }
    this.lastReadyAt = this.env.sched.now;
    if (this.q.length === 0) {
      this.ev?.cancel();
      this.ev = null;
      this.evAt = Number.POSITIVE_INFINITY;
      this.onDrained?.();
    }
  }
}
