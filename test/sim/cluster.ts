/**
 * Whole-cluster simulator: N ZAB cores, each with a SimDisk and a model state machine (the list
 * of applied entries), a SimNetwork, and the drivers' side of the contract (actions executed in
 * order, fsync completions fed back as `persisted`, snapshots served). Everything random comes
 * from one Prng. Scripted tests reach in through the public methods.
 */
import { decodeMessage, encodeMessage, ZabNode, type LogEntry, type ZabAction, type ZabConfig, type ZabInput, type ZabMessage } from '../../src/server/zab/index.js';
import { Checker } from './checker.js';
import { decodeApplied, encodeApplied, SimDisk } from './disk.js';
import { EventQueue } from './events.js';
import { SimNetwork, type Delivery } from './network.js';
import { Prng } from './prng.js';

export const TICK = 10;

export interface SimConfig {
  readonly n: number;
  readonly seed: number;
  readonly initLimit?: number;
  readonly syncLimit?: number;
  readonly electionFinalizeTicks?: number;
  readonly zxidCounterLimit?: number;
  /** fsync latency range, time units. */
  readonly fsyncMin?: number;
  readonly fsyncMax?: number;
}

export interface SimServer {
  readonly id: number;
  inc: number;
  core: ZabNode | null;
  readonly disk: SimDisk;
  applied: LogEntry[];
  paused: boolean;
  /** Inputs that arrived while paused (a stopped process's socket buffers). */
  inbox: ZabInput[];
  holdFsync: boolean;
  forwardedSeen: Set<string>;
  heldFsyncs: number[];
  lastFsyncAt: number;
  role: { role: string; leaderId?: number; epoch: number; synced: boolean };
  /** Sim time at which each of this incarnation's ticks was fed (the driver's monotonic clock). */
  tickAt: Map<number, number>;
  /** Until when this server may serve as leader (sim time), from its `lease` actions. */
  leaderLeaseUntil: number;
}

export class Sim {
  readonly rng: Prng;
  readonly net: SimNetwork;
  readonly checker = new Checker();
  readonly events = new EventQueue();
  readonly servers = new Map<number, SimServer>();
  readonly ids: number[];
  now = 0;
  diskFaultP = 0;
  fsyncMin: number;
  fsyncMax: number;
  /** Client ops by payload -> leader that proposed it. */
  readonly proposedBy = new Map<string, number>();
  /** Observers for scripted tests. */
  onSend: ((from: number, to: number, msg: ZabMessage) => void) | null = null;
  onAction: ((id: number, a: ZabAction) => void) | null = null;
  readonly log: string[] = [];
  private readonly baseCfg: Omit<ZabConfig, 'myId'>;

  constructor(readonly cfg: SimConfig) {
    this.rng = new Prng(cfg.seed);
    this.net = new SimNetwork(this.rng);
    this.ids = Array.from({ length: cfg.n }, (_, i) => i + 1);
    this.fsyncMin = cfg.fsyncMin ?? 1;
    this.fsyncMax = cfg.fsyncMax ?? 6;
    this.baseCfg = {
      peers: this.ids,
      initLimit: cfg.initLimit ?? 10,
      syncLimit: cfg.syncLimit ?? 5,
      electionFinalizeTicks: cfg.electionFinalizeTicks ?? 2,
      ...(cfg.zxidCounterLimit === undefined ? {} : { zxidCounterLimit: cfg.zxidCounterLimit }),
    };
    for (const id of this.ids) {
      const s: SimServer = {
        id, inc: 0, core: null, disk: new SimDisk(), applied: [], paused: false, inbox: [],
        holdFsync: false, forwardedSeen: new Set(), heldFsyncs: [], lastFsyncAt: 0, role: { role: 'down', epoch: 0, synced: false },
        tickAt: new Map(), leaderLeaseUntil: -1,
      };
      this.servers.set(id, s);
    }
    for (const id of this.ids) this.start(id);
  }

  server(id: number): SimServer {
    const s = this.servers.get(id);
    if (s === undefined) throw new Error(`no server ${id}`);
    return s;
  }

  private start(id: number): void {
    const s = this.server(id);
    s.inc++;
    const durable = s.disk.restore();
    s.applied = s.disk.snapshot.applied.slice();
    this.checker.onState(id, s.applied, 'restored state');
    s.core = new ZabNode({ ...this.baseCfg, myId: id }, durable);
    s.role = { role: 'looking', epoch: durable.currentEpoch, synced: false };
    s.tickAt = new Map([[0, this.now]]);
    s.leaderLeaseUntil = -1;
    this.exec(s, s.core.start());
    // Ticks at a per-incarnation phase offset, so servers are not in lock step.
    const inc = s.inc;
    const schedule = (at: number): void => {
      this.events.push(at, () => {
        if (s.inc !== inc || s.core === null) return;
        // A paused server's tick is lost (its timer fires late, as one tick, on resume).
        if (!s.paused) s.tickAt.set(s.core.now + 1, this.now);
        this.input(id, { type: 'tick' });
        schedule(at + TICK);
      });
    };
    schedule(this.now + this.rng.int(1, TICK));
  }

  /** Feed an input to a server now (queued if it is paused, dropped if it is down). */
  input(id: number, inp: ZabInput): void {
    const s = this.server(id);
    if (s.core === null) return;
    if (s.paused) {
      if (inp.type !== 'tick') s.inbox.push(inp);
      return;
    }
    this.exec(s, s.core.step(inp));
  }

  private exec(s: SimServer, actions: ZabAction[]): void {
    for (const a of actions) {
      if (s.core === null) return; // crashed by a disk fault mid-batch
      this.onAction?.(s.id, a);
      this.execOne(s, a);
    }
  }

  private execOne(s: SimServer, a: ZabAction): void {
    switch (a.type) {
      case 'persistEpoch':
        s.disk[a.name] = a.value;
        return;
      case 'truncateLog':
        s.heldFsyncs = [];
        s.disk.truncateAfter(a.afterZxid);
        return;
      case 'installSnapshot': {
        s.heldFsyncs = [];
        const applied = decodeApplied(a.bytes);
        s.disk.install(a.zxid, applied, a.entries);
        s.applied = applied.slice();
        this.checker.onState(s.id, applied, 'installed snapshot');
        return;
      }
      case 'appendLog': {
        s.disk.append(a.entries);
        const upTo = (a.entries[a.entries.length - 1] as LogEntry).zxid;
        const at = Math.max(s.lastFsyncAt, this.now + this.rng.int(this.fsyncMin, this.fsyncMax));
        s.lastFsyncAt = at;
        const inc = s.inc;
        const gen = s.disk.gen;
        this.events.push(at, () => this.fsyncDone(s, inc, gen, upTo));
        return;
      }
      case 'send':
        return this.send(s, a.to, a.msg);
      case 'commit':
        for (const e of a.entries) {
          this.checker.onApply(s.id, s.applied.length, e);
          s.applied.push(e);
          if (s.role.role === 'leading' && s.role.synced) {
            const p = e.payload.toString('latin1');
            if (this.proposedBy.has(p)) this.checker.onClientAck(p, e.zxid);
          }
        }
        return;
      case 'requestSnapshot': {
        const inc = s.inc;
        this.events.push(this.now + this.rng.int(1, 5), () => {
          if (s.inc !== inc || s.core === null) return;
          const last = s.applied[s.applied.length - 1];
          this.input(s.id, { type: 'snapshot', peer: a.peer, zxid: last?.zxid ?? 0, bytes: encodeApplied(s.applied) });
        });
        return;
      }
      case 'role':
        s.role = { role: a.role, ...(a.leaderId === undefined ? {} : { leaderId: a.leaderId }), epoch: a.epoch, synced: a.synced };
        // A leader serves from establishment until its lease says otherwise (a core that reports
        // no lease counts as serving for as long as it leads).
        s.leaderLeaseUntil = a.role === 'leading' && a.synced ? Infinity : -1;
        if (a.role === 'leading' && a.synced) {
          this.checker.onEstablished(s.id, a.epoch);
          // (6) leases: no other leader may still be serving when a new one is established.
          for (const o of this.servers.values()) {
            if (o.id !== s.id && o.core !== null && o.leaderLeaseUntil > this.now) {
              this.checker.fail(`(6) server ${s.id} established epoch ${a.epoch} at t=${this.now} while server ${o.id} leads on a lease until t=${o.leaderLeaseUntil}`);
            }
          }
        }
        return;
      case 'lease': {
        if (s.role.role !== 'leading') return; // follower leases protect sessions, not leadership
        const at = s.tickAt.get(a.anchorTick);
        if (at === undefined) return this.checker.fail(`lease anchored on tick ${a.anchorTick} that server ${s.id} never saw`);
        s.leaderLeaseUntil = at + a.ticks * TICK;
        return;
      }
      case 'leaseGranted':
        return;
      case 'disconnect':
        // The link resets: both ends learn it (after the network's delay).
        for (const [x, y] of [[s.id, a.peer], [a.peer, s.id]] as const) {
          const inc = this.server(x).inc;
          this.events.push(this.now + this.rng.int(1, 4), () => {
            if (this.server(x).inc === inc) this.input(x, { type: 'peerDisconnected', peer: y });
          });
        }
        return;
      case 'proposed':
        this.proposedBy.set(a.payload.toString('latin1'), s.id);
        return;
      case 'forwarded': {
        // The server glue dedupes requests (ZooKeeper: session id + cxid); the network here may
        // duplicate a REQUEST, so this driver proposes each forwarded payload once per process.
        const key = a.payload.toString('latin1');
        if (s.forwardedSeen.has(key)) return;
        s.forwardedSeen.add(key);
        const inc = s.inc;
        this.events.push(this.now, () => {
          if (s.inc === inc) this.input(s.id, { type: 'propose', payload: a.payload });
        });
        return;
      }
      case 'rejected':
      case 'opaque':
        return;
    }
  }

  private fsyncDone(s: SimServer, inc: number, gen: number, upTo: number): void {
    if (s.inc !== inc || s.core === null || s.disk.gen !== gen) return;
    if (s.holdFsync || s.paused) {
      s.heldFsyncs.push(upTo);
      return;
    }
    if (this.rng.chance(this.diskFaultP)) {
      this.log.push(`t=${this.now} server ${s.id}: fsync failed, crashing`);
      this.crash(s.id);
      return;
    }
    s.disk.sync(upTo);
    this.input(s.id, { type: 'persisted', upToZxid: upTo });
  }

  private send(s: SimServer, to: number, msg: ZabMessage): void {
    this.checker.onSend(s.id, s.disk, msg);
    this.onSend?.(s.id, to, msg);
    const bytes = encodeMessage(msg);
    const t = this.server(to);
    for (const d of this.net.plan(this.now, s.id, to, s.inc, t.inc, msg, bytes)) this.schedule(d);
  }

  schedule(d: Delivery): void {
    this.events.push(Math.max(d.at, this.now), () => {
      const from = this.server(d.from);
      const to = this.server(d.to);
      if (from.inc !== d.fromInc || to.inc !== d.toInc) return; // connection reset by a crash
      if (this.net.isBlocked(d.from, d.to)) return;
      this.input(d.to, { type: 'message', from: d.from, msg: decodeMessage(d.bytes) });
    });
  }

  // ---------- faults and controls ----------

  crash(id: number): void {
    const s = this.server(id);
    if (s.core === null) return;
    s.core = null;
    s.paused = false;
    s.inbox = [];
    s.heldFsyncs = [];
    s.applied = [];
    s.forwardedSeen = new Set();
    s.disk.crash();
    s.inc++;
    s.role = { role: 'down', epoch: 0, synced: false };
    this.log.push(`t=${this.now} crash ${id}`);
    for (const p of this.ids) {
      if (p !== id) this.events.push(this.now + this.rng.int(1, TICK), () => this.input(p, { type: 'peerDisconnected', peer: id }));
    }
  }

  restart(id: number): void {
    const s = this.server(id);
    if (s.core !== null) return;
    this.log.push(`t=${this.now} restart ${id}`);
    this.start(id);
    // Connections come up again: both ends are told (a looking server re-sends its vote).
    for (const p of this.ids) {
      if (p === id) continue;
      this.events.push(this.now + this.rng.int(1, TICK), () => {
        this.input(p, { type: 'peerConnected', peer: id });
        this.input(id, { type: 'peerConnected', peer: p });
      });
    }
  }

  pause(id: number): void {
    const s = this.server(id);
    if (s.core !== null) s.paused = true;
  }

  resume(id: number): void {
    const s = this.server(id);
    if (!s.paused) return;
    s.paused = false;
    const inbox = s.inbox;
    s.inbox = [];
    for (const inp of inbox) this.input(id, inp);
    this.releaseFsyncs(id);
  }

  setHoldFsync(id: number, hold: boolean): void {
    this.server(id).holdFsync = hold;
    if (!hold) this.releaseFsyncs(id);
  }

  private releaseFsyncs(id: number): void {
    const s = this.server(id);
    if (s.holdFsync || s.paused || s.core === null) return;
    const held = s.heldFsyncs;
    s.heldFsyncs = [];
    const inc = s.inc;
    const gen = s.disk.gen;
    for (const upTo of held) this.events.push(this.now, () => this.fsyncDone(s, inc, gen, upTo));
  }

  /** The server's driver takes a local snapshot of its applied state and purges its log. */
  takeSnapshot(id: number): void {
    const s = this.server(id);
    if (s.core === null || s.paused) return;
    const last = s.applied[s.applied.length - 1];
    if (last === undefined) return;
    s.disk.takeSnapshot(last.zxid, s.applied.slice());
    this.input(id, { type: 'snapshotInstalled', zxid: last.zxid });
  }

  releaseHeld(pred?: (d: Delivery) => boolean): void {
    for (const d of this.net.release(pred)) this.schedule({ ...d, at: this.now + 1 });
  }

  /** Established leader (by role notifications), if exactly one live one has the highest epoch. */
  leader(): number | undefined {
    let best: SimServer | undefined;
    for (const s of this.servers.values()) {
      if (s.core === null || s.paused || s.role.role !== 'leading' || !s.role.synced) continue;
      if (best === undefined || s.role.epoch > best.role.epoch) best = s;
    }
    return best?.id;
  }

  /** A client write: to the leader (propose) or through a follower (forward). */
  submit(payload: string, via?: number): void {
    const target = via ?? this.leader();
    if (target === undefined) return;
    const s = this.server(target);
    const buf = Buffer.from(payload, 'latin1');
    if (s.role.role === 'leading') this.input(target, { type: 'propose', payload: buf });
    else this.input(target, { type: 'forward', payload: buf });
  }

  runUntilTime(t: number, stop?: () => boolean): boolean {
    for (;;) {
      if (stop?.()) return true;
      const next = this.events.peekTime();
      if (next === undefined || next > t) break;
      const e = this.events.pop();
      if (e === undefined) break;
      this.now = Math.max(this.now, e.at);
      e.run();
    }
    this.now = Math.max(this.now, t);
    return stop?.() ?? false;
  }

  runTicks(ticks: number, stop?: () => boolean): boolean {
    return this.runUntilTime(this.now + ticks * TICK, stop);
  }

  /** All running (not crashed, not paused) servers synced to one established leader in one epoch. */
  converged(): boolean {
    const l = this.leader();
    if (l === undefined) return false;
    const ls = this.server(l);
    for (const s of this.servers.values()) {
      if (s.core === null || s.paused) continue;
      if (s.id === l) continue;
      if (s.role.role !== 'following' || !s.role.synced || s.role.leaderId !== l || s.role.epoch !== ls.role.epoch) return false;
    }
    return true;
  }

  /** Applied state of every running server. */
  appliedStates(): Map<number, readonly LogEntry[]> {
    return new Map([...this.servers.values()].filter((s) => s.core !== null).map((s) => [s.id, s.applied]));
  }
}
