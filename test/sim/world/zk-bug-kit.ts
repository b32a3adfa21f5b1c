/**
 * What the ZooKeeper-bug scenarios share: a formed world with a tap on its peer links, clients
 * whose acknowledged writes are remembered, a watch on what every server applies, and the
 * common ending (everything back up, converged, one state everywhere, nothing acknowledged or
 * committed lost).
 *
 * Everything here is observed from outside the nodes: client replies, peer-link messages,
 * files, and each node's applied state (what `zk-elect server` shows through its admin port).
 */
import { CreateMode, ErrorCode, OpCode } from '../../../src/protocol/index.js';
import { decodeTxn } from '../../../src/server/tree/txn-codec.js';
import { formatZxid, type ZabMessage } from '../../../src/server/zab/index.js';
import type { CreateResult, WireClient } from '../../../src/client/zk-client.js';
import { durableThrough } from './durable-view.js';
import { PeerTap, type PeerSend } from './peer-tap.js';
import { check, durableEpoch, elapse, formed, pinned, roles, settle, until } from './scenario-kit.js';
import type { AppliedTxn, SimWorld, WorldOptions } from './world.js';

const hex = (z: bigint): string => formatZxid(Number(z));
/** Sessions outlive every fault the scenarios inject: an expiry would add txns they do not expect. */
const SESSION_MS = 60_000;
/** Only the transaction log's files: the scenarios stall log fsyncs, as the old driver did. */
export const LOG_FILES = (p: string): boolean => p.startsWith('/data/log/');

export class BugRun {
  readonly tap: PeerTap;
  /** Creates a client saw answered OK: path -> zxid. */
  readonly acked = new Map<string, bigint>();
  /** Creates some server applied, i.e. committed: path -> zxid. */
  readonly committed = new Map<string, bigint>();
  /** Safety rules broken on the wire or in what servers applied (checked by finish and clean()). */
  readonly violations: string[] = [];
  private readonly lastApplied = new Map<number, { generation: number; state: object | undefined; zxid: bigint }>();
  private readonly txnAt = new Map<bigint, string>();
  private clientCount = 0;

  private constructor(readonly w: SimWorld) {
    this.tap = new PeerTap(w);
    this.tap.watch((s) => this.checkPromise(s));
    w.onApplied((t) => this.onApplied(t));
  }

  static async formed(options: WorldOptions): Promise<BugRun> {
    const w = await formed({ ...options, server: { maxSessionTimeoutMs: SESSION_MS, ...options.server } });
    return new BugRun(w);
  }

  /** A client pinned to `servers`, connected. */
  async client(servers: readonly number[], name = `c${++this.clientCount}`): Promise<WireClient> {
    const c = pinned(this.w, name, servers, SESSION_MS);
    await until(this.w, () => c.state === 'connected', 10_000, `client ${name} to connect to ${servers.map((s) => `s${s}`).join(',')}`);
    return c;
  }

  /** Sends a create; an OK answer, whenever it comes, is remembered as acknowledged. */
  create(c: WireClient, path: string): Promise<CreateResult> {
    return c.create(path, Buffer.from(path), CreateMode.PERSISTENT).then((r) => {
      if (r.err === ErrorCode.OK) this.acked.set(path, r.zxid);
      return r;
    });
  }

  /**
   * A create that must go through within `ms`; its zxid. A client never retries by itself, so
   * this does, on any error (a leader change costs clients their connection); NODEEXISTS then
   * means an earlier try went through, and the zxid is read from a server that applied it.
   */
  async write(c: WireClient, path: string, ms = 10_000): Promise<bigint> {
    await this.writeEventually(c, path, ms);
    const zxid = this.acked.get(path);
    if (zxid !== undefined) return zxid;
    await until(this.w, () => this.heldAnywhere(path), ms, `${path} to be applied`);
    const r = this.w.running().map((s) => s.node!.stateView().getData(path, { authIds: [] })).find((x) => x.ok);
    return r!.ok ? r!.stat.czxid : 0n;
  }

  async writes(c: WireClient, prefix: string, n: number): Promise<bigint[]> {
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) out.push(await this.write(c, `/${prefix}${i}`));
    return out;
  }

  /** A create retried until OK, or NODEEXISTS: an earlier try went through. */
  async writeEventually(c: WireClient, path: string, boundMs: number): Promise<void> {
    const end = this.w.sched.now + boundMs;
    for (;;) {
      const r = await settle(this.w, this.create(c, path), Math.max(1, end - this.w.sched.now), `create ${path}`);
      if (r.err === ErrorCode.OK || r.err === ErrorCode.NODEEXISTS) return;
      check(this.w.sched.now < end, `create ${path} kept failing (last ${r.err}) for ${boundMs} ms: ${roles(this.w)}`);
      await elapse(this.w, 20);
    }
  }

  /** Fails on any rule broken so far. */
  clean(): void {
    check(this.violations.length === 0, this.violations.join('; '));
  }

  /** Whether any running server holds `path`. */
  heldAnywhere(path: string): boolean {
    return this.w.running().some((s) => s.node!.stateView().tree.has(path));
  }

  /**
   * The common ending: faults lifted (network healed, rules and held messages gone, disks
   * unstalled, paused servers resumed), every server but `keepDown` (machines gone for good)
   * started, the cluster converged; a final write; then every running server holds the same
   * state, with every create a client saw acknowledged and every committed create in it.
   */
  async finish(keepDown: readonly number[] = []): Promise<void> {
    const w = this.w;
    w.net.heal();
    this.tap.clearRules();
    w.net.releaseHeld();
    for (const s of w.servers) {
      s.fs.holdSyncs(false);
      w.resumeServer(s.id);
      if (!keepDown.includes(s.id) && s.host.state === 'down') w.startServer(s.id);
    }
    const expected = w.servers.length - keepDown.length;
    await until(w, () => w.converged() && w.running().length === expected, 30_000, 'the cluster to converge');
    const c = await this.client(w.running().map((s) => s.id), 'final');
    await this.writeEventually(c, '/final', 10_000);
    const lastZxids = () => new Set(w.running().map((s) => s.node!.lastZxid));
    await until(w, () => w.running().length === expected && lastZxids().size === 1, 10_000, 'every server to apply the same txns');
    const running = w.running();
    const digests = new Set(running.map((s) => s.node!.stateView().digest()));
    check(digests.size === 1, `servers at the same zxid ${hex([...lastZxids()][0]!)} hold different trees: ${roles(w)}`);
    for (const [what, writes] of [['acknowledged', this.acked], ['committed', this.committed]] as const) {
      for (const [path, zxid] of writes) {
        for (const s of running) {
          const r = s.node!.stateView().getData(path, { authIds: [] });
          check(r.ok && r.stat.czxid === zxid, `${what} create ${path} at ${hex(zxid)} is ${r.ok ? `at ${hex(r.stat.czxid)}` : 'missing'} on s${s.id}`);
        }
      }
    }
    this.clean();
  }

  /**
   * What a follower promises on the wire must be on its disk when the message leaves: an ACK
   * (or a synced PONG) only for txns that would survive a power cut, the NEWLEADER ACK only with
   * currentEpoch durable, ACKEPOCH only with acceptedEpoch durable.
   */
  private checkPromise(s: PeerSend): void {
    const m = s.msg;
    const fs = this.w.slot(s.from).fs;
    if ((m.type === 'ack' || (m.type === 'pong' && m.synced)) && !durableThrough(fs, m.zxid)) {
      this.violations.push(`s${s.from} sent ${m.type} ${formatZxid(m.zxid)} at t=${s.atMs} before that txn was durable`);
    }
    if (m.type === 'ack' && m.newLeader && durableEpoch(this.w, s.from, 'currentEpoch') !== m.epoch) {
      this.violations.push(`s${s.from} acked NEWLEADER of epoch ${m.epoch} at t=${s.atMs} with currentEpoch ${durableEpoch(this.w, s.from, 'currentEpoch')} on disk`);
    }
    if (m.type === 'ackepoch' && (durableEpoch(this.w, s.from, 'acceptedEpoch') ?? 0) < m.epoch) {
      this.violations.push(`s${s.from} sent ACKEPOCH ${m.epoch} at t=${s.atMs} with acceptedEpoch ${durableEpoch(this.w, s.from, 'acceptedEpoch')} on disk`);
    }
  }

  /**
   * Per server process and state: zxids applied in increasing order (a SNAP install replaces
   * the state, after which the server may re-apply what follows the snapshot); across servers:
   * one txn per zxid.
   */
  private onApplied(t: AppliedTxn): void {
    const r = t.result;
    const slot = this.w.slot(t.server);
    const state = slot.node?.stateView();
    const prev = this.lastApplied.get(t.server);
    if (prev && prev.generation === slot.generation && prev.state === state && r.zxid <= prev.zxid) {
      this.violations.push(`s${t.server} applied ${hex(r.zxid)} after ${hex(prev.zxid)}`);
    }
    this.lastApplied.set(t.server, { generation: slot.generation, state, zxid: r.zxid });
    const txn = `${r.type}/${r.err}/${r.path ?? ''}/${r.sessionId}/${r.cxid}`;
    const other = this.txnAt.get(r.zxid);
    if (other === undefined) this.txnAt.set(r.zxid, txn);
    else if (other !== txn) this.violations.push(`two txns applied at ${hex(r.zxid)}: ${other} and ${txn} (s${t.server})`);
    if (r.err === ErrorCode.OK && r.path !== undefined && (r.type === OpCode.create || r.type === OpCode.create2)) this.committed.set(r.path, r.zxid);
  }
}

/** The path a PROPOSAL creates (or touches), if it carries such a txn. */
export function proposalPath(m: ZabMessage): string | undefined {
  if (m.type !== 'proposal') return undefined;
  const body = decodeTxn(m.payload).body;
  return 'path' in body ? body.path : undefined;
}

/** The epoch server `id` serves in (its admin view), if it runs. */
export function epochOf(w: SimWorld, id: number): number | undefined {
  return w.slot(id).node?.quorumState()?.epoch;
}
