/**
 * The election recipe's ZkOps over zk-elect's own client: the wire transport in production,
 * and the simulator's client, so the recipe runs unchanged in both. It must fail exactly as
 * the adapter over the C client does (src/election/native-handle.ts), or the two transports
 * (and the simulator) would run different recipes:
 *
 * - errors are NativeHandle's `errorFor` (CONNECTIONLOSS and OPERATIONTIMEOUT are
 *   ConnectionLossError, SESSIONEXPIRED is SessionExpiredError, any other code a plain
 *   ZooKeeperError carrying it), reused rather than copied so the two cannot drift apart;
 * - `exists` answers null for NONODE (its watch is then an exist watch, as in the C client);
 * - stats are the binding's: zxids and times as numbers, ephemeralOwner as the C client's
 *   "%llx" of the unsigned id (lower-case hex, "0" for persistent nodes);
 * - watch events map their numeric types to the recipe's names; session events reach
 *   watchers as 'session', as the C client delivers them.
 *
 * - a chroot (the connect string's `/path` suffix) is applied as the C client applies it:
 *   prefixed to every path sent, stripped from created paths and watch events.
 *
 * An optional per-operation bound turns a missing reply into OperationTimeoutError, like
 * NativeHandle's opTimeoutMs; it runs on the client's injected clock.
 */
import { ErrorCode } from '../protocol/index.js';
import type { Stat } from '../protocol/index.js';
import { OperationTimeoutError } from '../election/errors.js';
import { errorFor } from '../election/native-handle.js';
import { CREATE_FLAGS, WATCH_TYPES, type Watcher, type ZkOps, type ZkStat } from '../election/zk-types.js';
import type { AclEntry } from '../election/auth.js';
import type { Result, WatchedEvent } from './types.js';
import type { WireClient } from './zk-client.js';

/** The C client prints session ids with "%llx" of the unsigned 64-bit value. */
export function sessionHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

export function toZkStat(s: Stat): ZkStat {
  return {
    czxid: Number(s.czxid),
    mzxid: Number(s.mzxid),
    pzxid: Number(s.pzxid),
    ctime: Number(s.ctime),
    mtime: Number(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: sessionHex(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

export interface WireZkOps extends ZkOps {
  setData(path: string, data: Buffer, version?: number): Promise<ZkStat>;
  setAcl(path: string, acl: readonly AclEntry[], version?: number): Promise<void>;
  /** The session id as the recipe compares it with ephemeralOwner. */
  readonly sessionId: string;
}

export interface ZkOpsOptions {
  /** Bound per operation (ms on the client's clock); none by default. */
  opTimeoutMs?: number;
  /** Every path lives under this one on the server (validated, no trailing '/'). */
  chroot?: string;
}

export function toZkOps(client: WireClient, options: ZkOpsOptions = {}): WireZkOps {
  const root = options.chroot ?? '';
  const server = (path: string): string => (root === '' ? path : path === '/' ? root : root + path);
  const local = (path: string): string => {
    if (root === '' || !path.startsWith(root)) return path;
    return path.length === root.length ? '/' : path.slice(root.length);
  };
  const wrap = (watcher: Watcher | undefined) =>
    watcher &&
    ((e: WatchedEvent) => {
      const type = WATCH_TYPES.get(e.type);
      if (type) watcher({ type, path: type === 'session' ? e.path : local(e.path) });
    });

  async function run<R extends Result, T>(op: string, path: string, call: () => Promise<R>, ok: (r: R) => T, nonode?: () => T): Promise<T> {
    const r = await bounded(op, path, call());
    if (r.err === ErrorCode.OK) return ok(r);
    if (r.err === ErrorCode.NONODE && nonode) return nonode();
    throw errorFor(r.err, op, path);
  }

  function bounded<R>(op: string, path: string, p: Promise<R>): Promise<R> {
    const { opTimeoutMs } = options;
    if (opTimeoutMs === undefined) return p;
    return new Promise<R>((resolve, reject) => {
      const timer = client.clock.after(opTimeoutMs, () => reject(new OperationTimeoutError(op, path, opTimeoutMs)));
      p.then((v) => {
        timer.cancel();
        resolve(v);
      }, reject);
    });
  }

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`reply without ${what}`);
    return v;
  };

  return {
    get sessionId() {
      return sessionHex(client.sessionId);
    },
    create: (path, data, mode) => run('create', path, () => client.create(server(path), data, CREATE_FLAGS[mode]), (r) => local(need(r.path, 'a path'))),
    remove: (path, version = -1) => run('delete', path, () => client.delete(server(path), version), () => undefined),
    exists: (path, watcher) =>
      run('exists', path, () => client.exists(server(path), wrap(watcher)), (r): ZkStat | null => toZkStat(need(r.stat, 'a stat')), () => null),
    getChildren: (path, watcher) => run('getChildren', path, () => client.getChildren(server(path), wrap(watcher)), (r) => r.children ?? []),
    getData: (path, watcher) =>
      run('getData', path, () => client.getData(server(path), wrap(watcher)), (r) => ({ data: r.data ?? Buffer.alloc(0), stat: toZkStat(need(r.stat, 'a stat')) })),
    setData: (path, data, version = -1) => run('setData', path, () => client.setData(server(path), data, version), (r) => toZkStat(need(r.stat, 'a stat'))),
    setAcl: (path, acl, version = -1) =>
      run('setACL', path, () => client.setACL(server(path), acl.map((a) => ({ perms: a.perms, id: { scheme: a.scheme, id: a.id } })), version), () => undefined),
  };
}
