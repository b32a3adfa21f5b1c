/**
 * A simulated cluster: N real ZkNodes (src/server/node/zk-node.ts, the class `zk-elect server`
 * runs) on simulated hosts, each with its own disk, all joined by one simulated network, plus
 * client machines. Time, ordering and every fault come from one seed (the Scheduler's PRNG).
 *
 * The world only builds and breaks things; workloads (workloads/) drive clients and record
 * what they saw, and checkers (../checkers/) judge that afterwards.
 */
import { silentLogger } from '../../../src/log.js';
import { parseClusterConfig, type ClusterConfig } from '../../../src/server/cluster/cluster-config.js';
import { defaultConfig, type ServerConfig } from '../../../src/server/config.js';
import type { NodeIo } from '../../../src/server/node/io.js';
import { ZkNode } from '../../../src/server/node/zk-node.js';
import type { ApplyResult } from '../../../src/server/tree/types.js';
import { SimHost } from '../io/host.js';
import { Scheduler } from '../io/scheduler.js';
import { SimFileSystem } from '../io/sim-fs.js';
import { SimNetwork } from '../io/sim-net.js';
import { Prng } from '../prng.js';

export const CLIENT_PORT = 2181;
export const QUORUM_PORT = 2888;
export const ELECTION_PORT = 3888;

export interface WorldOptions {
  seed: number;
  nodes: number;
  tickMs?: number;
  syncLimit?: number;
  initLimit?: number;
  /** Extra server settings (snapCount, session bounds...). */
  server?: Partial<ServerConfig>;
}

export interface ServerSlot {
  readonly id: number;
  readonly host: SimHost;
  /** The server's disk; replaced only by `replaceDisk` (an operator swapping a failed disk). */
  fs: SimFileSystem;
  node: ZkNode | undefined;
  /** Bumped per start, so a start that finishes after a crash is discarded. */
  generation: number;
  /** Why the last start failed (a refusal to open the data directory, say), if it did. */
  startError: Error | undefined;
  /** The node stopped itself (storage failure) and the process exited. */
  exited: boolean;
}

/** What a checker wants to know of each applied txn. */
export interface AppliedTxn {
  readonly server: number;
  readonly atMs: number;
  readonly result: ApplyResult;
}

export class SimWorld {
  readonly sched: Scheduler;
  readonly rng: Prng;
  readonly net: SimNetwork;
  readonly servers: ServerSlot[] = [];
  readonly cluster: ClusterConfig;
  readonly tickMs: number;
  readonly log: string[] = [];
  private readonly clientHosts = new Map<string, SimHost>();
  private readonly applyListeners: Array<(t: AppliedTxn) => void> = [];

  constructor(readonly options: WorldOptions) {
    this.sched = new Scheduler(options.seed);
    this.rng = this.sched.rng;
    this.net = new SimNetwork(this.sched);
    this.tickMs = options.tickMs ?? 100;
    const ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.cluster = parseClusterConfig(
      JSON.stringify({
        tickMs: this.tickMs,
        initLimit: options.initLimit ?? 10,
        syncLimit: options.syncLimit ?? 5,
        dataDir: '/data',
        servers: ids.map((id) => ({ id, host: ipOf(id), clientPort: CLIENT_PORT, quorumPort: QUORUM_PORT, electionPort: ELECTION_PORT })),
      }),
    );
    for (const id of ids) {
      const host = new SimHost(this.sched, `s${id}`, ipOf(id));
      this.net.addHost(host);
      this.servers.push({ id, host, fs: this.newDisk(host), node: undefined, generation: 0, startError: undefined, exited: false });
    }
  }

  /** Disk completions go through the host: dropped after a crash, delayed while paused. */
  private newDisk(host: SimHost): SimFileSystem {
    return new SimFileSystem({ rng: new Prng(this.rng.nextU32()), schedule: (d, fn) => this.sched.after(d, host.guard(fn)) });
  }

  /** An operator replaces a down server's failed disk with an empty one. */
  replaceDisk(id: number): void {
    const slot = this.slot(id);
    if (slot.host.state !== 'down') throw new Error(`s${id} must be down to replace its disk`);
    this.note(`new empty disk for s${id}`);
    slot.fs = this.newDisk(slot.host);
  }

  /** 'ip:port' of every server, for clients. */
  get addresses(): string[] {
    return this.servers.map((s) => `${s.host.ip}:${CLIENT_PORT}`);
  }

  slot(id: number): ServerSlot {
    const s = this.servers[id - 1];
    if (!s) throw new Error(`no server ${id}`);
    return s;
  }

  note(line: string): void {
    this.log.push(`t=${this.sched.now} ${line}`);
  }

  onApplied(fn: (t: AppliedTxn) => void): void {
    this.applyListeners.push(fn);
  }

  /** A client machine (created on first use). */
  clientHost(name: string): SimHost {
    let h = this.clientHosts.get(name);
    if (!h) {
      h = new SimHost(this.sched, name, `10.0.1.${this.clientHosts.size + 1}`);
      this.net.addHost(h);
      this.clientHosts.set(name, h);
    }
    return h;
  }

  get clientHostNames(): string[] {
    return [...this.clientHosts.keys()];
  }

  /** Starts server `id` (its host must be up); the node opens its data directory asynchronously. */
  startServer(id: number): void {
    const slot = this.slot(id);
    if (slot.host.state === 'down') slot.host.start();
    const generation = ++slot.generation;
    slot.exited = false;
    slot.startError = undefined;
    const io: NodeIo = {
      clock: slot.host.clock(),
      network: this.net.forHost(slot.host),
      fs: slot.fs,
      // One process per simulated host: nothing else can hold the directory.
      lock: async () => ({ release: async () => undefined }),
      exit: () => {
        slot.exited = true;
        // The process ends; its supervisor (systemd, say) starts it again a second later.
        this.sched.after(0, () => this.crashServer(id, 'exited after a storage failure'));
        this.sched.after(1000, () => {
          if (slot.host.state === 'down') this.startServer(id);
        });
      },
    };
    const config = defaultConfig({
      dataDir: '/data',
      host: slot.host.ip,
      port: CLIENT_PORT,
      tickMs: this.tickMs,
      cluster: { id, config: this.cluster },
      serverId: id,
      ...this.options.server,
    });
    const inc = slot.host.incarnation;
    this.note(`start s${id}`);
    ZkNode.start(config, io, silentLogger()).then(
      (node) => {
        if (slot.generation !== generation || slot.host.incarnation !== inc) return void node.stop().catch(() => undefined);
        slot.node = node;
        node.onApplied((result) => {
          for (const fn of this.applyListeners) fn({ server: id, atMs: this.sched.now, result });
        });
      },
      (e: unknown) => {
        if (slot.generation !== generation) return;
        slot.startError = e as Error;
        this.note(`s${id} failed to start: ${(e as Error).message}`);
        // The process exits; its supervisor tries again a second later (a refusal stays a refusal).
        this.crashServer(id, 'exited after a failed start');
        this.sched.after(1000, () => {
          if (slot.host.state === 'down' && slot.generation === generation + 1) this.startServer(id);
        });
      },
    );
  }

  /** kill -9 plus a power cut: the process is gone, unsynced disk writes may be lost or torn. */
  crashServer(id: number, why = 'crash'): void {
    const slot = this.slot(id);
    if (slot.host.state === 'down') return;
    this.note(`${why} s${id}`);
    slot.host.crash();
    slot.fs.crash();
    slot.node = undefined;
    slot.generation++;
  }

  pauseServer(id: number): void {
    const slot = this.slot(id);
    if (slot.host.state !== 'up') return;
    this.note(`pause s${id}`);
    slot.host.pause();
  }

  resumeServer(id: number): void {
    const slot = this.slot(id);
    if (slot.host.state !== 'paused') return;
    this.note(`resume s${id}`);
    slot.host.resume();
  }

  /** Servers whose node is running (started, not crashed, not paused). */
  running(): ServerSlot[] {
    return this.servers.filter((s) => s.node !== undefined && s.host.state === 'up');
  }

  /** The established leader with the highest epoch among running servers, if any. */
  leader(): number | undefined {
    let best: { id: number; epoch: number } | undefined;
    for (const s of this.running()) {
      const q = s.node!.quorumState();
      if (q?.role === 'leader' && (best === undefined || q.epoch > best.epoch)) best = { id: s.id, epoch: q.epoch };
    }
    return best?.id;
  }

  /** Every running server synced to one leader in one epoch. */
  converged(): boolean {
    const l = this.leader();
    if (l === undefined) return false;
    const epoch = this.slot(l).node!.quorumState()!.epoch;
    return this.running().every((s) => {
      const q = s.node!.quorumState()!;
      return q.epoch === epoch && (s.id === l || (q.role === 'follower' && q.leaderId === l));
    });
  }
}

export function ipOf(id: number): string {
  return `10.0.0.${id}`;
}
