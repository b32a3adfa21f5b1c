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

/** ZooKeeper return codes we branch on (same numbers on the wire and in the C client). */
export const ZkCode = {
  OK: 0,
  SYSTEMERROR: -1,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  INVALIDSTATE: -9,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  CLOSING: -116,
  SESSIONMOVED: -118,
} as const;

const CODE_NAMES = new Map<number, string>(Object.entries(ZkCode).map(([name, code]) => [code, name]));

export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? `ZK_ERROR_${code}`;
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
