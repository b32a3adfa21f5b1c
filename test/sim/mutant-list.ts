/**
 * Single-point faults that the simulator must catch (`npm run sim:mutants`). Each replaces one
 * piece of production code by a plausible mistake: the ones the issue names (ACK before fsync,
 * a leader counting its own unsynced entries, ...) and one per defect it found, which brings
 * that defect back. `sim` narrows the run to the scenario that targets it, when there is one.
 */
export interface Mutant {
  readonly name: string;
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  /** Arguments for test/sim/run.ts; default: random seeds. */
  readonly sim?: readonly string[];
  /**
   * A test file (node --test) that must fail instead of the simulator: for properties a
   * focused test checks more sharply than whole-cluster runs (the snapshot image's copy-on-write).
   */
  readonly test?: string;
}

const scenario = (name: string): readonly string[] => ['--scenario', name];

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'ack-before-fsync',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'this.log.flush().then(',
    replace: 'Promise.resolve().then(',
    sim: ['--seeds', '300', '--profile', 'crashes'],
  },
  {
    name: 'leader-counts-its-unsynced-entries',
    file: 'src/server/zab/leader.ts',
    find: 'const acks = [node.durableZxid];',
    replace: 'const acks = [node.log.lastZxid];',
    sim: scenario('quorum-counts-only-durable-entries'),
  },
  {
    name: 'accepted-epoch-not-persisted',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'await this.o.dataDir.writeEpoch(a.name, a.value);',
    replace: "if (a.name !== 'acceptedEpoch') await this.o.dataDir.writeEpoch(a.name, a.value);",
    sim: ['--seeds', '300', '--profile', 'crashes'],
  },
  {
    name: 'no-directory-fsync-after-rename',
    file: 'src/server/storage/fsutil.ts',
    find: 'await fsyncDir(path.dirname(file), { fs });',
    replace: '',
    sim: ['--seeds', '300', '--profile', 'crashes'],
  },
  {
    name: 'no-fsync-of-new-directories',
    file: 'src/server/storage/fsutil.ts',
    find: 'for (const d of missing) await fsyncDir(path.dirname(d), o);',
    replace: '',
    sim: ['--seeds', '300', '--profile', 'crashes'],
  },
  {
    name: 'prev-zxid-check-removed',
    file: 'src/server/zab/follower.ts',
    find: 'if (msg.prevZxid !== node.log.lastZxid || !node.log.canAppend(msg.zxid))',
    replace: 'if (!node.log.canAppend(msg.zxid))',
    sim: ['--seeds', '300', '--profile', 'lossy'],
  },
  {
    name: 'forwarded-duplicates-applied',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'if (envelope.seq < next) return; // a duplicate',
    replace: '',
    sim: ['--seeds', '300', '--profile', 'lossy'],
  },
  {
    name: 'watch-dropped',
    file: 'src/server/node/zk-node.ts',
    find: 'if (!conn || !mayDeliver(trigger, conn.authIds)) continue;',
    replace: 'if (!conn || !mayDeliver(trigger, conn.authIds) || (trigger.event.type === 3 && conn.id % 2 === 0)) continue;',
    sim: ['--seeds', '100'],
  },
  {
    name: 'replies-out-of-order',
    file: 'src/server/node/zk-node.ts',
    find: 'const order = req.kind === \'sync\' ? this.writes.sync.bind(this.writes) : this.writes.after.bind(this.writes);',
    replace: 'const order = req.kind === \'sync\' ? this.writes.sync.bind(this.writes) : (_id: bigint, fn: () => void) => fn();',
    sim: ['--seeds', '100'],
  },
  {
    name: 'expiry-on-the-wall-clock',
    file: 'src/server/node/zk-node.ts',
    find: '() => io.clock.monoMs());',
    replace: '() => io.clock.wallMs());',
    sim: scenario('defect-5-wall-clock-jump'),
  },
  {
    name: 'no-session-revalidation',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'this.relay.revalidateVia(sessionId, timeoutMs, done);',
    replace: 'done(this.node.state().sessionExists(sessionId));',
    sim: scenario('defect-4-silent-server-death'),
  },
  {
    name: 'no-session-owner-check',
    file: 'src/server/cluster/session-relay.ts',
    find: 'else if (owner !== undefined && owner !== from) return true;',
    replace: 'else if (owner !== undefined && owner !== from) return false;',
    sim: scenario('defect-4-session-moved-late-write'),
  },
  {
    name: 'leader-forgets-follower-leases',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'this.leases.grant(a.peer, a.ticks, this.node.clock.monoMs());',
    replace: '',
    sim: scenario('follower-lease-partitioned-follower'),
  },
  {
    name: 'rollover-drops-every-client',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: "await this.execute(this.core.step({ type: 'propose', payload: Buffer.alloc(0) }));",
    replace: "return this.failAll('this leader cannot propose now');",
    sim: scenario('defect-1-zxid-rollover'),
  },
  {
    name: 'prepared-changes-outlive-leadership',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'this.node.state().clearOutstanding();',
    replace: '',
    sim: scenario('defect-2-prep-state-after-leadership'),
  },
  {
    name: 'link-reset-one-sided',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: "case 'disconnect':\n          this.quorumLinks.reset(a.peer);",
    replace: "case 'disconnect':",
    sim: scenario('defect-6-one-sided-link-loss'),
  },
  {
    name: 'reaper-requests-share-a-key',
    file: 'src/server/node/zk-node.ts',
    find: 'this.submitWrite(undefined, 0n, --this.internalCxid,',
    replace: 'this.submitWrite(undefined, 0n, 0,',
    sim: scenario('defect-7-reaper-requests'),
  },
  {
    name: 'log-throws-when-congested',
    file: 'src/server/storage/txn-log.ts',
    find: '    // Encoding now copies the payload, so the caller may reuse its buffer right away.',
    replace: "    if (this.pendingBytes + size > this.o.maxPendingBytes) throw new RangeError('maxPendingBytes');",
    sim: scenario('defect-7-log-pushback'),
  },
  {
    name: 'resign-deletes-before-stepping-down',
    file: 'src/election/election.ts',
    find: "    this.emit('resigned', { wasLeader, requeued: requeue });\n    await this.leave();",
    replace: "    await this.leave();\n    this.emit('resigned', { wasLeader, requeued: requeue });",
    sim: ['--seeds', '300', '--profile', 'lossy'],
  },
  {
    // Issue 11: the ownership read now travels in one batch with the children read; declaring on
    // the listing alone brings back CURATOR-696's two leaders.
    name: 'declare-without-ownership-check',
    file: 'src/election/election.ts',
    find: "      if (stat === null || stat.ephemeralOwner !== this.session.sessionId) return this.onNodeGone('node-deleted');",
    replace: "      if (stat === null) return this.onNodeGone('node-deleted');",
    test: 'test/integration/election-reconnect.test.ts',
  },
  // Faults in the consensus core, each caught by the scenario of the ZooKeeper bug it recreates.
  {
    name: 'trunc-too-far',
    file: 'src/server/zab/sync-plan.ts',
    find: "return { mode: 'trunc', to: floor };",
    replace: "return { mode: 'trunc', to: log.floor(floor - 1) ?? floor };",
    sim: scenario('ZOOKEEPER-1156'),
  },
  {
    name: 'trunc-across-epochs',
    file: 'src/server/zab/sync-plan.ts',
    find: 'if (zxidEpoch(floor) === zxidEpoch(peerLastZxid)) return',
    replace: 'if (zxidEpoch(floor) <= zxidEpoch(peerLastZxid)) return',
    sim: scenario('ZOOKEEPER-1154'),
  },
  {
    name: 'synced-txns-counted-durable-before-fsync',
    file: 'src/server/zab/follower.ts',
    find: '      node.appendLocal([{ zxid: msg.zxid, payload: msg.payload }]);',
    replace: "      node.appendLocal([{ zxid: msg.zxid, payload: msg.payload }]);\n      if (f.phase === 'syncing') node.durableZxid = node.log.lastZxid;",
    sim: scenario('ZOOKEEPER-2678'),
  },
  {
    name: 'current-epoch-at-newleader-receipt',
    file: 'src/server/zab/follower.ts',
    find: '        f.newLeaderZxid = msg.zxid;',
    replace: "        f.newLeaderZxid = msg.zxid;\n        node.persistEpoch('currentEpoch', f.epoch);",
    sim: scenario('ZOOKEEPER-4643'),
  },
  {
    name: 'snap-zxid-taken-before-install',
    file: 'src/server/zab/follower.ts',
    find: '        f.pendingSnap = { zxid: msg.zxid, bytes: msg.bytes, entries: [] };',
    replace: '        f.pendingSnap = { zxid: msg.zxid, bytes: msg.bytes, entries: [] };\n        node.log.reset(msg.zxid);\n        node.commitZxid = msg.zxid;',
    sim: scenario('ZOOKEEPER-3642'),
  },
  {
    name: 'proposals-before-uptodate-ignored',
    file: 'src/server/zab/follower.ts',
    find: "    case 'proposal':\n      if (!synced) return;",
    replace: "    case 'proposal':\n      if (!synced || f.phase === 'newLeader') return;",
    sim: scenario('ZOOKEEPER-4394'),
  },
  {
    name: 'early-ack-shuts-the-leader-down',
    file: 'src/server/zab/leader.ts',
    find: "        if (h.phase !== 'synced') return;",
    replace: "        if (h.phase !== 'synced') return stepDown(node, 'proposal ACK before NEWLEADER ACK');",
    sim: scenario('ZOOKEEPER-4685'),
  },
  {
    name: 'commit-without-a-quorum',
    file: 'src/server/zab/leader.ts',
    find: '  const q = acks[node.quorum - 1] as number;',
    replace: '  const q = acks[0] as number;',
    sim: scenario('paused leader'),
  },
  {
    name: 'no-answer-to-looking-peers',
    file: 'src/server/zab/node.ts',
    find: "      if (msg.state === 'looking') this.send(from, this.notification());",
    replace: '',
    sim: scenario('7 servers'),
  },
  {
    name: 'leader-rule-before-leases',
    file: 'src/server/zab/leader.ts',
    find: "  const anchor = quorumAnsweredTick(node);\n  const ticks = node.cfg.syncLimit - 1;\n  if (anchor < 0 || node.now - anchor >= ticks) return stepDown(node, 'lost the quorum lease');\n  if (anchor === L.leaseAnchor) return;\n  L.leaseAnchor = anchor;\n  node.emit({ type: 'lease', anchorTick: anchor, ticks });",
    replace: "  let heard = 1;\n  for (const h of L.handlers.values()) if (h.phase === 'synced' && node.now - h.lastHeard <= node.cfg.syncLimit) heard++;\n  if (heard >= node.quorum) L.leaseAnchor = node.now;\n  else if (L.leaseAnchor < 0 || node.now - L.leaseAnchor >= node.cfg.syncLimit) return stepDown(node, 'lost the quorum');\n  node.emit({ type: 'lease', anchorTick: L.leaseAnchor, ticks: node.cfg.syncLimit });",
    sim: scenario('defect-3'),
  },
  {
    // A node written after the image opened must be saved first, or the snapshot mixes states.
    name: 'image-does-not-save-changed-records',
    file: 'src/server/tree/tree-image.ts',
    find: 'beforeRecordChange(id: number): void {',
    replace: 'beforeRecordChange(id: number): void { return;',
    test: 'test/unit/tree-compact.test.ts',
  },
  {
    name: 'image-does-not-save-changed-child-lists',
    file: 'src/server/tree/tree-image.ts',
    find: 'beforeChildrenChange(id: number): void {',
    replace: 'beforeChildrenChange(id: number): void { return;',
    test: 'test/unit/tree-compact.test.ts',
  },
  {
    // Bytes and ids freed while an image is open are still the image's to read.
    name: 'frees-not-deferred-while-an-image-is-open',
    file: 'src/server/tree/data-tree.ts',
    find: 'const now = this.images.length === 0;',
    replace: 'const now = true;',
    test: 'test/unit/tree-compact.test.ts',
  },
];
