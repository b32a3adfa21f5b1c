/**
 * Whole-state snapshots (tree + sessions; watches and outstanding changes are not state) and a
 * tree digest. Nodes are written depth-first in DataTree.serializeNode order and re-added on
 * load in that order, so children come back in the order ZooKeeper itself would restore.
 */
import { createHash } from 'node:crypto';
import { JuteReader, JuteWriter } from '../../protocol/jute.js';
import { DataTree, type DataNode } from './data-tree.js';
import { ZkState } from './state.js';
import { readAcl, writeAcl } from './txn-codec.js';
import type { StatPersisted, ZkStateOptions } from './types.js';

const MAGIC = 0x5a4b5354; // "ZKST"
const VERSION = 1;

function writeStat(w: JuteWriter, s: StatPersisted): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime);
  w.int(s.version).int(s.cversion).int(s.aversion);
  w.long(s.ephemeralOwner).long(s.pzxid);
}

function readStat(r: JuteReader): StatPersisted {
  const czxid = r.long();
  const mzxid = r.long();
  const ctime = r.long();
  const mtime = r.long();
  const version = r.int();
  const cversion = r.int();
  const aversion = r.int();
  const ephemeralOwner = r.long();
  const pzxid = r.long();
  return { czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid };
}

function writeNode(w: JuteWriter, path: string, n: DataNode): void {
  w.ustring(path).buffer(n.data);
  writeAcl(w, n.acl);
  writeStat(w, n.stat);
}

export function serializeState(state: ZkState): Buffer {
  const w = new JuteWriter(4096);
  w.int(MAGIC).int(VERSION).long(state.lastProcessedZxid);
  w.vector([...state.sessions], (ww, [id, info]) => ww.long(id).int(info.timeoutMs));
  for (const [path, node] of state.tree.walk()) writeNode(w, path, node);
  w.ustring('/');
  return Buffer.from(w.toBuffer());
}

export function deserializeState(buf: Buffer, options: ZkStateOptions = {}): ZkState {
  const r = new JuteReader(buf, { maxLength: 0x7fffffff });
  if (r.int() !== MAGIC) throw new RangeError('not a zk-elect tree snapshot');
  const version = r.int();
  if (version !== VERSION) throw new RangeError(`unsupported snapshot version ${version}`);
  const lastZxid = r.long();
  const sessions = r.vector((rr) => [rr.long(), rr.int()] as const);
  const tree = new DataTree(options.extendedTypesEnabled ?? false, true);
  for (let path = r.string(); path !== '/'; path = r.string()) {
    const data = r.buffer();
    const acl = readAcl(r);
    const stat = readStat(r);
    tree.loadNode(path, { data, acl, stat, children: null });
  }
  r.end('snapshot');
  if (!tree.getNode('')) throw new RangeError('snapshot has no root');
  tree.lastProcessedZxid = lastZxid;
  const state = new ZkState(options, tree);
  for (const [id, timeoutMs] of sessions) state.sessions.set(id, { timeoutMs });
  return state;
}

/**
 * SHA-1 (hex) over every znode sorted by path (path, data, acl, persisted stat): equal for
 * equal trees regardless of HashSet layout history. Sessions are not included.
 */
export function treeDigest(tree: DataTree): string {
  const h = createHash('sha1');
  const paths = [...tree.nodes.keys()].filter((p) => p !== '').sort();
  for (const path of paths) {
    const w = new JuteWriter();
    writeNode(w, path, tree.nodes.get(path) as DataNode);
    h.update(w.toBuffer());
  }
  return h.digest('hex');
}
