/**
 * Reads and watch registration (FinalRequestProcessor + DataTree read paths), evaluated
 * against the applied tree only, never against outstanding changes.
 */
import { ErrorCode, EventType, KeeperState, OpCode, Perm, WatcherType } from '../../protocol/constants.js';
import { checkACL, maskDigestAcl } from './acl.js';
import type { DataTree } from './data-tree.js';
import type {
  ACL, Id, MultiReadOp, MultiReadResult, ReadOptions, ReadResult, Stat, WatchTrigger, WatcherId,
} from './types.js';

/** Paths as the request carried them: an entry may be null (see setWatches). */
export interface SetWatchesLists {
  dataWatches?: readonly (string | null)[];
  existWatches?: readonly (string | null)[];
  childWatches?: readonly (string | null)[];
  persistentWatches?: readonly (string | null)[];
  persistentRecursiveWatches?: readonly (string | null)[];
}

/** Java String.trim(): strips chars <= ' ' at both ends. */
function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.substring(a, b);
}

const fail = (err: number) => ({ ok: false as const, err });

export abstract class TreeReads {
  abstract readonly tree: DataTree;

  /** getData: NONODE, then READ (NOAUTH), then the data watch. */
  getData(path: string, opts: ReadOptions): ReadResult<{ data: Buffer | null; stat: Stat }> {
    const t = this.tree;
    const id = t.idOf(path);
    if (id < 0) return fail(ErrorCode.NONODE);
    if (!checkACL(t.aclOf(id), Perm.READ, opts.authIds)) return fail(ErrorCode.NOAUTH);
    if (opts.watcherId !== undefined) t.dataWatches.addWatch(path, opts.watcherId);
    return { ok: true, data: t.dataOf(id), stat: t.statOf(id) };
  }

  /**
   * exists: BADARGUMENTS for a path containing NUL; READ is checked when the node exists
   * (3.8); the watch is registered whether or not the node exists (an "exist" watch).
   */
  exists(path: string, opts: ReadOptions): ReadResult<{ stat: Stat }> {
    if (path.includes('\0')) return fail(ErrorCode.BADARGUMENTS);
    const t = this.tree;
    const id = t.idOf(path);
    if (id >= 0 && !checkACL(t.aclOf(id), Perm.READ, opts.authIds)) return fail(ErrorCode.NOAUTH);
    if (opts.watcherId !== undefined) t.dataWatches.addWatch(path, opts.watcherId);
    if (id < 0) return fail(ErrorCode.NONODE);
    return { ok: true, stat: t.statOf(id) };
  }

  /** getChildren: children in ZooKeeper's HashSet order. */
  getChildren(path: string, opts: ReadOptions): ReadResult<{ children: string[] }> {
    const r = this.getChildren2(path, opts);
    return r.ok ? { ok: true, children: r.children } : r;
  }

  getChildren2(path: string, opts: ReadOptions): ReadResult<{ children: string[]; stat: Stat }> {
    const t = this.tree;
    const id = t.idOf(path);
    if (id < 0) return fail(ErrorCode.NONODE);
    if (!checkACL(t.aclOf(id), Perm.READ, opts.authIds)) return fail(ErrorCode.NOAUTH);
    const stat = t.statOf(id);
    const children = t.childrenOf(id);
    if (opts.watcherId !== undefined) t.childWatches.addWatch(path, opts.watcherId);
    return { ok: true, children, stat };
  }

  /** getACL (3.8.6): READ or ADMIN needed; without ADMIN digest ids are masked "user:x". */
  getACL(path: string, authIds: readonly Id[]): ReadResult<{ acl: ACL[]; stat: Stat }> {
    const id = this.tree.idOf(path);
    if (id < 0) return fail(ErrorCode.NONODE);
    const nodeAcl = this.tree.aclOf(id);
    if (!checkACL(nodeAcl, Perm.READ | Perm.ADMIN, authIds)) return fail(ErrorCode.NOAUTH);
    const stat = this.tree.statOf(id);
    const acl = checkACL(nodeAcl, Perm.ADMIN, authIds)
      ? nodeAcl.map((a) => ({ perms: a.perms, id: { ...a.id } }))
      : maskDigestAcl(nodeAcl);
    return { ok: true, acl, stat };
  }

  /** getAllChildrenNumber: all descendants ("/" counts /zookeeper and its children too). */
  getAllChildrenNumber(path: string, authIds: readonly Id[]): ReadResult<{ count: number }> {
    const n = this.tree.getNode(path);
    if (!n) return fail(ErrorCode.NONODE);
    if (!checkACL(n.acl, Perm.READ, authIds)) return fail(ErrorCode.NOAUTH);
    return { ok: true, count: this.tree.allChildrenNumber(path) };
  }

  /** getEphemerals of the requesting session, filtered by a String.startsWith prefix. */
  getEphemerals(sessionId: bigint, prefixPath: string | null): string[] {
    const all = this.tree.ephemeralsClone(sessionId).toArray();
    if (prefixPath === null || javaTrim(prefixPath) === '' || javaTrim(prefixPath) === '/') return all;
    return all.filter((p) => p.startsWith(prefixPath));
  }

  /** multiRead: each op answers its own result or error. */
  multiRead(ops: readonly MultiReadOp[], authIds: readonly Id[], watcherId?: WatcherId): MultiReadResult[] {
    return ops.map((op): MultiReadResult => {
      const o: ReadOptions = op.watch && watcherId !== undefined ? { authIds, watcherId } : { authIds };
      if (op.op === OpCode.getData) {
        const r = this.getData(op.path, o);
        return r.ok ? { type: OpCode.getData, data: r.data, stat: r.stat } : { type: OpCode.error, err: r.err };
      }
      const r = this.getChildren(op.path, o);
      return r.ok ? { type: OpCode.getChildren, children: r.children } : { type: OpCode.error, err: r.err };
    });
  }

  // --- watches -------------------------------------------------------------------------------

  /** addWatch (mode 0 PERSISTENT, 1 PERSISTENT_RECURSIVE): no existence or ACL check in 3.8. */
  addWatch(path: string, mode: number, watcherId: WatcherId): void {
    const m = mode === 1 ? 'PERSISTENT_RECURSIVE' : 'PERSISTENT';
    this.tree.dataWatches.addWatch(path, watcherId, m);
    this.tree.childWatches.addWatch(path, watcherId, m);
  }

  /** checkWatches: OK or NOWATCHER (see WatchManager.containsWatcher's 3.8 semantics). */
  checkWatches(path: string, type: number, watcherId: WatcherId): number {
    const t = this.tree;
    let found = false;
    if (type === WatcherType.Children) found = t.childWatches.containsWatcher(path, watcherId);
    else if (type === WatcherType.Data) found = t.dataWatches.containsWatcher(path, watcherId);
    else if (type === WatcherType.Any) {
      found = t.childWatches.containsWatcher(path, watcherId);
      if (t.dataWatches.containsWatcher(path, watcherId)) found = true;
    }
    return found ? ErrorCode.OK : ErrorCode.NOWATCHER;
  }

  /** removeWatches: OK or NOWATCHER; Any removes from both managers. */
  removeWatches(path: string, type: number, watcherId: WatcherId): number {
    const t = this.tree;
    let removed = false;
    if (type === WatcherType.Children) removed = t.childWatches.removeWatch(path, watcherId);
    else if (type === WatcherType.Data) removed = t.dataWatches.removeWatch(path, watcherId);
    else if (type === WatcherType.Any) {
      removed = t.childWatches.removeWatch(path, watcherId);
      if (t.dataWatches.removeWatch(path, watcherId)) removed = true;
    }
    return removed ? ErrorCode.OK : ErrorCode.NOWATCHER;
  }

  /**
   * DataTree.setWatches after a reconnect: data watches fire NodeDeleted (gone) or
   * NodeDataChanged (mzxid > relativeZxid); exist watches fire NodeCreated if the node exists;
   * child watches fire NodeDeleted or NodeChildrenChanged (pzxid > relativeZxid); the rest are
   * registered. Persistent lists are registered (child manager first). Events are returned
   * in that order and are not ACL-filtered (acl null).
   *
   * A null entry in the data, exist or child list is where ZooKeeper's getNode(null) throws:
   * the entries before it have taken effect, the rest have not, and the request is answered
   * MARSHALLINGERROR (`nullPath`). A null persistent entry is registered by ZooKeeper under
   * a null key no event can ever match; here it is skipped.
   */
  setWatches(relativeZxid: bigint, lists: SetWatchesLists, watcherId: WatcherId): { triggers: WatchTrigger[]; nullPath: boolean } {
    const out: WatchTrigger[] = [];
    const fire = (type: number, path: string) =>
      out.push({ watcherIds: [watcherId], event: { type, state: KeeperState.SyncConnected, path }, acl: null });
    const t = this.tree;
    const stopped = { triggers: out, nullPath: true };
    for (const path of lists.dataWatches ?? []) {
      if (path === null) return stopped;
      const n = t.getNode(path);
      if (!n) fire(EventType.NodeDeleted, path);
      else if (n.stat.mzxid > relativeZxid) fire(EventType.NodeDataChanged, path);
      else t.dataWatches.addWatch(path, watcherId);
    }
    for (const path of lists.existWatches ?? []) {
      if (path === null) return stopped;
      if (t.getNode(path)) fire(EventType.NodeCreated, path);
      else t.dataWatches.addWatch(path, watcherId);
    }
    for (const path of lists.childWatches ?? []) {
      if (path === null) return stopped;
      const n = t.getNode(path);
      if (!n) fire(EventType.NodeDeleted, path);
      else if (n.stat.pzxid > relativeZxid) fire(EventType.NodeChildrenChanged, path);
      else t.childWatches.addWatch(path, watcherId);
    }
    for (const path of lists.persistentWatches ?? []) {
      if (path === null) continue;
      t.childWatches.addWatch(path, watcherId, 'PERSISTENT');
      t.dataWatches.addWatch(path, watcherId, 'PERSISTENT');
    }
    for (const path of lists.persistentRecursiveWatches ?? []) {
      if (path === null) continue;
      t.childWatches.addWatch(path, watcherId, 'PERSISTENT_RECURSIVE');
      t.dataWatches.addWatch(path, watcherId, 'PERSISTENT_RECURSIVE');
    }
    return { triggers: out, nullPath: false };
  }

  /** A connection closed: drop all its watches (DataTree.removeCnxn). */
  removeWatcher(watcherId: WatcherId): void {
    this.tree.dataWatches.removeWatcher(watcherId);
    this.tree.childWatches.removeWatcher(watcherId);
  }

  /**
   * 4lw `wchs` (data watch manager only, as DataTree.getWatchesSummary):
   * "<connections> connections watching <paths> paths\nTotal watches:<total>".
   */
  watchSummary(): { connections: number; paths: number; totalWatches: number } {
    return this.tree.dataWatches.summary();
  }

  /** 4lw `wchc`: data-watch paths per watcher (map watcherIds to sessions in the server). */
  watchesByWatcher(): Map<WatcherId, string[]> {
    return this.tree.dataWatches.byWatcher();
  }

  /** 4lw `wchp`: watchers per path (data watch manager only, like ZooKeeper). */
  watchesByPath(): Map<string, WatcherId[]> {
    return this.tree.dataWatches.byPath();
  }
}
