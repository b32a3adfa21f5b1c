/**
 * The client's one-shot watch registry, modelled on the C client's zk_hashtables:
 *
 * - data watchers: getData with a watch that succeeded, or exists with a watch on a node
 *   that existed; fired by NodeDataChanged, NodeDeleted (and NodeCreated, which a server
 *   only sends to an exist watch, but the C client looks both tables up).
 * - exist watchers: exists with a watch on a node that did not exist; fired by NodeCreated,
 *   and by NodeDataChanged / NodeDeleted (the node may be created and changed again before
 *   the client hears about it, so the C client serves those from both tables too).
 * - child watchers: getChildren with a watch that succeeded; fired by NodeChildrenChanged
 *   and NodeDeleted.
 *
 * A watch is registered only when the reply arrives with the right code, never on a lost
 * connection: the server-side watch died with that connection too. Firing removes every
 * watcher it collects, and a callback found in several tables runs once per event.
 */
import { EventType } from '../protocol/index.js';
import type { WatchCallback, WatchedEvent, WatchKind } from './types.js';

export type { WatchKind };

/** Java's ClientCnxn.SET_WATCHES_MAX_LENGTH. */
const SET_WATCHES_MAX_BYTES = 128 * 1024;

/** Registered for `watch: true`: runs nothing locally; `onEvent` reports the notification. */
export const DEFAULT_WATCHER: WatchCallback = () => undefined;

export class WatchTable {
  private readonly tables: Record<WatchKind, Map<string, Set<WatchCallback>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
  };

  add(kind: WatchKind, path: string, cb: WatchCallback): void {
    const table = this.tables[kind];
    let set = table.get(path);
    if (!set) table.set(path, (set = new Set()));
    set.add(cb);
  }

  /**
   * The paths to re-register, as SetWatches bodies of at most ~128 KiB of path text each, as
   * the Java client batches them (one huge frame would exceed the server's jute.maxbuffer).
   * Sorted, so a replay sends identical bytes.
   */
  setWatchesBatches(): Array<Record<'dataWatches' | 'existWatches' | 'childWatches', string[]>> {
    const batches: Array<Record<'dataWatches' | 'existWatches' | 'childWatches', string[]>> = [];
    let batch = { dataWatches: [] as string[], existWatches: [] as string[], childWatches: [] as string[] };
    let bytes = 0;
    const lists = [['dataWatches', this.tables.data], ['existWatches', this.tables.exist], ['childWatches', this.tables.child]] as const;
    for (const [field, table] of lists) {
      for (const path of [...table.keys()].sort()) {
        if (bytes > 0 && bytes + path.length > SET_WATCHES_MAX_BYTES) {
          batches.push(batch);
          batch = { dataWatches: [], existWatches: [], childWatches: [] };
          bytes = 0;
        }
        batch[field].push(path);
        bytes += path.length;
      }
    }
    if (bytes > 0) batches.push(batch);
    return batches;
  }

  /** Removes and returns the watchers a node event fires, each once, in registration order per table. */
  collect(event: WatchedEvent): WatchCallback[] {
    const kinds: WatchKind[] =
      event.type === EventType.NodeCreated || event.type === EventType.NodeDataChanged ? ['data', 'exist']
        : event.type === EventType.NodeChildrenChanged ? ['child']
          : event.type === EventType.NodeDeleted ? ['data', 'exist', 'child']
            : [];
    const out = new Set<WatchCallback>();
    for (const kind of kinds) {
      const set = this.tables[kind].get(event.path);
      if (!set) continue;
      this.tables[kind].delete(event.path);
      for (const cb of set) out.add(cb);
    }
    return [...out];
  }

  /** Every registered watcher, once each (session events go to all of them and remove none). */
  all(): WatchCallback[] {
    const out = new Set<WatchCallback>();
    for (const t of Object.values(this.tables)) for (const s of t.values()) for (const cb of s) out.add(cb);
    return [...out];
  }

  /** Runs each callback once with `event`; a throw goes to `onThrow` and the rest still run. */
  static deliver(cbs: readonly WatchCallback[], event: WatchedEvent, onThrow: (e: unknown) => void): void {
    for (const cb of cbs) {
      if (cb === DEFAULT_WATCHER) continue;
      try {
        cb(event);
      } catch (e) {
        onThrow(e);
      }
    }
  }

  clear(): void {
    for (const t of Object.values(this.tables)) t.clear();
  }
}
