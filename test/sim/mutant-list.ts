/**
 * Single-point faults that the simulator must catch (`npm run sim:mutants`). Each replaces one
 * piece of production code by a plausible mistake: the ones the issue names (ACK before fsync,
 * a leader counting its own unsynced entries, ...) and one per defect it found, which brings
 * that defect back. `sim` narrows the run to the scenario that targets it, when there is one.
 *
 * Some are judged by a test file instead (`test`): a focused unit test, or an integration test
 * for faults that only show against real processes, sockets and disks (a backpressure limit that
 * stops holding, a paused connection that never resumes).
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
   * focused test checks more sharply than whole-cluster runs (the snapshot image's copy-on-write;
   * backpressure limits, which only show against real processes, sockets and disks).
   */
  readonly test?: string;
  /** Only the tests of `test` whose names match this (node --test-name-pattern). */
  readonly testPattern?: string;
}

const scenario = (name: string): readonly string[] => ['--scenario', name];
const backpressureTest = (pattern: string) => ({ test: 'test/integration/backpressure.test.ts', testPattern: pattern });

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
    // Whether a moved session expires depends on the seed's timing: caught on 5 of seeds 1-8.
    sim: [...scenario('defect-4-silent-server-death'), '--seeds', '8'],
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
  // Backpressure (issue 9): every limit holds, pausing drops and reorders nothing, a pause ends.
  {
    name: 'per-connection-in-flight-unchecked',
    file: 'src/server/net/client-connection.ts',
    find: '!this.overOutstanding && ',
    replace: '',
    ...backpressureTest('pipelines 3000 creates'),
  },
  {
    name: 'global-in-flight-unchecked',
    file: 'src/server/net/client-port.ts',
    find: 'if (outstanding > 0 && (this.overInFlight || this.pushBacks.size > 0)) return true;',
    replace: 'if (outstanding > 0 && this.pushBacks.size > 0) return true;',
    ...backpressureTest('global in-flight limit'),
  },
  {
    name: 'per-connection-queue-unchecked',
    file: 'src/server/net/client-connection.ts',
    find: '&& !this.overQueued && !this.load.holds(',
    replace: '&& !this.load.holds(',
    ...backpressureTest('reads no reply is paused'),
  },
  {
    name: 'total-queue-unchecked',
    file: 'src/server/net/client-port.ts',
    find: 'return queuedBytes > 0 && this.overQueued;',
    replace: 'return false;',
    ...backpressureTest('total queued-bytes limit'),
  },
  {
    name: 'drained-queue-unnoticed',
    file: 'src/server/net/client-connection.ts',
    find: 'socket.onDrain(() => this.observeQueued());',
    replace: '',
    ...backpressureTest('reads no reply is paused'),
  },
  {
    name: 'frames-read-while-waiting-jump-the-queue',
    file: 'src/server/net/client-connection.ts',
    find: 'for (const f of frames) this.inbox.push(f);',
    replace: 'this.inbox.splice(this.inboxAt, 0, ...frames);',
    ...backpressureTest('pipelines 3000 creates'),
  },
  {
    name: 'requests-read-before-the-session',
    file: 'src/server/net/client-connection.ts',
    find: '!this.awaitingConnect && ',
    replace: '',
    ...backpressureTest('behind the ConnectRequest'),
  },
  {
    name: 'log-never-congested',
    file: 'src/server/storage/txn-log.ts',
    find: 'if (unsynced > this.o.maxPendingBytes) this.congestedFlag = true;',
    replace: '',
    ...backpressureTest('pipelining 200 creates of 4 KiB'),
  },
  {
    name: 'leader-proposes-past-the-limit',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'if (this.deferred.length > 0 || !this.roomToPropose()) {',
    replace: 'if (this.deferred.length > 0) {',
    ...backpressureTest('at most 4 proposals uncommitted'),
  },
  {
    name: 'leader-proposes-on-a-congested-log',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'return this.uncommitted() < this.o.server.maxUncommittedProposals && !this.log.congested;',
    replace: 'return this.uncommitted() < this.o.server.maxUncommittedProposals;',
    ...backpressureTest('the leader on a slow disk'),
  },
  // SNAP as a stream (issue 9), each caught by the scenario that breaks streams on purpose.
  {
    name: 'snap-chunk-accepted-out-of-sequence',
    file: 'src/server/zab/follower.ts',
    find: '  if (msg.seq > p.nextSeq) return node.becomeLooking(`SNAP chunk ${p.nextSeq} is missing (got ${msg.seq})`);',
    replace: '',
    sim: scenario('snap-stream-catch-up'),
  },
  {
    name: 'snap-duplicate-chunk-kept',
    file: 'src/server/zab/follower.ts',
    find: '  if (msg.seq < p.nextSeq) return; // a duplicate: same session, same seq, same bytes',
    replace: '',
    sim: scenario('snap-stream-catch-up'),
  },
  {
    name: 'snap-window-ignored',
    file: 'src/server/zab/leader.ts',
    find: '  if (s.unackedBytes + node.cfg.snapChunkBytes > node.cfg.snapWindowBytes) return;',
    replace: '',
    sim: scenario('snap-stream-catch-up'),
  },
  // The leader's image for a SNAP must be released however the stream ends: an open image keeps
  // every free of the tree deferred (tree-image.ts) for as long as the leader runs.
  {
    name: 'snap-image-never-released',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: '    s.source.close();\n',
    replace: '',
    sim: scenario('snap-stream-images-released'),
  },
  {
    name: 'snap-image-released-only-when-its-generator-ends',
    file: 'src/server/cluster/snapshot-source.ts',
    find: '    this.reader.close();\n    void this.slices.return(undefined);',
    replace: '    void this.slices.return(undefined);',
    test: 'test/unit/snapshot-source.test.ts',
  },
  // The follower's end of a SNAP (cluster/snap-receiver.ts) writes the image to a temp file as it
  // arrives: only a whole image that parsed may ever be renamed into place.
  {
    name: 'snap-abandoned-image-renamed-into-place',
    file: 'src/server/cluster/snap-receiver.ts',
    find: '    this.loader = undefined;\n    this.feed.fail(new SnapAborted());\n  }',
    replace: '    this.loader = undefined;\n    this.feed.end();\n  }',
    test: 'test/unit/snap-receiver.test.ts',
  },
  {
    name: 'snap-unparsable-image-renamed-into-place',
    file: 'src/server/cluster/snap-receiver.ts',
    find: '      this.feed.fail(new SnapAborted());\n      throw e;',
    replace: '      this.feed.end();\n      throw e;',
    test: 'test/unit/snap-receiver.test.ts',
  },
  // atomicWriteFile keeps several writes in flight: the sync that makes the file durable before
  // its rename must come after all of them.
  {
    name: 'atomic-write-syncs-before-its-writes-land',
    file: 'src/server/storage/fsutil.ts',
    find: '      await writes.drain();\n      if (o.header)',
    replace: '      if (o.header)',
    test: 'test/unit/storage-atomic-write.test.ts',
  },
  {
    name: 'snap-stream-kept-for-disconnected-follower',
    file: 'src/server/zab/leader.ts',
    find: '  endSnapStream(node, h);\n  st(node).handlers.delete(peer);',
    replace: '  st(node).handlers.delete(peer);',
    sim: scenario('snap-stream-images-released'),
  },
  {
    name: 'snap-stream-kept-for-silent-follower',
    file: 'src/server/zab/leader.ts',
    find: '      endSnapStream(node, h);\n      L.handlers.delete(h.sid);',
    replace: '      L.handlers.delete(h.sid);',
    sim: scenario('snap-stream-images-released'),
  },
  // Named handoff (src/election/handoff.ts). Two leaders at once: the old leader announces that it
  // stepped down only once the target has taken over (caught by the simulator's election checker).
  {
    name: 'handoff-resigns-after-the-target-leads',
    file: 'src/election/election.ts',
    find: "    if (wasLeader) this.emit('resigned', { wasLeader: true, requeued: false, to: target.name });\n    this.logger.info('handing over', { to: target.name, reason });",
    replace: "    this.once('handoff', () => wasLeader && this.emit('resigned', { wasLeader: true, requeued: false, to: target.name }));\n    this.logger.info('handing over', { to: target.name, reason });",
    sim: ['--seeds', '100', '--handoffs'],
  },
  // Two leaders at once: the target trusts the grant it read instead of checking, after taking
  // the seat, that it still stands (the leader's session expired meanwhile and the queue's next
  // candidate leads).
  {
    name: 'handoff-target-skips-the-grant-check',
    file: 'src/election/handoff.ts',
    find: '  const [grantNow, frontNow] = await Promise.all([session.exists(grantPath), session.exists(joinPath(io.path, grant.front))]);',
    replace: '  const [grantNow, frontNow] = [read.stat, {}];',
    test: 'test/integration/handoff-crash.test.ts',
    testPattern: 'T tries the seat only after',
  },
  // A candidate other than the target is woken: the old leader leaves after handing over (its
  // successor's watch fires), or every candidate watches one shared grant path.
  {
    name: 'handoff-old-leader-leaves',
    file: 'src/election/election.ts',
    find: "    if (outcome === 'taken') return;",
    replace: "    if (outcome === 'taken') return this.leave();",
    test: 'test/integration/election-handoff.test.ts',
    testPattern: 'the named candidate leads, nobody else wakes',
  },
  {
    name: 'handoff-one-grant-path-for-all',
    file: 'src/election/names.ts',
    find: '  return `zk-elect.grant-for.${uuid}.json`;',
    replace: '  return `zk-elect.grant-for.${uuid.length}.json`;',
    test: 'test/integration/election-handoff.test.ts',
    testPattern: 'the named candidate leads, nobody else wakes',
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
  // The wire transport (src/client, src/election/wire-handle.ts).
  {
    // Created paths keep the chroot: an election under a chroot names its own node wrongly.
    name: 'wire-chroot-not-stripped',
    file: 'src/client/zk-ops.ts',
    find: "(r) => local(need(r.path, 'a path'))",
    replace: "(r) => need(r.path, 'a path')",
    test: 'test/integration/wire-transport.test.ts',
    testPattern: 'chroot',
  },
  {
    // A refused AuthPacket is ignored: the handle goes on as if authenticated.
    name: 'wire-ignores-refused-credentials',
    file: 'src/client/session-core.ts',
    find: "if (err !== ErrorCode.OK) this.shutdown('closed', 'auth-failed', ErrorCode.AUTHFAILED);",
    replace: 'void err;',
    test: 'test/integration/wire-transport.test.ts',
    testPattern: 'refused credentials',
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
    find: '    f.pendingSnap = { zxid: msg.zxid, bytes: 0, nextSeq: 0, complete: false, entries: [] };',
    replace: '    f.pendingSnap = { zxid: msg.zxid, bytes: 0, nextSeq: 0, complete: false, entries: [] };\n    node.log.reset(msg.zxid);\n    node.commitZxid = msg.zxid;',
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
    // A restarted server also learns the leader when its election links come up (electionLinkUp);
    // the answer is what a server that goes LOOKING with its links up has: one the leader dropped.
    name: 'no-answer-to-looking-peers',
    file: 'src/server/zab/node.ts',
    find: "      if (msg.state === 'looking') this.send(from, this.notification());",
    replace: '',
    sim: scenario('defect-6-one-sided-link-loss'),
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
  {
    name: 'followers-keep-their-own-session-secret',
    file: 'src/server/cluster/replicated-write-path.ts',
    find: 'if (!theirs || theirs.equals(this.node.sessionSecret())) return;',
    replace: 'if (theirs || !theirs) return;',
    sim: scenario('session-secret-follows-the-leader'),
  },
  {
    // A peer's certificate from our CA must also be valid for the host of the member it claims to be.
    name: 'peer-tls-host-not-checked',
    file: 'src/server/net/peer-transport.ts',
    find: "const wrong = socket.checkPeerHost ? socket.checkPeerHost(host) : 'the network cannot check certificates';",
    replace: 'const wrong = host === \'\' ? \'no host\' : undefined;',
    test: 'test/integration/tls-quorum.test.ts',
  },
  {
    // With --tls-ca the secure client port demands a certificate from that CA.
    name: 'secure-port-without-client-certificates',
    file: 'src/server/net/client-port.ts',
    find: 'requireClientCert: secure.material.ca !== undefined,',
    replace: 'requireClientCert: false,',
    test: 'test/integration/tls-client-port.test.ts',
    testPattern: 'refused',
  },
  {
    // A reconnect must present the session's password.
    name: 'session-password-not-checked',
    file: 'src/server/node/zk-node.ts',
    find: 'if (req.passwd === null || !passwordMatches(this.secret, req.sessionId, req.passwd)) {',
    replace: 'if (req.passwd === null || req.passwd.length === 0) {',
    test: 'test/integration/session-secret.test.ts',
    testPattern: 'forged',
  },
  {
    // The library's tunnel must verify the server's certificate.
    name: 'tunnel-trusts-any-server',
    file: 'src/election/tls-tunnel.ts',
    find: 'rejectUnauthorized: true,',
    replace: 'rejectUnauthorized: false,',
    test: 'test/integration/tls-library.test.ts',
    testPattern: 'wrong CA',
  },
  // Security properties (issue 10), each caught by the test that exercises it against real servers.
  {
    // Without the election path's ACL, anyone may delete the leader's node or join.
    name: 'election-path-left-world-writable',
    file: 'src/election/election.ts',
    find: '    if (this.session.auth && !this.pathProtected) await this.protectPath();',
    replace: '',
    test: 'test/integration/election-acl.test.ts',
  },
  {
    name: 'candidate-node-left-world-writable',
    file: 'src/election/election.ts',
    find: '      if (this.session.auth) await this.protectNode(created, 0);',
    replace: '',
    test: 'test/integration/election-acl.test.ts',
  },
  {
    name: 'handoff-nodes-left-world-writable',
    file: 'src/election/guard.ts',
    find: '  await protectOwnNode(session, created, 0);',
    replace: '',
    test: 'test/integration/election-acl.test.ts',
  },
  // Snapshot purging: an older snapshot (and the log after it) may only go once `keep` newer
  // ones are known whole, or recovery from a damaged newest one would have nothing to fall back on.
  {
    name: 'purge-counts-a-damaged-snapshot',
    file: 'src/server/storage/snapshot.ts',
    find: '    if (ok) kept.push(info);',
    replace: '    kept.push(info);',
    test: 'test/unit/storage-snapshot.test.ts',
  },
  {
    name: 'purge-trusts-a-resized-snapshot',
    file: 'src/server/storage/snapshot.ts',
    find: '    if (now === known) return true;',
    replace: '    return true;',
    test: 'test/unit/storage-snapshot.test.ts',
  },
  {
    // A restart streams the snapshot into the tree: a damaged file must not become the state.
    name: 'streamed-snapshot-skips-the-checksum',
    file: 'src/server/storage/snapshot.ts',
    find: "    if (!check.matches()) throw new CorruptSnapshotError(file, 24, 'checksum mismatch');\n    try {",
    replace: '    try {',
    test: 'test/unit/storage-snapshot.test.ts',
  },
  {
    // The header's node count is read before the checksum: a damaged one must not size memory.
    name: 'prefault-trusts-the-header-count',
    file: 'src/server/tree/snapshot-codec.ts',
    find: '    const nodes = Math.min(announced, Math.floor(this.payloadBytes / RECORD_FIXED_BYTES));',
    replace: '    const nodes = announced;',
    test: 'test/unit/tree-compact.test.ts',
  },
  {
    name: 'sasl-accepts-a-wrong-password',
    file: 'src/server/auth/digest-md5.ts',
    find: "return this.fail('wrong password');",
    replace: 'void 0;',
    test: 'test/unit/sasl-digest-md5.test.ts',
  },
  {
    // The binding keeps its poll handle on the descriptor the C client closed at a connection
    // timeout, and later takes whatever Node opened under that number out of epoll.
    name: 'binding-keeps-the-stale-poll-handle',
    file: 'src/binding/patch-zookeeper-binding.mjs',
    find: '            if (zk_io) {\n                uv_close((uv_handle_t*) zk_io, delete_on_close);\n                zk_io = NULL;\n            }\n            fd = -1;',
    replace: '            fd = -1;',
    test: 'test/integration/binding-fd.test.ts',
  },
  {
    // The election decides on one vote fewer than a quorum. Caught as a liveness failure, not a
    // split brain: a self-elected leader still needs a quorum's ACKEPOCH/NEWLEADER acks, so ZAB's
    // own quorums keep it from committing; the cluster stops converging instead.
    name: 'election-decides-without-a-quorum',
    file: 'src/server/zab/election.ts',
    find: '  if (agreeing(node, s.votes, node.vote, sameVote) >= node.quorum) {',
    replace: '  if (agreeing(node, s.votes, node.vote, sameVote) >= node.quorum - 1) {',
    sim: ['--seeds', '300', '--profile', 'crashes'],
  },
];
