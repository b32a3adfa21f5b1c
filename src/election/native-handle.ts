/**
 * Adapter over the official ZooKeeper C client (npm `zookeeper`): one instance is one
 * ZooKeeper session handle. It turns return codes into typed errors, bounds every
 * operation in time, and reports the send time of every request a server answered, which
 * is what the loss deadline counts as confirmed contact.
 *
 * The C client must never be called after it emitted `close` (it frees its handle and a
 * later call can crash the process), so every call checks `closed` first.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import {
  ConnectionLossError,
  OperationTimeoutError,
  SessionExpiredError,
  ZooKeeperError,
} from './errors.js';
import { authData, type AclEntry } from './auth.js';
import type { HandleOptions, SessionHandle, SessionHandleEvents } from './handle.js';
import { codeName, CREATE_FLAGS, isServerReply, WATCH_TYPES, ZkCode, type CreateMode, type Watcher, type ZkStat } from './zk-types.js';

type Callback = (rc: number, error: string, ...rest: unknown[]) => void;
type NativeWatch = (type: number, state: number, path: string) => void;

/** The part of the `zookeeper` package's callback API we use. */
interface NativeClient {
  on(event: string, listener: (...args: unknown[]) => void): void;
  init(config: Record<string, unknown>): void;
  close(): void;
  a_create(path: string, data: Buffer, flags: number, cb: Callback): number;
  a_delete_(path: string, version: number, cb: Callback): number;
  a_exists(path: string, watch: boolean, cb: Callback): number;
  aw_exists(path: string, watch: NativeWatch, cb: Callback): number;
  a_get(path: string, watch: boolean, cb: Callback): number;
  aw_get(path: string, watch: NativeWatch, cb: Callback): number;
  a_get_children(path: string, watch: boolean, cb: Callback): number;
  aw_get_children(path: string, watch: NativeWatch, cb: Callback): number;
  a_set(path: string, data: Buffer, version: number, cb: Callback): number;
  a_set_acl(path: string, version: number, acl: Array<{ perms: number; scheme: string; auth: string }>, cb: Callback): number;
  add_auth(scheme: string, auth: string, cb: Callback): number;
  readonly client_id: string;
  readonly timeout: number;
}

interface NativeModule {
  new (config: Record<string, unknown>): NativeClient;
  constants: Record<string, number>;
}

const require = createRequire(import.meta.url);
let nativeModule: NativeModule | undefined;
function loadNative(): NativeModule {
  nativeModule ??= require('zookeeper') as NativeModule;
  return nativeModule;
}

/** The version of zk-elect's patch the installed binding was built with (0: unpatched). */
export function bindingPatchVersion(client: unknown): number {
  const native = (client as { native?: { constructor?: { ZK_ELECT_PATCH?: unknown } } }).native;
  return Number(native?.constructor?.ZK_ELECT_PATCH ?? 0);
}

let warnedUnpatched = false;
/**
 * An unpatched binding can take one of this process's own sockets out of the event loop after a
 * connection timeout (src/binding/patch-zookeeper-binding.mjs says how); say so once, loudly.
 */
function checkBindingPatched(client: NativeClient): void {
  if (warnedUnpatched || bindingPatchVersion(client) > 0) return;
  warnedUnpatched = true;
  process.emitWarning(
    'the zookeeper binding is not patched by zk-elect (its install script did not run, or the zookeeper version differs): ' +
      'after a connection timeout it can silence or abort on other sockets of this process. Run: node node_modules/zk-elect/src/binding/patch-zookeeper-binding.mjs',
    { code: 'ZK_ELECT_UNPATCHED_BINDING' },
  );
}

function toStat(raw: unknown): ZkStat {
  const s = raw as Record<string, unknown>;
  const time = (v: unknown) => (v instanceof Date ? v.getTime() : Number(v));
  return {
    czxid: Number(s.czxid),
    mzxid: Number(s.mzxid),
    pzxid: Number(s.pzxid),
    ctime: time(s.ctime),
    mtime: time(s.mtime),
    version: Number(s.version),
    cversion: Number(s.cversion),
    aversion: Number(s.aversion),
    ephemeralOwner: String(s.ephemeralOwner),
    dataLength: Number(s.dataLength),
    numChildren: Number(s.numChildren),
  };
}

export class NativeHandle extends EventEmitter<SessionHandleEvents> implements SessionHandle {
  private readonly client: NativeClient;
  private closedFlag = false;
  /** Per-operation bound; a reply later than this is ignored and the caller told "unknown outcome". */
  opTimeoutMs: number;

  constructor(private readonly options: HandleOptions) {
    super();
    const Native = loadNative();
    this.opTimeoutMs = options.sessionTimeoutMs;
    this.client = new Native({
      connect: options.connect,
      timeout: options.sessionTimeoutMs,
      debug_level: options.clientLogLevel ?? 0,
      // Left to the C client's own shuffle. Shuffling once here and passing true saves three
      // syscalls per I/O event (a /dev/urandom re-seed), but a test process aborted in the
      // binding (uv_poll_start on a closing handle) once with that change and the cause is not
      // understood; until it is, the client keeps the configuration it was tested with longest.
      host_order_deterministic: false,
      data_as_buffer: true,
      // The binding closes the handle as "expired" after this many empty socket polls.
      // That false expiry would throw away a live session, so we raise it far out of the way;
      // our own deadline and the server's verdict decide instead.
      response_counter_limit: 1_000_000,
    });
    checkBindingPatched(this.client);
    this.client.on('connect', () => this.emit('connected'));
    this.client.on('connecting', () => this.emit('connecting'));
    this.client.on('close', (code) => {
      this.closedFlag = true;
      this.emit('closed', Number(code));
    });
    this.client.init({});
    // The C client keeps the credentials and sends them again after every reconnect, ahead of
    // any request. A server that refuses them answers AUTHFAILED and the handle closes.
    if (options.auth) this.client.add_auth(options.auth.scheme, authData(options.auth), () => undefined);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Session id as lower-case hex, as ZooKeeper prints it and as Stat.ephemeralOwner holds it. */
  get sessionId(): string {
    return this.closedFlag ? '0' : String(this.client.client_id);
  }

  /** The timeout the server granted (it clamps our request to its min/max). */
  get negotiatedTimeoutMs(): number {
    return this.closedFlag ? this.options.sessionTimeoutMs : Number(this.client.timeout) || this.options.sessionTimeoutMs;
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.client.close();
  }

  create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.call('create', path, (cb) => this.client.a_create(path, data, CREATE_FLAGS[mode], cb), (rest) => String(rest[0]));
  }

  remove(path: string, version = -1): Promise<void> {
    return this.call('delete', path, (cb) => this.client.a_delete_(path, version, cb), () => undefined);
  }

  async exists(path: string, watcher?: Watcher): Promise<ZkStat | null> {
    try {
      return await this.call(
        'exists',
        path,
        (cb) => (watcher ? this.client.aw_exists(path, this.wrapWatcher(watcher), cb) : this.client.a_exists(path, false, cb)),
        (rest) => toStat(rest[0]),
      );
    } catch (e) {
      // A NONODE exists() still sets the watch (it fires on creation): that is ZooKeeper's contract.
      if (e instanceof ZooKeeperError && e.code === ZkCode.NONODE) return null;
      throw e;
    }
  }

  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.call(
      'getChildren',
      path,
      (cb) => (watcher ? this.client.aw_get_children(path, this.wrapWatcher(watcher), cb) : this.client.a_get_children(path, false, cb)),
      (rest) => (rest[0] as string[]) ?? [],
    );
  }

  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.call(
      'getData',
      path,
      (cb) => (watcher ? this.client.aw_get(path, this.wrapWatcher(watcher), cb) : this.client.a_get(path, false, cb)),
      (rest) => ({ stat: toStat(rest[0]), data: rest[1] == null ? Buffer.alloc(0) : Buffer.from(rest[1] as Buffer) }),
    );
  }

  /** Conditional write: `version` -1 writes whatever the version; otherwise BADVERSION unless it matches. */
  setData(path: string, data: Buffer, version = -1): Promise<ZkStat> {
    return this.call('setData', path, (cb) => this.client.a_set(path, data, version, cb), (rest) => toStat(rest[0]));
  }

  setAcl(path: string, acl: readonly AclEntry[], version = -1): Promise<void> {
    // Never a_get_acl: the binding crashes the process when that fails (it frees a NULL vector).
    const entries = acl.map((a) => ({ perms: a.perms, scheme: a.scheme, auth: a.id }));
    return this.call('setACL', path, (cb) => this.client.a_set_acl(path, version, entries, cb), () => undefined);
  }

  private wrapWatcher(watcher: Watcher): NativeWatch {
    return (type, _state, path) => {
      const kind = WATCH_TYPES.get(type);
      if (kind) watcher({ type: kind, path });
    };
  }

  private call<T>(op: string, path: string, start: (cb: Callback) => number, decode: (rest: unknown[]) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closedFlag) {
        reject(new SessionExpiredError(ZkCode.SESSIONEXPIRED, 'SESSION_CLOSED', op, path));
        return;
      }
      const sentAtMs = this.options.clock.monoMs();
      let settled = false;
      const timer = this.options.clock.after(this.opTimeoutMs, () => {
        if (settled) return;
        settled = true;
        reject(new OperationTimeoutError(op, path, this.opTimeoutMs));
      });
      const cb: Callback = (rc, _message, ...rest) => {
        if (isServerReply(rc)) this.options.onServerReply(sentAtMs);
        if (settled) return;
        settled = true;
        timer.cancel();
        if (rc === ZkCode.OK) {
          try {
            resolve(decode(rest));
          } catch (e) {
            reject(e);
          }
        } else {
          reject(errorFor(rc, op, path));
        }
      };
      let rc: number;
      try {
        rc = start(cb);
      } catch (e) {
        settled = true;
        timer.cancel();
        reject(new ZooKeeperError(ZkCode.BADARGUMENTS, 'BADARGUMENTS', op, path, { cause: e }));
        return;
      }
      // A non-zero return means the C client refused the call and will never call back.
      if (typeof rc === 'number' && rc !== ZkCode.OK) {
        settled = true;
        timer.cancel();
        reject(errorFor(rc, op, path));
      }
    });
  }
}

export function errorFor(code: number, op: string, path: string | undefined): ZooKeeperError {
  const name = codeName(code);
  if (code === ZkCode.CONNECTIONLOSS || code === ZkCode.OPERATIONTIMEOUT) return new ConnectionLossError(code, name, op, path);
  if (code === ZkCode.SESSIONEXPIRED || code === ZkCode.CLOSING || code === ZkCode.INVALIDSTATE) {
    return new SessionExpiredError(code, name, op, path);
  }
  return new ZooKeeperError(code, name, op, path);
}

/** The default transport: the official C client. */
export const nativeHandle = (options: HandleOptions): SessionHandle => new NativeHandle(options);
