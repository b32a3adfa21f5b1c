import { ErrorCode, errorName } from '../protocol/constants.js';

/**
 * The small ZooKeeper surface the election recipe is written against. The adapter over
 * the official C client implements it; nothing in the recipe knows which transport it has.
 */
export interface ZkStat {
  readonly czxid: number;
  readonly mzxid: number;
  readonly pzxid: number;
  readonly ctime: number;
  readonly mtime: number;
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  /** Owning session id in lower-case hex, "0" for persistent nodes. */
  readonly ephemeralOwner: string;
  readonly dataLength: number;
  readonly numChildren: number;
}

export type WatchEventType = 'created' | 'deleted' | 'changed' | 'child' | 'session' | 'notwatching';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly path: string;
}

export type Watcher = (event: WatchEvent) => void;

export type CreateMode = 'persistent' | 'ephemeral' | 'ephemeral-sequential' | 'persistent-sequential' | 'container';

export interface ZkOps {
  create(path: string, data: Buffer, mode: CreateMode): Promise<string>;
  remove(path: string, version?: number): Promise<void>;
  exists(path: string, watcher?: Watcher): Promise<ZkStat | null>;
  getChildren(path: string, watcher?: Watcher): Promise<string[]>;
  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: ZkStat }>;
}

/**
 * ZooKeeper return codes we branch on: the wire's codes plus the two the C client makes up
 * itself (ZINVALIDSTATE for a dead handle, ZCLOSING while it shuts down).
 */
export const ZkCode = { ...ErrorCode, INVALIDSTATE: -9, CLOSING: -116 } as const;

const CLIENT_ONLY_NAMES = new Map<number, string>([
  [ZkCode.INVALIDSTATE, 'INVALIDSTATE'],
  [ZkCode.CLOSING, 'CLOSING'],
]);

export function codeName(code: number): string {
  return CLIENT_ONLY_NAMES.get(code) ?? errorName(code);
}

/**
 * Codes that only a server produces. A reply carrying one of them proves the server saw
 * the request, which is what the loss deadline counts as confirmed contact.
 */
export function isServerReply(code: number): boolean {
  return (
    code === ZkCode.OK ||
    code === ZkCode.NONODE ||
    code === ZkCode.NOAUTH ||
    code === ZkCode.BADVERSION ||
    code === ZkCode.NOCHILDRENFOREPHEMERALS ||
    code === ZkCode.NODEEXISTS ||
    code === ZkCode.NOTEMPTY ||
    code === ZkCode.INVALIDACL
  );
}

/** CreateMode as the wire's create flags. */
export const CREATE_FLAGS: Record<CreateMode, number> = {
  persistent: 0,
  ephemeral: 1,
  'persistent-sequential': 2,
  'ephemeral-sequential': 3,
  container: 4,
};

/** The wire's watched-event types as the recipe names them. */
export const WATCH_TYPES = new Map<number, WatchEventType>([
  [1, 'created'],
  [2, 'deleted'],
  [3, 'changed'],
  [4, 'child'],
  [-1, 'session'],
  [-2, 'notwatching'],
]);
