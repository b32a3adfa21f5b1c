/**
 * Read-only views of the znode tree for the dashboard: a node (/api/tree), an election
 * (/api/elections) and the guessing game's state (/api/game).
 *
 * Reads go through the tree's own ACL checks with the identity a ZooKeeper client from the
 * same address would have without authenticating (`ip:<address>`), so the admin server
 * shows nothing that such a client could not read. Sizes are bounded.
 */
import { ErrorCode } from '../../protocol/constants.js';
import type { Id } from '../../protocol/records.js';
import { decodeCandidateData } from '../../election/candidate-data.js';
import { groupCandidates } from '../../election/handoff-plan.js';
import { orderCandidates } from '../../election/names.js';
import { pathError } from '../tree/paths.js';
import type { ZkState } from '../tree/state.js';
import type { Stat } from '../tree/types.js';
import { hex } from './json.js';

export const MAX_CHILDREN = 1000;
export const MAX_DATA_BYTES = 64 * 1024;
export const MAX_CANDIDATES = 1000;
export const MAX_PATH_CHARS = 4096;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A `path` query parameter: absent means `fallback`; otherwise a valid ZooKeeper path. */
export function znodePath(raw: string | null, fallback: string): string {
  const p = raw === null || raw === '' ? fallback : raw;
  if (p.length > MAX_PATH_CHARS) throw new ApiError(400, 'BADARGUMENTS', `path is longer than ${MAX_PATH_CHARS} characters`);
  const why = pathError(p);
  if (why) throw new ApiError(400, 'BADARGUMENTS', `invalid path ${JSON.stringify(p)}: ${why}`);
  return p;
}

export interface StatJson {
  czxid: string;
  mzxid: string;
  pzxid: string;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}

/** Zxids and session ids as hex strings (exact in JavaScript), times in ms. */
export function statJson(s: Stat): StatJson {
  return {
    czxid: hex(s.czxid),
    mzxid: hex(s.mzxid),
    pzxid: hex(s.pzxid),
    ctime: Number(s.ctime),
    mtime: Number(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: hex(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

export interface DataJson {
  /** `utf8` when the bytes are valid UTF-8 without control characters (tab/CR/LF allowed). */
  encoding: 'utf8' | 'base64' | 'null';
  value: string | null;
  /** Full length; `value` holds at most MAX_DATA_BYTES of it. */
  length: number;
  truncated: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function printable(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s);
}

export function dataJson(data: Buffer | null, max = MAX_DATA_BYTES): DataJson {
  if (data === null) return { encoding: 'null', value: null, length: 0, truncated: false };
  const truncated = data.length > max;
  let bytes = truncated ? data.subarray(0, max) : data;
  let text: string | undefined;
  try {
    text = utf8.decode(bytes);
  } catch {
    if (truncated) {
      // The cut may have split a character: drop up to 3 trailing bytes and try again.
      for (let cut = 1; cut <= 3 && text === undefined; cut++) {
        try {
          text = utf8.decode(bytes.subarray(0, bytes.length - cut));
          bytes = bytes.subarray(0, bytes.length - cut);
        } catch {
          // not valid yet
        }
      }
    }
  }
  if (text !== undefined && printable(text)) return { encoding: 'utf8', value: text, length: data.length, truncated };
  return { encoding: 'base64', value: bytes.toString('base64'), length: data.length, truncated };
}

function readError(err: number, path: string): ApiError {
  if (err === ErrorCode.NONODE) return new ApiError(404, 'NONODE', `no node ${path}`);
  if (err === ErrorCode.NOAUTH) return new ApiError(403, 'NOAUTH', `the ACL of ${path} does not let an unauthenticated client read it`);
  return new ApiError(400, `error(${err})`, `cannot read ${path} (ZooKeeper error ${err})`);
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface TreeNodeJson {
  path: string;
  name: string;
  stat: StatJson;
  data: DataJson;
  /** Sorted by name; at most MAX_CHILDREN. */
  children: string[];
  /** Per listed child (same order): its child count and whether it is ephemeral; null if unreadable. */
  childDetails: Array<{ name: string; numChildren: number; ephemeral: boolean } | null>;
  childrenTruncated: boolean;
  ephemeral: boolean;
}

export function readTreeNode(state: ZkState, path: string, authIds: readonly Id[]): TreeNodeJson {
  const d = state.getData(path, { authIds });
  if (!d.ok) throw readError(d.err, path);
  const c = state.getChildren2(path, { authIds });
  const children = c.ok ? [...c.children].sort(byName) : [];
  const listed = children.slice(0, MAX_CHILDREN);
  const childDetails = listed.map((name) => {
    const s = state.exists(path === '/' ? `/${name}` : `${path}/${name}`, { authIds });
    return s.ok ? { name, numChildren: s.stat.numChildren, ephemeral: s.stat.ephemeralOwner !== 0n } : null;
  });
  return {
    path,
    name: path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1),
    stat: statJson(d.stat),
    data: dataJson(d.data),
    children: listed,
    childDetails,
    childrenTruncated: children.length > MAX_CHILDREN,
    ephemeral: d.stat.ephemeralOwner !== 0n,
  };
}

export interface CandidateJson {
  node: string;
  path: string;
  sequence: number;
  /** The candidate's id: its node's data (UTF-8, at most 1 KiB shown), or the `id` of its JSON. */
  id: string;
  /** Its priority (from the node's name; 0 by default and for kazoo's nodes). */
  priority: number;
  /** The JSON metadata the candidate attached, if any. */
  meta?: Record<string, unknown>;
  /** True when its node is a seat: it got the lead through a named handoff. */
  seat: boolean;
  /** How many nodes it holds (a named handoff leaves the target its old place as well). */
  places: number;
  /** Fencing token of this candidate if it leads: the czxid of its node, decimal. */
  token: string;
  czxid: string;
  sessionId: string;
  ctime: number;
  position: number;
  leader: boolean;
}

export interface ElectionJson {
  path: string;
  exists: boolean;
  candidates: CandidateJson[];
  leader: CandidateJson | null;
  /** The leader's fencing token (czxid of its node) as a decimal string, and in hex. */
  fencingToken: string | null;
  fencingTokenHex: string | null;
  /** Children that are not candidates (no 10-digit sequence suffix), zk-elect's control nodes aside. */
  otherChildren: number;
  truncated: boolean;
  zxid: string;
}

/** The election recipe's view: children ending in a sequence, seats first, then lowest first; the first leads. Each candidate once. */
export function readElection(state: ZkState, path: string, authIds: readonly Id[]): ElectionJson {
  const base = { path, zxid: hex(state.lastProcessedZxid) };
  const c = state.getChildren2(path, { authIds });
  if (!c.ok) {
    if (c.err === ErrorCode.NONODE) {
      return { ...base, exists: false, candidates: [], leader: null, fencingToken: null, fencingTokenHex: null, otherChildren: 0, truncated: false };
    }
    throw readError(c.err, path);
  }
  const ordered = orderCandidates(c.children);
  const candidates: CandidateJson[] = [];
  for (const group of groupCandidates(ordered)) {
    const child = group.front;
    if (candidates.length >= MAX_CANDIDATES) break;
    const childPath = path === '/' ? `/${child.name}` : `${path}/${child.name}`;
    const d = state.getData(childPath, { authIds });
    if (!d.ok) continue;
    const { id, meta } = decodeCandidateData(d.data ?? Buffer.alloc(0));
    candidates.push({
      node: child.name,
      path: childPath,
      sequence: child.sequence,
      id: id.slice(0, 1024),
      priority: child.priority,
      ...(meta === undefined ? {} : { meta }),
      seat: child.seat,
      places: group.nodes.length,
      token: d.stat.czxid.toString(),
      czxid: hex(d.stat.czxid),
      sessionId: hex(d.stat.ephemeralOwner),
      ctime: Number(d.stat.ctime),
      position: candidates.length,
      leader: candidates.length === 0,
    });
  }
  const leader = candidates[0] ?? null;
  return {
    ...base,
    exists: true,
    candidates,
    leader,
    fencingToken: leader ? leader.token : null,
    fencingTokenHex: leader ? leader.czxid : null,
    // zk-elect's own control nodes (handoff requests, grants, the seat marker) are not foreign.
    otherChildren: c.children.filter((n) => !n.startsWith('zk-elect.')).length - ordered.length,
    truncated: ordered.length > candidates.length && candidates.length >= MAX_CANDIDATES,
  };
}

export interface GameJson {
  path: string;
  exists: boolean;
  stat: StatJson | null;
  /** `json` when the data parses as JSON, `text` for other UTF-8, `base64` otherwise. */
  format: 'json' | 'text' | 'base64' | 'empty' | null;
  json?: unknown;
  text?: string;
  truncated: boolean;
  children: string[];
  childrenTruncated: boolean;
  zxid: string;
}

const MAX_GAME_CHILDREN = 100;

export function readGame(state: ZkState, path: string, authIds: readonly Id[]): GameJson {
  const base = { path, zxid: hex(state.lastProcessedZxid) };
  const d = state.getData(path, { authIds });
  if (!d.ok) {
    if (d.err === ErrorCode.NONODE) return { ...base, exists: false, stat: null, format: null, truncated: false, children: [], childrenTruncated: false };
    throw readError(d.err, path);
  }
  const c = state.getChildren2(path, { authIds });
  const children = c.ok ? [...c.children].sort(byName) : [];
  const common = { ...base, exists: true, stat: statJson(d.stat), children: children.slice(0, MAX_GAME_CHILDREN), childrenTruncated: children.length > MAX_GAME_CHILDREN };
  const data = dataJson(d.data);
  if (data.length === 0) return { ...common, format: 'empty', truncated: false };
  if (data.encoding === 'utf8' && data.value !== null) {
    if (!data.truncated) {
      try {
        return { ...common, format: 'json', json: JSON.parse(data.value) as unknown, truncated: false };
      } catch {
        // not JSON: show the text
      }
    }
    return { ...common, format: 'text', text: data.value, truncated: data.truncated };
  }
  return { ...common, format: 'base64', text: data.value ?? '', truncated: data.truncated };
}
