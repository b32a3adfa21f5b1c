/**
 * The simulated network of one world: every host's listeners and connections, link profiles,
 * partitions, resets, and message chaos. `forHost(host)` gives a process incarnation the
 * Network interface the server code is written against (src/server/net/network.ts).
 *
 * Connections are TCP: reliable and ordered per direction however the delays fall. A
 * partition does not lose data; it holds it, as retransmissions would, and it arrives in
 * order after heal(). Loss, duplication and reordering exist only as message chaos, on the
 * ports named in setMessageChaos (the peer links, which write one framed message per write()
 * so a unit stays whole). Ordinary client connections never see them: TCP does not do that,
 * and a client protocol is entitled to rely on it.
 */
import type { NetListener, NetSocket, Network } from '../../../src/server/net/network.js';
import type { SimHost } from './host.js';
import type { ConnInfo, HeldUnit, LinkProfile, ListenerInfo, MessageChaos, NetEnv, ResetRecord, UnitFilter } from './net-types.js';
import { Pipe } from './pipe.js';
import type { Scheduler } from './scheduler.js';
import { SimSocket } from './sim-socket.js';
import { UnitFilters } from './unit-filters.js';

export const DEFAULT_PROFILE: LinkProfile = { delayMinMs: 1, delayMaxMs: 5, longDelayP: 0, longDelayMs: 0 };
export const LOOPBACK_PROFILE: LinkProfile = { delayMinMs: 0, delayMaxMs: 1, longDelayP: 0, longDelayMs: 0 };

interface ListenerRec {
  readonly host: SimHost;
  readonly address: string;
  readonly port: number;
  readonly accept: (s: SimSocket) => void;
  open: boolean;
}

interface Conn {
  readonly id: number;
  readonly port: number;
  readonly client: SimSocket;
  readonly server: SimSocket;
}

const EPHEMERAL_FIRST = 49152;

export class SimNetwork implements NetEnv {
  defaultProfile: LinkProfile = { ...DEFAULT_PROFILE };
  loopbackProfile: LinkProfile = { ...LOOPBACK_PROFILE };
  /** A dial across a blocked link (or to an unknown address) fails after a delay in this range. */
  connectTimeoutMs: readonly [number, number] = [1000, 3000];
  readonly resets: ResetRecord[] = [];
  private readonly hosts = new Map<string, SimHost>();
  private readonly byIp = new Map<string, SimHost>();
  private readonly nextPort = new Map<SimHost, number>();
  private readonly sockets = new Map<SimHost, Set<SimSocket>>();
  private listeners: ListenerRec[] = [];
  private readonly conns = new Map<number, Conn>();
  private readonly blocked = new Set<string>();
  private readonly profiles = new Map<string, LinkProfile>();
  private readonly chaos = new Map<number, MessageChaos>();
  private readonly unitFilters = new UnitFilters();
  private nextConnId = 1;

  constructor(readonly sched: Scheduler) {}

  /** Registers a host (idempotent). forHost does it too. */
  addHost(host: SimHost): void {
    if (this.hosts.get(host.name) === host) return;
    if (this.hosts.has(host.name)) throw new Error(`duplicate host name ${host.name}`);
    if (this.byIp.has(host.ip)) throw new Error(`duplicate host address ${host.ip}`);
    this.hosts.set(host.name, host);
    this.byIp.set(host.ip, host);
    this.sockets.set(host, new Set());
    host.hooks.onCrash(() => this.hostCrashed(host));
    host.hooks.onReady(() => this.kickWhere((p) => p.to === host));
  }

  /** The Network for the host's current incarnation; inert once that incarnation is gone. */
  forHost(host: SimHost): Network {
    this.addHost(host);
    const inc = host.incarnation;
    const live = (): boolean => host.incarnation === inc && host.state !== 'down';
    return {
      listen: async (address, port, onConnection) => {
        if (!live()) throw new Error(`cannot listen on ${address}:${port}: host ${host.name} is down`);
        return this.listen(host, address, port, onConnection);
      },
      connect: (ip, port) => {
        const s = new SimSocket(this, host, this.allocPort(host), ip, port, true);
        if (!live()) {
          s.closed = true;
          return s;
        }
        this.dial(host, s, ip, port);
        return s;
      },
    };
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host named ${name}`);
    return h;
  }

  // ---- faults ----

  setProfile(from: string, to: string, profile: LinkProfile): void {
    this.profiles.set(`${from}>${to}`, { ...profile });
  }

  /** One-way: traffic from `from` to `to` (data, FIN, RST, SYN) is held until unblocked. */
  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  unblock(from: string, to: string): void {
    this.blocked.delete(`${from}>${to}`);
    this.kickWhere(() => true);
  }

  /** Replaces any current blocks: hosts in different groups cannot reach each other. */
  partition(groups: readonly (readonly string[])[]): void {
    this.blocked.clear();
    for (const g of groups) for (const h of groups) {
      if (g === h) continue;
      for (const a of g) for (const b of h) this.blocked.add(`${a}>${b}`);
    }
    this.kickWhere(() => true);
  }

  heal(): void {
    this.blocked.clear();
    this.kickWhere(() => true);
  }

  /**
   * A middlebox reset of every connection between two hosts: in-flight data is lost and each
   * end gets its own RST after its own delay, partition or not.
   */
  resetLink(a: string, b: string): void {
    for (const c of [...this.conns.values()]) {
      const ends = [c.client.host.name, c.server.host.name];
      if (!(ends.includes(a) && ends.includes(b))) continue;
      for (const end of [c.client, c.server]) {
        if (end.closed) continue;
        const toEnd = end.inbound;
        if (!toEnd) continue;
        this.recordReset({ conn: c.id, host: end.host.name, peer: (end === c.client ? c.server : c.client).host.name, port: c.port, cause: 'resetLink' });
        toEnd.clearAll();
        toEnd.sendRst(true);
      }
    }
  }

  /** Chaos for connections whose server port is listed (both directions); null turns it off. */
  setMessageChaos(ports: readonly number[], chaos: MessageChaos | null): void {
    for (const p of ports) {
      if (chaos) this.chaos.set(p, { ...chaos });
      else this.chaos.delete(p);
    }
  }

  /**
   * A filter for every write() unit on connections to listener `port`, both directions (null
   * removes it). Scenarios use it to drop or hold chosen protocol messages on the peer links,
   * which write one framed message per write(); on a byte-stream port a unit is whatever the
   * sender wrote at once. Units written before the filter was set are not affected.
   */
  setFilter(port: number, fn: UnitFilter | null): void {
    this.unitFilters.set(port, fn);
  }

  /**
   * Sends the held units `pred` accepts (all without one), in the order they were held, each
   * behind whatever its connection already carries (so a held unit arrives out of order, as
   * message chaos would have it). A unit whose sending end has closed since is lost. Returns
   * how many were sent.
   */
  releaseHeld(pred: (u: HeldUnit) => boolean = () => true): number {
    return this.unitFilters.release(pred);
  }

  /** Units held by a filter and not released yet, oldest first. */
  held(): HeldUnit[] {
    return this.unitFilters.held();
  }

  // ---- inspection ----

  connections(): ConnInfo[] {
    return [...this.conns.values()].map((c) => ({
      id: c.id,
      clientHost: c.client.host.name,
      clientPort: c.client.localPort,
      serverHost: c.server.host.name,
      serverPort: c.port,
      clientOpen: !c.client.closed,
      serverOpen: !c.server.closed,
      bytesToServer: c.client.out?.bytes ?? 0,
      bytesToClient: c.server.out?.bytes ?? 0,
    }));
  }

  /** Connections with at least one end not closed. */
  openConnections(): ConnInfo[] {
    return this.connections().filter((c) => c.clientOpen || c.serverOpen);
  }

  bytesInFlight(): number {
    let n = 0;
    for (const c of this.conns.values()) n += (c.client.out?.bytes ?? 0) + (c.server.out?.bytes ?? 0);
    return n;
  }

  listening(): ListenerInfo[] {
    return this.listeners.map((l) => ({ host: l.host.name, address: l.address, port: l.port }));
  }

  // ---- NetEnv ----

  isBlocked(from: SimHost, to: SimHost): boolean {
    return this.blocked.has(`${from.name}>${to.name}`);
  }

  profile(from: SimHost, to: SimHost): LinkProfile {
    return this.profiles.get(`${from.name}>${to.name}`) ?? (from === to ? this.loopbackProfile : this.defaultProfile);
  }

  drawDelay(from: SimHost, to: SimHost): number {
    const p = this.profile(from, to);
    const rng = this.sched.rng;
    const base = rng.int(p.delayMinMs, p.delayMaxMs);
    return rng.chance(p.longDelayP) ? base + rng.int(0, p.longDelayMs) : base;
  }

  chaosFor(port: number): MessageChaos | null {
    return this.chaos.get(port) ?? null;
  }

  screen(s: SimSocket, bytes: Buffer): boolean {
    return this.unitFilters.screen(s, bytes, this.sched.now);
  }

  recordReset(r: Omit<ResetRecord, 'atMs'>): void {
    this.resets.push({ atMs: this.sched.now, ...r });
  }

  socketClosed(s: SimSocket): void {
    if (s.conn) this.retire(s.conn.id);
    else this.sockets.get(s.host)?.delete(s);
  }

  // ---- internals ----

  private listen(host: SimHost, address: string, port: number, onConnection: (s: NetSocket) => void): NetListener {
    if (address !== host.ip && address !== '127.0.0.1' && address !== '0.0.0.0') throw new Error(`cannot listen on ${address}:${port}: EADDRNOTAVAIL`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`cannot listen on ${address}:${port}: invalid port`);
    const overlaps = (l: ListenerRec) => l.host === host && (l.address === address || l.address === '0.0.0.0' || address === '0.0.0.0');
    if (port === 0) {
      do port = this.allocPort(host);
      while (this.listeners.some((l) => overlaps(l) && l.port === port));
    } else if (this.listeners.some((l) => overlaps(l) && l.port === port)) {
      throw new Error(`cannot listen on ${address}:${port}: EADDRINUSE`);
    }
    const rec: ListenerRec = { host, address, port, open: true, accept: host.guard((s: SimSocket) => (rec.open ? onConnection(s) : s.destroy())) };
    this.listeners.push(rec);
    return {
      port,
      close: async () => {
        rec.open = false;
        this.listeners = this.listeners.filter((l) => l !== rec);
      },
    };
  }

  private allocPort(host: SimHost): number {
    const p = this.nextPort.get(host) ?? EPHEMERAL_FIRST;
    this.nextPort.set(host, p >= 65535 ? EPHEMERAL_FIRST : p + 1);
    return p;
  }

  private dial(from: SimHost, s: SimSocket, ip: string, port: number): void {
    this.sockets.get(from)?.add(s);
    const to = ip === '127.0.0.1' ? from : this.byIp.get(ip);
    const started = this.sched.now;
    const timeout = this.sched.rng.int(this.connectTimeoutMs[0], this.connectTimeoutMs[1]);
    const timeOut = (): void => {
      this.sched.at(Math.max(this.sched.now, started + timeout), () => s.fail('timeout', to?.name ?? ip));
    };
    if (!to) return timeOut();
    s.peerHost = to;
    this.sched.at(this.sched.now + this.drawDelay(from, to), () => {
      if (s.closed) return;
      if (this.isBlocked(from, to) || this.isBlocked(to, from)) return timeOut();
      const l = to.state === 'down' ? undefined : this.listeners.find((x) => x.host === to && x.port === port && (x.address === '0.0.0.0' || x.address === ip));
      if (!l) {
        this.sched.at(this.sched.now + this.drawDelay(to, from), () => s.fail('refused', to.name));
        return;
      }
      this.establish(from, s, to, l, ip, port);
      // The SYN-ACK can still be held by a partition that came up since; give up like TCP.
      this.sched.at(Math.max(this.sched.now, started + timeout), () => {
        if (s.connecting && !s.closed) s.reset('timeout');
      });
    });
  }

  private establish(from: SimHost, c: SimSocket, to: SimHost, l: ListenerRec, ip: string, port: number): void {
    const id = this.nextConnId++;
    const clientAddr = ip === '127.0.0.1' ? '127.0.0.1' : from.ip;
    const srv = new SimSocket(this, to, port, clientAddr, c.localPort, false);
    srv.peerHost = from;
    const conn = { id, port };
    c.conn = conn;
    srv.conn = conn;
    c.out = new Pipe(this, from, to, srv);
    srv.out = new Pipe(this, to, from, c);
    srv.inbound = c.out;
    c.inbound = srv.out;
    c.out.onDrained = () => this.retire(id);
    srv.out.onDrained = () => this.retire(id);
    c.out.onDataDelivered = () => c.drained();
    srv.out.onDataDelivered = () => srv.drained();
    this.conns.set(id, { id, port, client: c, server: srv });
    this.sockets.get(to)?.add(srv);
    // 'open' first: whatever the server writes from its accept callback follows it.
    srv.out.sendOpen();
    l.accept(srv);
  }

  /** Forgets a connection once both ends are closed and nothing of it is in flight. */
  private retire(id: number): void {
    const c = this.conns.get(id);
    if (!c || !c.client.closed || !c.server.closed) return;
    if ((c.client.out?.length ?? 0) > 0 || (c.server.out?.length ?? 0) > 0) return;
    this.conns.delete(id);
    this.sockets.get(c.client.host)?.delete(c.client);
    this.sockets.get(c.server.host)?.delete(c.server);
  }

  private hostCrashed(host: SimHost): void {
    this.listeners = this.listeners.filter((l) => {
      if (l.host === host) l.open = false;
      return l.host !== host;
    });
    const mine = this.sockets.get(host);
    if (!mine) return;
    for (const s of [...mine]) s.reset('crash');
  }

  private kickWhere(pred: (p: Pipe) => boolean): void {
    for (const c of this.conns.values()) {
      for (const p of [c.client.out, c.server.out]) if (p && pred(p)) p.kick();
    }
  }
}
