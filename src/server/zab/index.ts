/**
 * # ZAB consensus core (pure)
 *
 * ZooKeeper's atomic broadcast for a cluster of voters (1, 3, 5, 7 ...), written in the style of
 * etcd-io/raft: the core never does I/O, never reads a clock and draws no random numbers. Time is
 * the `tick` input; everything else arrives as an input, and every effect leaves as an action.
 *
 * ```ts
 * const node = new ZabNode(config, durableState);   // restored from disk
 * execute(node.start());                             // begins LOOKING
 * execute(node.step(input));                         // for every input, one at a time
 * ```
 *
 * ## Inputs (`ZabInput`)
 * - `tick` — every tickMs (the driver owns the clock). initLimit, syncLimit,
 *   electionFinalizeTicks and election back-off are counted in ticks.
 * - `message {from, msg}` — a decoded quorum message from voter `from` (see messages.ts, and
 *   `encodeMessage`/`decodeMessage` for the wire). Messages may be lost, duplicated, delayed or
 *   reordered: the core stays safe (sessions, continuity checks, cumulative acks) and recovers
 *   by resynchronising.
 * - `propose {payload}` — leader only: an opaque txn to broadcast. Answered in the same batch by
 *   `proposed {zxid, payload}` or `rejected {reason, payload}`.
 * - `persisted {upToZxid}` — the driver's fsync of appended entries completed up to this zxid.
 * - `snapshotOpened {peer, stream, zxid}` — answer to `openSnapshot`: the driver fixed a
 *   consistent image of its applied state (all commits it has executed so far), at zxid.
 * - `snapshotChunk {peer, stream, bytes, last}` — answer to `readSnapshot`: the next bytes of that
 *   image (1..maxBytes of them; `last` when nothing follows). Inputs for a stream the core has
 *   ended are answered with `closeSnapshot` again.
 * - `snapshotInstalled {zxid}` — the driver durably wrote a snapshot of its applied state at zxid
 *   (<= the last commit it executed); the core forgets log entries up to it, and the driver may
 *   purge them from disk. Followers older than that get SNAP instead of DIFF.
 * - `forward {payload}` — on a follower: send an opaque request to the leader (REQUEST); the
 *   leader's driver receives `forwarded {from, payload}`. On the leader it comes straight back as
 *   `forwarded {from: myId}`. Rejected with reason 'no-leader' until the follower is synced.
 * - `sendOpaque {to, payload}` — leader only: an opaque reply/notification to a synced follower,
 *   whose driver receives `opaque {from, payload}`.
 * - `peerConnected {peer}` / `peerDisconnected {peer}` — transport hints for the quorum link. A
 *   follower that loses its leader's connection goes LOOKING; a leader forgets the follower's
 *   session; a LOOKING server (re)sends its vote to a newly connected peer; a follower in
 *   discovery repeats FOLLOWERINFO to its leader, a leader LEADERINFO to a follower waiting for it.
 * - `electionLinkUp {peer}` — the link notifications travel on is up: the server sends its
 *   notification to that peer, in any role (a restarted peer learns the leader at once).
 *
 * ## Actions (`ZabAction`), executed IN ORDER
 * Within a batch the core places durable writes first, then sends, then everything else.
 * - `persistEpoch {name: 'acceptedEpoch'|'currentEpoch', value}` — durable (fsynced) before any
 *   later action of the batch is executed.
 * - `truncateLog {afterZxid}` — discard log entries with zxid > afterZxid; synchronous: when it
 *   returns, what remains of the log is durable, and no `persisted` notification for appends
 *   issued before it may be delivered afterwards.
 * - `installSnapshot {zxid, chunks, bytes, entries}` — follower SNAP sync: replace the state
 *   machine by the snapshot (the `chunks` chunks handed out by `snapshotChunkTaken` for this zxid,
 *   `bytes` in all, in order; it is now at zxid) and the whole log by `entries` (all > zxid), in
 *   ONE durable,
 *   synchronous step (e.g. write snapshot + new log files, fsync, then switch), same rule for
 *   pending `persisted` notifications. The core emits it only at NEWLEADER, with every proposal
 *   that followed the SNAP: a leader's snapshot can predate its own history (it is its applied
 *   state), so installing it alone could durably drop txns this server helped commit. It may be
 *   followed in the same batch by a `commit` re-applying what this server had applied before.
 * - `appendLog {entries: {zxid, payload}[]}` — append and start an fsync; the driver may group
 *   commit, and later feeds `persisted {upToZxid}` (in order). Sends later in the batch need
 *   not wait for it: the core never sends anything that depends on the durability of an entry
 *   before `persisted` says so (ACKs go out only after it).
 * - `send {to, msg}`.
 * - `commit {upToZxid, entries}` — apply these entries to the state machine, in zxid order, each
 *   exactly once (they follow the previous commit or installed snapshot directly).
 * - `snapshotChunkTaken {zxid, seq, bytes}` — follower: chunk `seq` of the SNAP image at zxid,
 *   taken in order (seq 0 begins a new image and replaces any earlier one not installed). The
 *   driver keeps what it needs of it for the `installSnapshot` that may complete the image (the
 *   core does not hold the chunks): it may parse it and write it to a temp file, but nothing of
 *   it may become durable state before that action.
 * - `snapshotDropped {zxid}` — follower: the image being received will not be installed; what the
 *   driver kept of it goes.
 * - `openSnapshot {peer, stream}` — leader: fix an image of the applied state for a SNAP to
 *   `peer` (replacing any other stream to it) and answer `snapshotOpened`.
 * - `readSnapshot {peer, stream, maxBytes}` — leader: produce the next chunk of that image (off the
 *   job loop, between other work) and answer `snapshotChunk`. One at a time per stream; the core
 *   asks only while the follower's window has room (leader.ts, "SNAP streams").
 * - `closeSnapshot {peer, stream}` — leader: the stream ended (sent, or abandoned): release the
 *   image. Idempotent. A core that stops leading ends every stream with it.
 * - `role {role, leaderId?, epoch, synced}` — role changes. On the election outcome it is sent
 *   with `synced: false` and epoch = acceptedEpoch (the new epoch is not known yet); then with
 *   `synced: true` and the epoch in force once a leader is established (a quorum acked
 *   NEWLEADER) or a follower got UPTODATE: only then may the server glue serve requests.
 * - `proposed` / `rejected` — the outcome of `propose` (or of `forward`).
 * - `forwarded {from, payload}` (leader) / `opaque {from, payload}` (follower).
 *
 * ## Durable state (`ZabDurableState`) the driver restores at start
 * acceptedEpoch, currentEpoch, the snapshot zxid its state machine was restored to, and the
 * durable log entries after it. The core treats the snapshot as committed and re-commits the
 * log entries only as it learns they are committed.
 *
 * ## Messages (messages.ts; `encodeMessage`/`decodeMessage`, bounded, ZabCodecError on bad input)
 * election: NOTIFICATION {state, leader, zxid, peerEpoch, round}.
 * discovery: FOLLOWERINFO {attempt, acceptedEpoch, lastZxid} -> LEADERINFO {attempt, epoch,
 *   session} -> ACKEPOCH {epoch, session, currentEpoch, lastZxid, acceptedNow}.
 * sync: DIFF | TRUNC {zxid} | SNAPCHUNK {zxid, seq, last, bytes}... (each answered by SNAPACK
 *   {seq}, cumulative), then PROPOSAL {prevZxid, zxid, payload}..., COMMIT {zxid}, NEWLEADER {zxid}
 *   -> ACK {zxid, newLeader: true} -> UPTODATE {commitZxid}.
 * broadcast: PROPOSAL -> ACK {zxid} (cumulative) -> COMMIT {zxid} (cumulative); PING
 *   {commitZxid, lastZxid, upToDate} -> PONG {synced, zxid}.
 * opaque: REQUEST {payload} (follower -> leader), OPAQUE {payload} (leader -> follower).
 * STALE {epoch}: answer to a leader message from an epoch older than the receiver's acceptedEpoch.
 * All leader<->follower messages carry the leader's epoch and the per-connection session.
 *
 * ## Protocol
 * Fast Leader Election (election.ts) -> discovery/sync/broadcast (leader.ts, follower.ts, with
 * sync-plan.ts choosing DIFF/TRUNC/SNAP). zxid helpers in zxid.ts (number zxids, epoch < 2^21).
 * Invariants are asserted (ZabInvariantError): a failing one is a bug or a broken driver contract.
 *
 * Tested by test/unit/zab-*.test.ts and, inside real nodes, by the whole-node simulator in
 * test/sim/world (`npm run sim -- --seeds N`, `npm run sim -- --scenarios`), whose named
 * scenarios reproduce the ZooKeeper bugs cited in leader.ts and follower.ts.
 */
export { ZabNode } from './node.js';
export type { ResolvedConfig } from './node.js';
export * from './types.js';
export * from './messages.js';
export { encodeMessage, decodeMessage, MAX_PAYLOAD_BYTES, MAX_SNAP_CHUNK_BYTES, MAX_MESSAGE_BYTES, CODEC_VERSION } from './codec.js';
export { ZabCodecError, ZabInvariantError } from './errors.js';
export { compareVotes, isBetterVote, sameVote, quorumSize } from './vote.js';
export { planSync, type SyncPlan } from './sync-plan.js';
export { MemLog } from './log.js';
export * from './zxid.js';
