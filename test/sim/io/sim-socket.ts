/**
 * One end of a simulated TCP connection (the NetSocket the server code is handed).
 *
 * Close semantics, as node:net with allowHalfOpen=false (what the server runs with):
 *   - end(): our FIN follows our queued data. We stay readable; our onClose fires when the
 *     peer's FIN comes back (the peer answers a FIN with its own at once, after whatever it
 *     had already queued), or on a reset.
 *   - receiving a FIN: everything before it was delivered; we answer with our FIN and close.
 *   - destroy(): a reset. Our queued bytes are dropped, the peer's onClose follows after the
 *     link delay, ours fires in a scheduler event at the current time (never re-entrantly
 *     inside destroy(), as node emits 'close' on a later tick).
 * Each end reports onClose exactly once, and nothing after it. A host crash closes its sockets
 * silently (the dead process hears nothing) and resets their peers.
 */
import type { NetSocket } from '../../../src/server/net/network.js';
import type { SimHost } from './host.js';
import type { NetEnv, ResetCause } from './net-types.js';
import type { Pipe, Receiver, Segment } from './pipe.js';

export interface SocketConn {
  readonly id: number;
  /** Server (listener) port: decides message chaos. */
  readonly port: number;
}

export class SimSocket implements NetSocket, Receiver {
  /** Outgoing direction; a dialling socket gets it when its SYN reaches a listener. */
  out: Pipe | null = null;
  /** Incoming direction (the peer's `out`). */
  inbound: Pipe | null = null;
  conn: SocketConn | null = null;
  peerHost: SimHost | null = null;
  connecting: boolean;
  /** Closed as far as traffic goes; `closeReported` says whether onClose has fired. */
  closed = false;
  closeReported = false;
  private finQueued = false;
  private appPaused = false;
  private pre: Buffer[] = [];
  private preBytes = 0;
  private connectFn: (() => void) | undefined;
  private dataFn: ((chunk: Buffer) => void) | undefined;
  private closeFn: (() => void) | undefined;
  private drainFn: (() => void) | undefined;
  /** Runs host code under the guard of the incarnation that created this socket. */
  private readonly call: (fn: () => void) => void;

  constructor(
    private readonly env: NetEnv,
    readonly host: SimHost,
    readonly localPort: number,
    public remoteAddress: string,
    public remotePort: number,
    dialling: boolean,
  ) {
    this.connecting = dialling;
    this.call = host.guard((fn: () => void) => fn());
  }

  get queuedBytes(): number {
    return this.preBytes + (this.out?.bytes ?? 0);
  }

  get flowing(): boolean {
    return !this.appPaused && this.dataFn !== undefined;
  }

  get paused(): boolean {
    return this.appPaused;
  }

  write(data: Buffer): void {
    if (this.closed || this.finQueued) return;
    // Copied: the caller may reuse its buffer once write() returns, as with node:net.
    const copy = Buffer.from(data);
    if (this.connecting || !this.out) {
      this.pre.push(copy);
      this.preBytes += copy.length;
      return;
    }
    this.sendUnit(copy);
  }

  /**
   * A unit a filter held (SimNetwork.releaseHeld), sent now without a second screening; false
   * if this end can no longer send (closed, or its FIN already queued): the unit is lost.
   */
  sendHeld(bytes: Buffer): boolean {
    if (this.closed || this.finQueued || this.connecting || !this.out) return false;
    this.out.sendData(bytes, this.chaos());
    return true;
  }

  end(data?: Buffer): void {
    if (this.closed || this.finQueued) return;
    if (data) this.write(data);
    this.finQueued = true;
    if (!this.connecting && this.out) this.out.sendFin();
  }

  destroy(): void {
    this.reset('destroy');
  }

  pause(): void {
    this.appPaused = true;
  }

  resume(): void {
    this.appPaused = false;
    this.inbound?.kick();
  }

  onConnect(fn: () => void): void {
    this.connectFn = fn;
  }

  onData(fn: (chunk: Buffer) => void): void {
    this.dataFn = fn;
    // Until a reader is attached nothing is delivered (node buffers unread data the same way).
    this.inbound?.kick();
  }

  onClose(fn: () => void): void {
    this.closeFn = fn;
    if (this.closeReported) fn();
  }

  onDrain(fn: () => void): void {
    this.drainFn = fn;
  }

  /** Our pipe delivered its last data byte in flight: the application hears it (once it runs). */
  drained(): void {
    if (this.closed || this.queuedBytes > 0 || !this.drainFn) return;
    this.call(() => {
      if (!this.closed && this.queuedBytes === 0) this.drainFn?.();
    });
  }

  /** Pipe delivery. The pipe only delivers when our host is ready, so this runs at once. */
  receive(seg: Segment): void {
    this.call(() => this.handle(seg));
  }

  /**
   * Closes with a reset of our own making: queued output is dropped, the peer hears an RST.
   * `cause` 'crash' closes silently (the process that would hear about it is gone).
   */
  reset(cause: ResetCause): void {
    if (this.closed) return;
    this.pre = [];
    this.preBytes = 0;
    if (this.out && this.peerHost) {
      this.out.clearData();
      this.out.sendRst();
    }
    if (this.peerHost) this.env.recordReset({ conn: this.conn?.id ?? null, host: this.host.name, peer: this.peerHost.name, port: this.conn?.port ?? this.remotePort, cause });
    this.close(cause !== 'crash');
  }

  /** A dial that failed before any connection existed (refused, timed out). */
  fail(cause: ResetCause, peer: string): void {
    if (this.closed) return;
    this.env.recordReset({ conn: null, host: this.host.name, peer, port: this.remotePort, cause });
    this.pre = [];
    this.preBytes = 0;
    this.close(true);
  }

  private handle(seg: Segment): void {
    if (this.closed) return;
    switch (seg.kind) {
      case 'open': {
        this.connecting = false;
        // What was written while dialling leaves first, as from node's write buffer.
        const pre = this.pre;
        this.pre = [];
        this.preBytes = 0;
        for (const b of pre) this.sendUnit(b);
        if (this.finQueued) this.out?.sendFin();
        this.connectFn?.();
        return;
      }
      case 'data':
        if (seg.bytes) this.dataFn?.(seg.bytes);
        return;
      case 'fin':
        if (!this.finQueued) {
          this.finQueued = true;
          this.out?.sendFin();
        }
        this.close(true);
        return;
      case 'rst':
        this.out?.clearData();
        this.close(true);
        return;
    }
  }

  private close(report: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.connecting = false;
    this.inbound?.clearAll();
    this.env.socketClosed(this);
    if (!report) return;
    this.env.sched.at(this.env.sched.now, () =>
      this.call(() => {
        if (this.closeReported) return;
        this.closeReported = true;
        this.closeFn?.();
      }),
    );
  }

  /** One write() unit onto the wire, unless the network's filter for our port drops or holds it. */
  private sendUnit(bytes: Buffer): void {
    if (this.conn && this.env.screen && !this.env.screen(this, bytes)) return;
    this.out?.sendData(bytes, this.chaos());
  }

  private chaos() {
    return this.conn ? this.env.chaosFor(this.conn.port) : null;
  }
}
