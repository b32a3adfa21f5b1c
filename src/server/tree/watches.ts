/**
 * org.apache.zookeeper.server.watch.WatchManager (the default IWatchManager) with its
 * WatcherModeManager. DataTree owns two: one for data/exist watches, one for child watches;
 * addWatch (persistent modes) registers in both.
 */
import type { ACL, WatchTrigger, WatcherId } from './types.js';
import { KeeperState } from '../../protocol/constants.js';

export type WatcherMode = 'STANDARD' | 'PERSISTENT' | 'PERSISTENT_RECURSIVE';

/** PathParentIterator: the path itself, then each ancestor up to "/". */
function* pathAndParents(path: string, all: boolean): Generator<[string, boolean]> {
  let p = path;
  let level = -1;
  while (p !== '' && level < (all ? Number.MAX_SAFE_INTEGER : 0)) {
    const local = p;
    ++level;
    if (p === '/') p = '';
    else {
      p = p.substring(0, p.lastIndexOf('/'));
      if (p.length === 0) p = '/';
    }
    yield [local, level > 0];
  }
}

function modeKey(w: WatcherId, path: string): string {
  return `${w}\u0000${path}`;
}

export class WatchManager {
  private readonly watchTable = new Map<string, Set<WatcherId>>();
  private readonly watch2Paths = new Map<WatcherId, Set<string>>();
  /** Only non-STANDARD modes are stored (setWatcherMode removes on DEFAULT_WATCHER_MODE). */
  private readonly modes = new Map<string, WatcherMode>();
  private recursiveQty = 0;

  private setMode(w: WatcherId, path: string, mode: WatcherMode): void {
    const key = modeKey(w, path);
    const old = this.modes.get(key) ?? 'STANDARD';
    if (mode === 'STANDARD') this.modes.delete(key);
    else this.modes.set(key, mode);
    const wasRec = old === 'PERSISTENT_RECURSIVE';
    const isRec = mode === 'PERSISTENT_RECURSIVE';
    if (wasRec !== isRec) this.recursiveQty += isRec ? 1 : -1;
  }

  modeOf(w: WatcherId, path: string): WatcherMode {
    return this.modes.get(modeKey(w, path)) ?? 'STANDARD';
  }

  /**
   * Note ZooKeeper's quirk: a one-shot registration (getData/exists/getChildren) on a path where
   * the same watcher holds a persistent watch resets the mode to STANDARD.
   */
  addWatch(path: string, w: WatcherId, mode: WatcherMode = 'STANDARD'): boolean {
    let list = this.watchTable.get(path);
    if (!list) this.watchTable.set(path, (list = new Set()));
    list.add(w);
    let paths = this.watch2Paths.get(w);
    if (!paths) this.watch2Paths.set(w, (paths = new Set()));
    this.setMode(w, path, mode);
    const had = paths.has(path);
    paths.add(path);
    return !had;
  }

  /** removeWatcher(Watcher): a closed connection. */
  removeWatcher(w: WatcherId): void {
    const paths = this.watch2Paths.get(w);
    if (!paths) return;
    this.watch2Paths.delete(w);
    for (const p of paths) {
      const list = this.watchTable.get(p);
      if (list) {
        list.delete(w);
        if (list.size === 0) this.watchTable.delete(p);
      }
      this.setMode(w, p, 'STANDARD');
    }
  }

  /**
   * triggerWatch(path, type, acl, supress): returns the set of watchers that matched (for
   * suppression), and pushes a trigger for those not suppressed.
   */
  triggerWatch(
    path: string,
    type: number,
    acl: readonly ACL[] | null,
    out: WatchTrigger[],
    suppress?: ReadonlySet<WatcherId> | null,
  ): Set<WatcherId> | null {
    const watchers = new Set<WatcherId>();
    for (const [local, atParent] of pathAndParents(path, this.recursiveQty > 0)) {
      const these = this.watchTable.get(local);
      if (!these || these.size === 0) continue;
      for (const w of [...these]) {
        const mode = this.modeOf(w, local);
        if (mode === 'PERSISTENT_RECURSIVE') {
          if (type !== 4 /* NodeChildrenChanged */) watchers.add(w);
        } else if (!atParent) {
          watchers.add(w);
          if (mode === 'STANDARD') {
            these.delete(w);
            this.watch2Paths.get(w)?.delete(local);
          }
        }
      }
      if (these.size === 0) this.watchTable.delete(local);
    }
    if (watchers.size === 0) return null;
    const ids = [...watchers].filter((w) => !suppress?.has(w));
    if (ids.length > 0) out.push({ watcherIds: ids, event: { type, state: KeeperState.SyncConnected, path }, acl });
    return watchers;
  }

  /**
   * containsWatcher as 3.8 implements it: true when ANY watcher is registered on exactly this
   * path (the requesting watcher is not compared!), or when the requester holds a recursive
   * watch on the path itself.
   */
  containsWatcher(path: string, w: WatcherId): boolean {
    const mode = this.modeOf(w, path);
    for (const [local, atParent] of pathAndParents(path, this.recursiveQty > 0)) {
      if (!atParent && this.watchTable.has(local)) return true;
      if (mode === 'PERSISTENT_RECURSIVE') return true;
    }
    return false;
  }

  /** removeWatcher(path, watcher): exact registration only. */
  removeWatch(path: string, w: WatcherId): boolean {
    const paths = this.watch2Paths.get(w);
    if (!paths || !paths.delete(path)) return false;
    const list = this.watchTable.get(path);
    if (!list || !list.delete(w)) return false;
    if (list.size === 0) this.watchTable.delete(path);
    this.setMode(w, path, 'STANDARD');
    return true;
  }

  /** getWatchesSummary: watch2Paths keeps entries whose path set became empty, as Java does. */
  summary(): { connections: number; paths: number; totalWatches: number } {
    let total = 0;
    for (const p of this.watch2Paths.values()) total += p.size;
    return { connections: this.watch2Paths.size, paths: this.watchTable.size, totalWatches: total };
  }

  byWatcher(): Map<WatcherId, string[]> {
    return new Map([...this.watch2Paths].map(([w, p]) => [w, [...p]]));
  }

  byPath(): Map<string, WatcherId[]> {
    return new Map([...this.watchTable].map(([p, ws]) => [p, [...ws]]));
  }

  /** Registrations of one watcher with their modes, for tests and debugging. */
  registrations(w: WatcherId): Array<[string, WatcherMode]> {
    return [...(this.watch2Paths.get(w) ?? [])].map((p) => [p, this.modeOf(w, p)]);
  }
}
