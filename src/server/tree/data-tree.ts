/**
 * org.apache.zookeeper.server.DataTree: the applied znode tree, its ephemeral/container/TTL
 * indexes, and the two watch managers. Mutators mirror createNode/deleteNode/setData/setACL
 * including the watches they trigger, in the same order.
 */
import { EventType } from '../../protocol/constants.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl.js';
import { ephemeralType } from './ephemeral-type.js';
import { JavaHashSet } from './java-hash-set.js';
import { childName, parentOf } from './paths.js';
import type { ACL, Stat, StatPersisted, WatchTrigger } from './types.js';
import { WatchManager } from './watches.js';

export interface DataNode {
  data: Buffer | null;
  acl: ACL[];
  stat: StatPersisted;
  /** null until the first child is added (DataNode.children starts null, then HashSet(8)). */
  children: JavaHashSet | null;
}

export function emptyStat(): StatPersisted {
  return { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, pzxid: 0n };
}

/** DataTree.createStat. */
export function createStat(zxid: bigint, time: bigint, ephemeralOwner: bigint): StatPersisted {
  return { czxid: zxid, mzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, ephemeralOwner, pzxid: zxid };
}

export class NoNodeError extends Error {}
export class NodeExistsError extends Error {}

export class DataTree {
  /** Path → node; "" is an alias of "/" exactly as in ZooKeeper (nodes.put("", root)). */
  readonly nodes = new Map<string, DataNode>();
  readonly ephemerals = new Map<bigint, JavaHashSet>();
  readonly containers = new JavaHashSet();
  readonly ttls = new JavaHashSet();
  readonly dataWatches = new WatchManager();
  readonly childWatches = new WatchManager();
  lastProcessedZxid = 0n;

  constructor(readonly extendedTypes: boolean, empty = false) {
    if (empty) return;
    // The DataTree constructor: /, /zookeeper, /zookeeper/quota, /zookeeper/config (READ_ACL_UNSAFE,
    // aversion -1 because addConfigNode calls setACL(..., -1)); all other stat fields are 0.
    const root = this.newNode();
    this.nodes.set('', root);
    this.nodes.set('/', root);
    const proc = this.newNode();
    const quota = this.newNode();
    const config = this.newNode();
    this.addChild(root, 'zookeeper');
    this.nodes.set('/zookeeper', proc);
    this.addChild(proc, 'quota');
    this.nodes.set('/zookeeper/quota', quota);
    this.addChild(proc, 'config');
    this.nodes.set('/zookeeper/config', config);
    config.acl = [...READ_ACL_UNSAFE];
    config.stat.aversion = -1;
  }

  private newNode(): DataNode {
    return { data: Buffer.alloc(0), acl: [...OPEN_ACL_UNSAFE], stat: emptyStat(), children: null };
  }

  addChild(node: DataNode, name: string): void {
    if (node.children === null) node.children = new JavaHashSet(8);
    node.children.add(name);
  }

  getNode(path: string): DataNode | undefined {
    return this.nodes.get(path);
  }

  /** DataNode.copyStat: cversion*2 - numChildren, ephemeralOwner 0 unless a NORMAL ephemeral. */
  statOf(n: DataNode): Stat {
    const numChildren = n.children?.size ?? 0;
    const s = n.stat;
    return {
      czxid: s.czxid,
      mzxid: s.mzxid,
      ctime: s.ctime,
      mtime: s.mtime,
      version: s.version,
      cversion: (Math.imul(s.cversion, 2) - numChildren) | 0,
      aversion: s.aversion,
      ephemeralOwner: ephemeralType(s.ephemeralOwner, this.extendedTypes) === 'NORMAL' ? s.ephemeralOwner : 0n,
      dataLength: n.data?.length ?? 0,
      numChildren,
      pzxid: s.pzxid,
    };
  }

  childrenOf(n: DataNode): string[] {
    return n.children?.toArray() ?? [];
  }

  /** DataTree.createNode (returns the new node's Stat). */
  createNode(
    path: string,
    data: Buffer | null,
    acl: ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
    zxid: bigint,
    time: bigint,
    out: WatchTrigger[],
  ): Stat {
    const parentName = parentOf(path);
    const name = childName(path);
    const parent = this.nodes.get(parentName);
    if (!parent) throw new NoNodeError(path);
    if (this.nodes.has(path)) throw new NodeExistsError(path);
    if (parentCVersion === -1) parentCVersion = (parent.stat.cversion + 1) | 0;
    if (parentCVersion > parent.stat.cversion) {
      parent.stat.cversion = parentCVersion;
      parent.stat.pzxid = zxid;
    }
    const child: DataNode = { data, acl, stat: createStat(zxid, time, ephemeralOwner), children: null };
    this.addChild(parent, name);
    this.nodes.set(path, child);
    const kind = ephemeralType(ephemeralOwner, this.extendedTypes);
    if (kind === 'CONTAINER') this.containers.add(path);
    else if (kind === 'TTL') this.ttls.add(path);
    else if (ephemeralOwner !== 0n) {
      let set = this.ephemerals.get(ephemeralOwner);
      if (!set) this.ephemerals.set(ephemeralOwner, (set = new JavaHashSet()));
      set.add(path);
    }
    const stat = this.statOf(child);
    this.dataWatches.triggerWatch(path, EventType.NodeCreated, acl, out);
    this.childWatches.triggerWatch(parentName === '' ? '/' : parentName, EventType.NodeChildrenChanged, parent.acl, out);
    return stat;
  }

  /** DataTree.deleteNode. */
  deleteNode(path: string, zxid: bigint, out: WatchTrigger[]): void {
    const parentName = parentOf(path);
    const parent = this.nodes.get(parentName);
    if (!parent) throw new NoNodeError(path);
    parent.children?.delete(childName(path));
    if (zxid > parent.stat.pzxid) parent.stat.pzxid = zxid;
    const node = this.nodes.get(path);
    if (!node) throw new NoNodeError(path);
    this.nodes.delete(path);
    const owner = node.stat.ephemeralOwner;
    const kind = ephemeralType(owner, this.extendedTypes);
    if (kind === 'CONTAINER') this.containers.delete(path);
    else if (kind === 'TTL') this.ttls.delete(path);
    else if (owner !== 0n) this.ephemerals.get(owner)?.delete(path);
    const processed = this.dataWatches.triggerWatch(path, EventType.NodeDeleted, node.acl, out);
    this.childWatches.triggerWatch(path, EventType.NodeDeleted, node.acl, out, processed);
    this.childWatches.triggerWatch(parentName === '' ? '/' : parentName, EventType.NodeChildrenChanged, parent.acl, out);
  }

  /** DataTree.setData. */
  setData(path: string, data: Buffer | null, version: number, zxid: bigint, time: bigint, out: WatchTrigger[]): Stat {
    const n = this.nodes.get(path);
    if (!n) throw new NoNodeError(path);
    n.data = data;
    n.stat.mtime = time;
    n.stat.mzxid = zxid;
    n.stat.version = version;
    const stat = this.statOf(n);
    this.dataWatches.triggerWatch(path, EventType.NodeDataChanged, n.acl, out);
    return stat;
  }

  /** DataTree.setACL (no watches). */
  setACL(path: string, acl: ACL[], version: number): Stat {
    const n = this.nodes.get(path);
    if (!n) throw new NoNodeError(path);
    n.stat.aversion = version;
    n.acl = acl;
    return this.statOf(n);
  }

  /** DataTree.getEphemerals(sessionId): a clone, hence HashMap.clone's iteration order. */
  ephemeralsClone(sessionId: bigint): JavaHashSet {
    return this.ephemerals.get(sessionId)?.clone() ?? new JavaHashSet();
  }

  /** DataTree.getAllChildrenNumber (the map holds "" and "/" for the root). */
  allChildrenNumber(path: string): number {
    if (path === '/') return this.nodes.size - 2;
    const prefix = `${path}/`;
    let n = 0;
    for (const k of this.nodes.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  /**
   * Depth-first walk in DataTree.serializeNode order: "" (root) first, then children in
   * HashSet order, their paths being parent + "/" + name.
   */
  *walk(): Generator<[string, DataNode]> {
    const stack: string[] = [''];
    while (stack.length > 0) {
      const path = stack.pop() as string;
      const node = this.nodes.get(path);
      if (!node) continue;
      yield [path, node];
      const kids = this.childrenOf(node);
      for (let i = kids.length - 1; i >= 0; i--) stack.push(`${path}/${kids[i] as string}`);
    }
  }

  /** Rebuilds indexes while loading nodes in walk order (DataTree.deserialize). */
  loadNode(path: string, node: DataNode): void {
    this.nodes.set(path, node);
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1) {
      this.nodes.set('/', node);
      return;
    }
    const parent = this.nodes.get(path.substring(0, lastSlash));
    if (!parent) throw new Error(`Invalid Datatree, unable to find parent of path ${path}`);
    this.addChild(parent, path.substring(lastSlash + 1));
    const owner = node.stat.ephemeralOwner;
    const kind = ephemeralType(owner, this.extendedTypes);
    if (kind === 'CONTAINER') this.containers.add(path);
    else if (kind === 'TTL') this.ttls.add(path);
    else if (owner !== 0n) {
      let set = this.ephemerals.get(owner);
      if (!set) this.ephemerals.set(owner, (set = new JavaHashSet()));
      set.add(path);
    }
  }
}
