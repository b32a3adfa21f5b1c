/**
 * Per-port filters of write() units for the simulated network (SimNetwork.setFilter): the
 * scripted scenarios' way to drop or hold chosen protocol messages. The peer links write one
 * framed message per write(), so on those ports a unit is exactly one message.
 */
import type { HeldUnit, UnitFilter } from './net-types.js';
import type { SimSocket } from './sim-socket.js';

export class UnitFilters {
  private readonly byPort = new Map<number, UnitFilter>();
  private heldUnits: Array<HeldUnit & { readonly socket: SimSocket }> = [];

  set(port: number, fn: UnitFilter | null): void {
    if (fn) this.byPort.set(port, fn);
    else this.byPort.delete(port);
  }

  /** Whether the unit goes now; a held one is kept for release(). */
  screen(s: SimSocket, bytes: Buffer, nowMs: number): boolean {
    const port = s.conn?.port;
    const f = port === undefined ? undefined : this.byPort.get(port);
    if (!f || !s.peerHost || port === undefined) return true;
    const verdict = f(s.host.name, s.peerHost.name, bytes);
    if (verdict === 'deliver') return true;
    if (verdict === 'hold') this.heldUnits.push({ atMs: nowMs, port, from: s.host.name, to: s.peerHost.name, bytes, socket: s });
    return false;
  }

  release(pred: (u: HeldUnit) => boolean): number {
    const go = this.heldUnits.filter((u) => pred(u));
    this.heldUnits = this.heldUnits.filter((u) => !go.includes(u));
    let sent = 0;
    for (const u of go) if (u.socket.sendHeld(u.bytes)) sent++;
    return sent;
  }

  held(): HeldUnit[] {
    return this.heldUnits.map(({ socket: _socket, ...u }) => u);
  }
}
