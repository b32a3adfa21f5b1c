/**
 * Differential conformance testing: the same scenario runs against real Apache ZooKeeper
 * (standalone, Debian's 3.8 package via the harness) and against zk-elect's own server; each
 * run appends observations to a transcript; both transcripts are normalized and must be
 * deep-equal.
 *
 * Normalization keeps every relation a client could rely on and drops only what legitimately
 * differs between two servers:
 * - zxids become z1, z2, ... by ascending value among the zxids the scenario observed (so
 *   equality AND order between zxids are compared; 0 and -1 stay literal);
 * - session ids become s1, s2, ... in order of first appearance (0 stays "0");
 * - ctime becomes "T" when it is a plausible wall-clock time, mtime "=ctime" when the node was
 *   never modified (mzxid == czxid) and ">=ctime" otherwise (anything else is flagged);
 * - Buffers become their UTF-8 text (or hex: when not printable).
 * Both servers get the SAME scenario root path, so even hash-ordered listings (children,
 * ephemerals) are compared as they are.
 *
 * CONFORMANCE_DUMP=1 prints every scenario's normalized Apache transcript to stderr.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fourLetterWord, startZooKeeper, type ZkEnsemble, type ZkMember } from '../support/apache-zookeeper.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { errorName, EventType } from '../../src/protocol/index.js';
import { RawClient, type RawConnectOptions, type RawReply } from '../support/raw-client.js';

export type Target = 'apache' | 'ours';

/** Server settings both sides run with (the harness defaults, spelled out). */
/**
 * CONFORMANCE_NODES=3 runs every scenario against a 3-node Apache ensemble and a 3-node
 * zk-elect cluster instead of standalone servers. Each scenario's clients then all use one
 * member, chosen by role so that both systems use a member in the same role (scenario n: the
 * leader when n % 3 == 0, else the first or second follower by id): scenarios run through
 * followers and leaders alike (spreading one scenario's clients over members would make
 * cross-client reads legitimately racy on both systems).
 *
 * The few values that differ on a cluster for a known reason are checked where they occur, with
 * recKnown/noteKnown (see KnownDifference): the rest of the scenario is compared as usual.
 */
export const NODES: 1 | 3 = process.env['CONFORMANCE_NODES'] === '3' ? 3 : 1;

/**
 * A value that differs between the systems on a cluster for a known reason (`why`): each
 * system's value is checked against what is known of it (`apache`, `ours`), and `rest`, the
 * part that does not differ, is still compared. The transcript records that the check held,
 * or the value itself if it did not (so the diff shows it).
 */
export interface KnownDifference<T> {
  why: string;
  apache(v: T): boolean;
  ours(v: T): boolean;
  rest?(v: T): unknown;
}

type StatLike = { version: number; dataLength: number; mtime: unknown; ctime: unknown } & Record<string, unknown>;

/**
 * /zookeeper/config on a cluster: Apache keeps the ensemble's dynamic configuration there
 * (server.N=host:quorum:election:participant lines and version=0; Stat version -1, mtime set),
 * zk-elect has no reconfig and leaves the node empty. Everything else of the Stat is compared.
 */
export function configNodeStat(): KnownDifference<StatLike | undefined> {
  return {
    why: 'cluster: /zookeeper/config holds the dynamic config on Apache (Stat version -1), nothing on zk-elect',
    apache: (st) => st !== undefined && st.version === -1 && st.dataLength > 0,
    ours: (st) => st !== undefined && st.version === 0 && st.dataLength === 0 && Number(st.mtime) === Number(st.ctime),
    rest: (st) => (st === undefined ? undefined : Object.fromEntries(Object.entries(st).filter(([k]) => k !== 'version' && k !== 'dataLength' && k !== 'mtime'))),
  };
}

/** The dynamic config text as Apache writes it for the harness's 3 members on loopback. */
export const DYNAMIC_CONFIG = /^(server\.[123]=127\.0\.0\.1:\d+:\d+:participant\n){3}version=0$/;

/** A reply body with the Stat of /zookeeper/config (exists, getACL, getData): the config
 * node's known difference on a cluster, with the data (if any) checked and the rest compared. */
export function configNodeBody<B extends { stat?: unknown; data?: Buffer | null }>(): KnownDifference<B | undefined> {
  const st = configNodeStat();
  const stat = (b: B | undefined) => b?.stat as StatLike | undefined;
  const data = (b: B | undefined) => (b && 'data' in b ? (b.data ?? Buffer.alloc(0)) : undefined);
  return {
    why: st.why,
    apache: (b) => st.apache(stat(b)) && (data(b) === undefined || (DYNAMIC_CONFIG.test(data(b)!.toString('utf8')) && data(b)!.length === stat(b)!.dataLength)),
    ours: (b) => st.ours(stat(b)) && (data(b) === undefined || data(b)!.length === 0),
    rest: (b) => (b === undefined ? undefined : Object.fromEntries(Object.entries(b).filter(([k]) => k !== 'data').map(([k, v]) => [k, k === 'stat' ? st.rest!(v as StatLike) : v]))),
  };
}

export const SERVER_OPTIONS = { nodes: NODES, tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 } as const;

// ---- markers, resolved when the transcript is normalized ----------------------------------

class Zxid {
  constructor(readonly v: bigint) {}
}
class SessionId {
  constructor(readonly v: bigint) {}
}

const eventNames = new Map<number, string>(Object.entries(EventType).map(([k, v]) => [v, k]));
export const eventName = (t: number): string => eventNames.get(t) ?? `event(${t})`;

// ---- the official C client ----------------------------------------------------------------

const requireCjs = createRequire(import.meta.url);
type NativeCtor = new (config: Record<string, unknown>) => NativeZk;
interface NativeZk {
  on(event: string, listener: (...args: unknown[]) => void): void;
  init(config: Record<string, unknown>): void;
  close(): void;
  readonly client_id: string;
  readonly client_password: string;
  readonly timeout: number;
  add_auth(scheme: string, auth: string, cb: (rc: number, error: string) => void): number;
  [method: string]: unknown;
}

export interface NativeResult {
  /** Error name: OK, NONODE, ... */
  err: string;
  value: unknown;
}

/**
 * The official ZooKeeper C client (npm `zookeeper`), promise API. Results come back as
 * `{ err, value }`; watch callbacks (w_* methods) append to `events` in arrival order.
 */
export class NativeClient {
  readonly events: Array<{ type: string; path: string }> = [];
  closed = false;
  closeCode: number | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly zk: NativeZk) {}

  static async connect(address: string, timeoutMs = 4000, extra: Record<string, unknown> = {}): Promise<NativeClient> {
    const Ctor = requireCjs('zookeeper') as NativeCtor;
    const zk = new Ctor({
      connect: address,
      timeout: timeoutMs,
      debug_level: 0,
      host_order_deterministic: true,
      data_as_buffer: true,
      response_counter_limit: 1_000_000,
      ...extra,
    });
    const client = new NativeClient(zk);
    zk.on('close', (code) => {
      client.closed = true;
      client.closeCode = Number(code);
      client.wake();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`C client: no session with ${address} within 10 s`)), 10_000);
      zk.on('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      zk.init({});
    });
    return client;
  }

  get sessionId(): bigint {
    return BigInt(`0x${this.zk.client_id}`);
  }

  /** Calls a promise-API method; a ZooKeeper error becomes `{ err: 'NONODE', value: undefined }`. */
  async call(method: string, ...args: unknown[]): Promise<NativeResult> {
    if (this.closed) return { err: 'CLOSED', value: undefined };
    const fn = this.zk[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (typeof fn !== 'function') throw new Error(`C client has no method ${method}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`C client ${method}(${JSON.stringify(args[0])}) unanswered after 10 s`)), 10_000);
    });
    try {
      const value = await Promise.race([fn.apply(this.zk, args), timeout]);
      return { err: 'OK', value };
    } catch (e) {
      const m = /^(-?\d+)\b/.exec((e as Error).message);
      if (!m) throw e;
      return { err: errorName(Number(m[1])), value: undefined };
    } finally {
      clearTimeout(timer);
    }
  }

  create(path: string, data: string | Buffer, flags: number, ttl?: number) {
    return ttl === undefined ? this.call('create', path, data, flags) : this.call('create', path, data, flags, ttl);
  }
  exists(path: string) {
    return this.call('exists', path, false);
  }
  get(path: string) {
    return this.call('get', path, false);
  }
  getChildren(path: string) {
    return this.call('get_children', path, false);
  }
  getChildren2(path: string) {
    return this.call('get_children2', path, false);
  }
  set(path: string, data: string | Buffer, version: number) {
    return this.call('set', path, data, version);
  }
  delete(path: string, version: number) {
    return this.call('delete_', path, version);
  }
  getAcl(path: string) {
    return this.call('get_acl', path);
  }
  /** `acl`: [{ perm, scheme, auth }] as the binding expects. */
  setAcl(path: string, version: number, acl: Array<{ perm: number; scheme: string; auth: string }>) {
    return this.call('set_acl', path, version, acl);
  }
  sync(path: string) {
    return this.call('sync', path);
  }
  wExists(path: string) {
    return this.call('w_exists', path, this.watcher());
  }
  wGet(path: string) {
    return this.call('w_get', path, this.watcher());
  }
  wGetChildren(path: string) {
    return this.call('w_get_children', path, this.watcher());
  }
  addAuth(scheme: string, auth: string): Promise<NativeResult> {
    return new Promise((resolve) => {
      const rc = this.zk.add_auth(scheme, auth, (code) => resolve({ err: errorName(code), value: undefined }));
      if (typeof rc === 'number' && rc !== 0) resolve({ err: errorName(rc), value: undefined });
    });
  }

  async waitEvents(count: number, timeoutMs = 5000): Promise<Array<{ type: string; path: string }>> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (Date.now() > deadline) throw new Error(`C client: waited ${timeoutMs} ms for ${count} watch event(s), got ${JSON.stringify(this.events)}`);
      await this.nap(deadline);
    }
    return [...this.events];
  }

  takeEvents(): Array<{ type: string; path: string }> {
    return this.events.splice(0, this.events.length);
  }

  async waitClosed(timeoutMs = 8000): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`C client: not closed within ${timeoutMs} ms`);
      await this.nap(deadline);
    }
    return this.closeCode;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.zk.close();
  }

  private watcher() {
    return (type: number, _state: number, path: string) => {
      this.events.push({ type: eventName(type), path });
      this.wake();
    };
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private nap(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(1, Math.min(100, deadline - Date.now())));
      this.waiters.add(done);
    });
  }
}

// ---- scenario context ---------------------------------------------------------------------

export interface Ctx {
  /** Tracks a client made outside raw() (e.g. by reconnect()) so the scenario closes it. */
  track(c: RawClient): RawClient;
  readonly target: Target;
  readonly ensemble: ZkEnsemble;
  readonly address: string;
  /** A persistent, empty node created for this scenario; the same path on both servers. */
  readonly root: string;
  /** A raw-protocol client (closed with its session when the scenario ends). */
  raw(options?: RawConnectOptions): Promise<RawClient>;
  /** An official C client session (closed when the scenario ends). */
  native(timeoutMs?: number): Promise<NativeClient>;
  /** Records a raw-client reply under a label. */
  rec(label: string, reply: RawReply<unknown>): void;
  /** Records a C-client result under a label. */
  recN(label: string, result: NativeResult): void;
  /** Records any value (normalized: Buffers, bigint zxid/session fields, Stats). */
  note(label: string, value: unknown): void;
  /** Marks a value as a zxid / a session id for normalization. */
  zxid(v: bigint | number): unknown;
  sid(v: bigint | string): unknown;
  /** Notifications a raw client received so far (taken), as "Type path". */
  events(label: string, client: RawClient | NativeClient): void;
  /** The order of replies and notifications on a raw client's connection since `fromSeq`. */
  arrivals(label: string, client: RawClient, fromSeq?: number): void;
  fourLetter(word: string): Promise<string>;
  sleep(ms: number): Promise<void>;
  /** 1 for standalone servers, 3 in the cluster run. */
  readonly nodes: 1 | 3;
  /** The id of the member this scenario uses (on a cluster, which id holds a role may differ between the systems). */
  readonly memberId: number;
  /**
   * rec(), except on a cluster, where the body differs for a known reason: `err` and `zxid` are
   * compared as always, the body through `known` (checked per system, its `rest` compared).
   */
  recKnown<B>(label: string, reply: RawReply<B>, known: KnownDifference<B | undefined>): void;
  /** note(), except on a cluster, where `value` differs for a known reason (see KnownDifference). */
  noteKnown<T>(label: string, value: T, known: KnownDifference<T>): void;
}

interface Entry {
  label: string;
  value: unknown;
}

const STAT_KEYS = ['czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren', 'pzxid'];

function isStat(v: object): v is Record<string, unknown> {
  return STAT_KEYS.every((k) => k in v);
}

const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : BigInt(String(v)));
const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Number(v));

class Run implements Ctx {
  readonly nodes = NODES;
  readonly entries: Entry[] = [];
  private readonly raws: RawClient[] = [];
  private readonly natives: NativeClient[] = [];
  readonly startedAtMs = Date.now();

  constructor(
    readonly target: Target,
    readonly ensemble: ZkEnsemble,
    readonly root: string,
    private readonly member = 0,
  ) {}

  get address(): string {
    const members = this.ensemble.members;
    return members[this.member % members.length]!.address;
  }

  get memberId(): number {
    const members = this.ensemble.members;
    return members[this.member % members.length]!.id;
  }

  async raw(options: RawConnectOptions = {}): Promise<RawClient> {
    const c = await RawClient.connect(this.address, options);
    this.raws.push(c);
    return c;
  }

  /** Tracks a client created outside raw() (e.g. by reconnect()) for cleanup. */
  track(c: RawClient): RawClient {
    this.raws.push(c);
    return c;
  }

  async native(timeoutMs = 4000): Promise<NativeClient> {
    const c = await NativeClient.connect(this.address, timeoutMs);
    this.natives.push(c);
    return c;
  }

  rec(label: string, reply: RawReply<unknown>): void {
    const value: Record<string, unknown> = { err: reply.errName, zxid: new Zxid(reply.zxid) };
    if (reply.body !== undefined) value['body'] = this.norm(reply.body);
    this.entries.push({ label, value });
  }

  recN(label: string, result: NativeResult): void {
    const value: Record<string, unknown> = { err: result.err };
    if (result.value !== undefined && result.value !== null) value['value'] = this.norm(result.value);
    this.entries.push({ label, value });
  }

  note(label: string, value: unknown): void {
    this.entries.push({ label, value: this.norm(value) });
  }

  recKnown<B>(label: string, reply: RawReply<B>, known: KnownDifference<B | undefined>): void {
    if (NODES === 1) return this.rec(label, reply as RawReply<unknown>);
    const value: Record<string, unknown> = { err: reply.errName, zxid: new Zxid(reply.zxid) };
    Object.assign(value, this.knownValue(reply.body, known));
    this.entries.push({ label, value });
  }

  noteKnown<T>(label: string, value: T, known: KnownDifference<T>): void {
    if (NODES === 1) return this.note(label, value);
    this.entries.push({ label, value: this.knownValue(value, known) });
  }

  private knownValue<T>(v: T, known: KnownDifference<T>): Record<string, unknown> {
    const held = this.target === 'apache' ? known.apache(v) : known.ours(v);
    return {
      ...(known.rest ? { compared: this.norm(known.rest(v)) } : {}),
      knownDifference: held ? known.why : { notAsKnown: known.why, value: this.norm(v) },
    };
  }

  zxid(v: bigint | number): unknown {
    return new Zxid(big(v));
  }

  sid(v: bigint | string): unknown {
    return new SessionId(typeof v === 'string' ? BigInt(`0x${v}`) : v);
  }

  events(label: string, client: RawClient | NativeClient): void {
    const evs = client.takeEvents();
    const list = evs.map((e) => (typeof e.type === 'number' ? `${eventName(e.type)} ${e.path}` : `${e.type} ${e.path}`));
    this.note(label, list);
  }

  arrivals(label: string, client: RawClient, fromSeq = 0): void {
    const list = client.arrivals
      .filter((a) => a.seq >= fromSeq)
      .map((a) => (a.kind === 'reply' ? `reply ${a.op} ${errorName(a.err)}` : `event ${eventName(a.type)} ${a.path}`));
    this.note(label, list);
  }

  fourLetter(word: string): Promise<string> {
    return fourLetterWord(this.address, word, 5000);
  }

  sleep(msec: number): Promise<void> {
    return sleep(msec);
  }

  /** Converts a value into comparable JSON-ish data, leaving Zxid/SessionId markers in place. */
  norm(v: unknown, key = ''): unknown {
    if (v === null || v === undefined) return v ?? null;
    if (v instanceof Zxid || v instanceof SessionId) return v;
    if (Buffer.isBuffer(v)) return showBytes(v);
    if (v instanceof Date) return 'T';
    if (typeof v === 'bigint') {
      if (/zxid$/i.test(key)) return new Zxid(v);
      if (/^(ephemeralOwner|sessionId)$/.test(key)) return new SessionId(v);
      return `${v}n`;
    }
    if (typeof v === 'string') {
      if (key === 'ephemeralOwner') return new SessionId(BigInt(`0x${v}`));
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => this.norm(x));
    if (typeof v === 'object') {
      if (isStat(v)) return this.stat(v);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'createdInThisSession') continue; // a C-binding convenience, not protocol
        out[k] = this.norm(x, k);
      }
      return out;
    }
    return v;
  }

  private stat(s: Record<string, unknown>): Record<string, unknown> {
    const ctime = ms(s['ctime']);
    const mtime = ms(s['mtime']);
    const czxid = big(s['czxid']);
    const mzxid = big(s['mzxid']);
    const plausible = (t: number) => t === 0 || (t > this.startedAtMs - 600_000 && t < Date.now() + 60_000);
    const owner = s['ephemeralOwner'];
    return {
      czxid: new Zxid(czxid),
      mzxid: new Zxid(mzxid),
      pzxid: new Zxid(big(s['pzxid'])),
      ctime: ctime === 0 ? 0 : plausible(ctime) ? 'T' : `implausible time ${ctime}`,
      mtime: mzxid === czxid ? (mtime === ctime ? '=ctime' : `mtime ${mtime} != ctime ${ctime}`) : mtime >= ctime ? '>=ctime' : `mtime ${mtime} < ctime ${ctime}`,
      version: s['version'],
      cversion: s['cversion'],
      aversion: s['aversion'],
      ephemeralOwner: new SessionId(typeof owner === 'string' ? BigInt(`0x${owner}`) : big(owner)),
      dataLength: s['dataLength'],
      numChildren: s['numChildren'],
    };
  }

  async cleanup(): Promise<void> {
    for (const n of this.natives) n.close();
    await Promise.all(this.raws.map((c) => c.close().catch(() => undefined)));
  }
}

function showBytes(b: Buffer): string {
  const text = b.toString('utf8');
  return /^[\x20-\x7e]*$/.test(text) ? text : `hex:${b.toString('hex')}`;
}

/** Resolves markers: zxids by ascending value, sessions by first appearance, the root path. */
export function normalize(entries: Entry[], root: string): Array<[string, unknown]> {
  const zxids = new Set<bigint>();
  const sessions: bigint[] = [];
  const visit = (v: unknown): void => {
    if (v instanceof Zxid) {
      if (v.v > 0n) zxids.add(v.v);
    } else if (v instanceof SessionId) {
      if (v.v !== 0n && !sessions.includes(v.v)) sessions.push(v.v);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  entries.forEach((e) => visit(e.value));
  const rank = new Map([...zxids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((z, i) => [z, `z${i + 1}`]));
  const resolve = (v: unknown): unknown => {
    if (v instanceof Zxid) return v.v > 0n ? rank.get(v.v) : `${v.v}`;
    if (v instanceof SessionId) return v.v === 0n ? '0' : `s${sessions.indexOf(v.v) + 1}`;
    if (typeof v === 'string') return v.split(root).join('$ROOT');
    if (Array.isArray(v)) return v.map(resolve);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    return v;
  };
  return entries.map((e) => [e.label, resolve(e.value)]);
}

/** A line-oriented diff (LCS) of the two normalized transcripts, for failure messages. */
export function diffTranscripts(a: Array<[string, unknown]>, b: Array<[string, unknown]>): string {
  const la = a.map(([l, v]) => `${l}: ${JSON.stringify(v)}`);
  const lb = b.map(([l, v]) => `${l}: ${JSON.stringify(v)}`);
  const n = la.length;
  const m = lb.length;
  const dp = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i]![j] = la[i] === lb[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && la[i] === lb[j]) {
      out.push(`    ${la[i]}`);
      i++;
      j++;
    } else if (j < m && (i === n || dp[i]![j + 1]! >= dp[i + 1]![j]!)) {
      out.push(`  + ${lb[j]}`);
      j++;
    } else {
      out.push(`  - ${la[i]}`);
      i++;
    }
  }
  return `--- Apache ZooKeeper\n+++ zk-elect server\n${out.join('\n')}`;
}

export type Scenario = (ctx: Ctx) => Promise<void>;

export interface ScenarioOptions {
  /** A documented, reported difference: the test runs and reports but does not fail CI. */
  todo?: string;
  timeoutMs?: number;
}

export interface Servers {
  apache: ZkEnsemble;
  ours: ZkEnsemble;
}

/** The member scenario `n` uses: on a cluster the leader for n % 3 == 0, else a follower (by id). */
async function memberFor(ensemble: ZkEnsemble, n: number): Promise<number> {
  if (ensemble.members.length <= 1) return 0;
  // Bounded: srvr may time out on a loaded machine, so a few tries before giving up.
  let leader: ZkMember | undefined;
  for (let i = 0; i < 20 && !leader; i++) {
    leader = await ensemble.leader();
    if (!leader) await sleep(500);
  }
  if (!leader) throw new Error(`no member of the ${ensemble.source} cluster reported Mode: leader within 10 s`);
  const order = [leader, ...ensemble.members.filter((m) => m !== leader).sort((a, b) => a.id - b.id)];
  return ensemble.members.indexOf(order[n % order.length]!);
}

async function runOn(target: Target, ensemble: ZkEnsemble, root: string, fn: Scenario, n: number): Promise<{ transcript: Array<[string, unknown]>; error?: Error }> {
  const run = new Run(target, ensemble, root, await memberFor(ensemble, n));
  let error: Error | undefined;
  try {
    const setup = await RawClient.connect(run.address);
    const r = await setup.create(root, null);
    await setup.close();
    if (r.err !== 0) throw new Error(`could not create scenario root ${root}: ${r.errName}`);
    await fn(run);
  } catch (e) {
    error = e as Error;
    run.entries.push({ label: 'SCENARIO THREW', value: String((e as Error).message).split(run.address).join('<address>') });
  } finally {
    await run.cleanup();
  }
  return { transcript: normalize(run.entries, root), ...(error ? { error } : {}) };
}

/**
 * Starts one Apache ZooKeeper and one zk-elect server for the calling test file and returns
 * `scenario(name, fn)`, which registers a node:test test running `fn` on both and comparing.
 */
export function conformanceSuite(
  file: string,
  start: { apache: () => Promise<ZkEnsemble>; ours: () => Promise<ZkEnsemble> } = {
    apache: () => startZooKeeper({ ...SERVER_OPTIONS, controllable: true }),
    ours: () => startZkElectServer({ ...SERVER_OPTIONS }),
  },
): {
  servers: () => Servers;
  scenario: (name: string, fn: Scenario, options?: ScenarioOptions) => void;
} {
  let servers: Servers | undefined;
  before(async () => {
    const [apache, ours] = await Promise.allSettled([start.apache(), start.ours()]);
    if (apache.status === 'rejected' || ours.status === 'rejected') {
      if (apache.status === 'fulfilled') await apache.value.stop();
      if (ours.status === 'fulfilled') await ours.value.stop();
      throw apache.status === 'rejected' ? apache.reason : (ours as PromiseRejectedResult).reason;
    }
    servers = { apache: apache.value, ours: ours.value };
  }, { timeout: 90_000 });
  after(async () => {
    await Promise.all([servers?.apache.stop(), servers?.ours.stop()]);
  });
  let index = 0;
  return {
    servers: () => {
      if (!servers) throw new Error('servers not started');
      return servers;
    },
    scenario(name, fn, options = {}) {
      const n = ++index;
      const todo = options.todo;
      test(name, { timeout: options.timeoutMs ?? 60_000, ...(todo ? { todo } : {}) }, async () => {
        if (!servers) throw new Error('servers not started');
        const root = `/${file}-${n}-${randomBytes(3).toString('hex')}`;
        const [a, b] = await Promise.all([runOn('apache', servers.apache, root, fn, n), runOn('ours', servers.ours, root, fn, n)]);
        if (process.env['CONFORMANCE_DUMP']) {
          process.stderr.write(`\n=== ${name}\n${a.transcript.map(([l, v]) => `${l}: ${JSON.stringify(v)}`).join('\n')}\n`);
        }
        if (a.error && b.error) {
          throw new Error(`scenario threw on both servers (a scenario bug?): ${a.error.message}`, { cause: a.error });
        }
        try {
          assert.deepEqual(b.transcript, a.transcript);
        } catch {
          assert.fail(`transcripts differ in scenario "${name}":\n${diffTranscripts(a.transcript, b.transcript)}`);
        }
      });
    },
  };
}
