/** Interaction tests of single steps of the core: what each input produces, in what order. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeZxid as zx, ZabNode, type ZabAction, type ZabDurableState, type ZabMessage } from '../../src/server/zab/index.js';

const EMPTY: ZabDurableState = { acceptedEpoch: 0, currentEpoch: 0, snapshotZxid: 0, log: [] };
const cfg = (myId: number, peers: number[]) => ({ myId, peers, initLimit: 10, syncLimit: 5, electionFinalizeTicks: 1 });
const sends = (as: ZabAction[], type?: string) => as.flatMap((a) => (a.type === 'send' && (type === undefined || a.msg.type === type) ? [a] : []));
const of = <T extends ZabAction['type']>(as: ZabAction[], type: T) => as.filter((a): a is Extract<ZabAction, { type: T }> => a.type === type);
const msg = (n: ZabNode, from: number, m: ZabMessage) => n.step({ type: 'message', from, msg: m });
const ticks = (n: ZabNode, k: number) => { const out: ZabAction[] = []; for (let i = 0; i < k; i++) out.push(...n.step({ type: 'tick' })); return out; };

/** A follower of leader 2 in a 3-voter ensemble, driven to the given phase. */
function follower(durable: ZabDurableState = EMPTY): ZabNode {
  const n = new ZabNode(cfg(1, [1, 2, 3]), durable);
  n.start();
  msg(n, 2, { type: 'notification', state: 'leading', leader: 2, zxid: 0, peerEpoch: 0, round: 1 });
  msg(n, 3, { type: 'notification', state: 'following', leader: 2, zxid: 0, peerEpoch: 0, round: 1 });
  assert.equal(n.role, 'following');
  return n;
}

describe('single-node ensemble', () => {
  test('elects itself, establishes, commits its own proposals after fsync', () => {
    const n = new ZabNode(cfg(1, [1]), EMPTY);
    const t = n.start();
    assert.deepEqual(of(t, 'role')[0], { type: 'role', role: 'looking', epoch: 0, synced: false });
    // A quorum of one, with no peer to wait for: it decides at once, no tick needed.
    assert.equal(n.role, 'leading');
    const epochs = of(t, 'persistEpoch').map((a) => `${a.name}=${a.value}`);
    assert.deepEqual(epochs, ['acceptedEpoch=1', 'currentEpoch=1']);
    assert.ok(of(t, 'role').some((r) => r.role === 'leading' && r.synced && r.epoch === 1));
    const p = n.step({ type: 'propose', payload: Buffer.from('a') });
    assert.deepEqual(p.map((a) => a.type), ['appendLog', 'proposed']);
    assert.equal(of(p, 'proposed')[0]!.zxid, zx(1, 1));
    assert.deepEqual(of(n.step({ type: 'persisted', upToZxid: zx(1, 1) }), 'commit')[0]!.entries.map((e) => e.payload.toString()), ['a']);
  });

  test('ZOOKEEPER-1277: the counter never rolls over; the leader forces a new epoch', () => {
    const n = new ZabNode({ ...cfg(1, [1]), zxidCounterLimit: 3 }, EMPTY);
    n.start();
    n.step({ type: 'propose', payload: Buffer.from('a') });
    n.step({ type: 'propose', payload: Buffer.from('b') });
    n.step({ type: 'persisted', upToZxid: zx(1, 2) });
    const r = n.step({ type: 'propose', payload: Buffer.from('c') });
    assert.deepEqual(of(r, 'rejected')[0]?.reason, 'zxid-rollover');
    // It steps down, and (alone) is re-elected at once into a new epoch.
    assert.deepEqual(of(r, 'role').map((a) => `${a.role}${a.synced ? '+' : ''}@${a.epoch}`), ['looking@1', 'leading@1', 'leading+@2']);
    assert.equal(n.role, 'leading');
    assert.equal(of(n.step({ type: 'propose', payload: Buffer.from('c') }), 'proposed')[0]?.zxid, zx(2, 1));
  });
});

describe('follower steps', () => {
  test('refuses a LEADERINFO epoch below its acceptedEpoch', () => {
    const n = follower({ ...EMPTY, acceptedEpoch: 5 });
    const out = msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 4, session: 1 });
    assert.equal(n.role, 'looking');
    assert.equal(sends(out, 'ackepoch').length, 0);
  });

  test('persists acceptedEpoch before ACKEPOCH leaves; equal epoch is acked but not counted', () => {
    const n = follower();
    const out = msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 1, session: 7 });
    assert.deepEqual(out.slice(0, 2).map((a) => a.type), ['persistEpoch', 'send']);
    assert.deepEqual(sends(out, 'ackepoch')[0]!.msg, { type: 'ackepoch', epoch: 1, session: 7, currentEpoch: 0, lastZxid: 0, acceptedNow: true });
    const m = follower({ ...EMPTY, acceptedEpoch: 1 });
    const again = msg(m, 2, { type: 'leaderinfo', attempt: 1, epoch: 1, session: 8 });
    assert.equal(of(again, 'persistEpoch').length, 0);
    assert.equal((sends(again, 'ackepoch')[0]!.msg as { acceptedNow: boolean }).acceptedNow, false);
  });

  test('ACKs NEWLEADER only after the synced txns are durable, currentEpoch persisted first; proposals after NEWLEADER are acked after it', () => {
    const n = follower();
    msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 1, session: 7 });
    const s = { epoch: 1, session: 7 } as const;
    msg(n, 2, { type: 'diff', ...s });
    msg(n, 2, { type: 'proposal', ...s, prevZxid: 0, zxid: zx(1, 1), payload: Buffer.from('x') });
    const nl = msg(n, 2, { type: 'newleader', ...s, zxid: zx(1, 1) });
    assert.equal(sends(nl, 'ack').length, 0, 'no ACK before the fsync');
    assert.equal(of(nl, 'persistEpoch').length, 0, 'no currentEpoch before the txns are durable (ZOOKEEPER-4643)');
    msg(n, 2, { type: 'proposal', ...s, prevZxid: zx(1, 1), zxid: zx(1, 2), payload: Buffer.from('y') });
    const p1 = n.step({ type: 'persisted', upToZxid: zx(1, 1) });
    assert.deepEqual(p1.map((a) => a.type), ['persistEpoch', 'send']);
    assert.deepEqual(sends(p1)[0]!.msg, { type: 'ack', ...s, zxid: zx(1, 1), newLeader: true });
    const p2 = n.step({ type: 'persisted', upToZxid: zx(1, 2) });
    assert.deepEqual(sends(p2)[0]!.msg, { type: 'ack', ...s, zxid: zx(1, 2), newLeader: false });
    const up = msg(n, 2, { type: 'uptodate', ...s, commitZxid: zx(1, 2) });
    assert.deepEqual(of(up, 'commit')[0]!.entries.map((e) => e.payload.toString()), ['x', 'y']);
    assert.ok(of(up, 'role').some((r) => r.role === 'following' && r.synced && r.epoch === 1));
  });

  test('a proposal that does not follow our log exactly (lost message) drops the session', () => {
    const n = follower();
    msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 3, session: 7 });
    msg(n, 2, { type: 'diff', epoch: 3, session: 7 });
    msg(n, 2, { type: 'proposal', epoch: 3, session: 7, prevZxid: 0, zxid: zx(1, 1), payload: Buffer.from('x') });
    // 1:2 was lost; 3:1 would pass a counter-only check, but its prevZxid is 1:2.
    msg(n, 2, { type: 'proposal', epoch: 3, session: 7, prevZxid: zx(1, 2), zxid: zx(3, 1), payload: Buffer.from('z') });
    assert.equal(n.role, 'looking');
    assert.equal(n.log.lastZxid, zx(1, 1));
  });

  test('messages of another session or epoch are ignored; an old leader is told it is stale', () => {
    const n = follower({ ...EMPTY, acceptedEpoch: 4 });
    msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 5, session: 7 });
    msg(n, 2, { type: 'diff', epoch: 5, session: 6 });
    msg(n, 2, { type: 'trunc', epoch: 4, session: 7, zxid: 0 });
    assert.equal(n.follower?.phase, 'epochAcked');
    const stale = msg(n, 3, { type: 'ping', epoch: 3, session: 1, commitZxid: 0, lastZxid: 0, upToDate: true, tick: 0, grant: -1 });
    assert.deepEqual(sends(stale)[0]!.msg, { type: 'stale', epoch: 5 });
  });

  test('SNAP chunks are acked cumulatively, handed to the driver as taken (after the ack), and installed atomically with what follows them at NEWLEADER', () => {
    const n = follower({ ...EMPTY, log: [{ zxid: zx(1, 1), payload: Buffer.from('a') }] });
    msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 3, session: 7 });
    const s = { epoch: 3, session: 7 } as const;
    const c0 = msg(n, 2, { type: 'snapchunk', ...s, zxid: zx(1, 1), seq: 0, last: false, bytes: Buffer.from('S0') });
    assert.deepEqual(sends(c0).map((a) => a.msg), [{ type: 'snapack', ...s, seq: 0 }]);
    assert.deepEqual(c0.map((a) => a.type), ['send', 'snapshotChunkTaken'], 'the ack leaves before the driver parses the chunk');
    const taken = of(c0, 'snapshotChunkTaken')[0]!;
    assert.deepEqual([taken.zxid, taken.seq, taken.bytes.toString()], [zx(1, 1), 0, 'S0']);
    assert.equal(n.follower?.phase, 'snap');
    assert.deepEqual(msg(n, 2, { type: 'snapchunk', ...s, zxid: zx(1, 1), seq: 0, last: false, bytes: Buffer.from('S0') }), [], 'a duplicate is dropped');
    assert.deepEqual(sends(ticks(n, 1), 'snapack').map((a) => a.msg), [{ type: 'snapack', ...s, seq: 0 }], 'the cumulative ack is repeated each tick');
    const c1 = msg(n, 2, { type: 'snapchunk', ...s, zxid: zx(1, 1), seq: 1, last: true, bytes: Buffer.from('S1!') });
    assert.deepEqual(of(c1, 'snapshotChunkTaken').map((a) => [a.seq, a.bytes.toString()]), [[1, 'S1!']]);
    assert.equal(n.follower?.phase, 'syncing');
    msg(n, 2, { type: 'proposal', ...s, prevZxid: zx(1, 1), zxid: zx(2, 1), payload: Buffer.from('b') });
    assert.equal(n.log.lastZxid, zx(1, 1), 'old log stands until NEWLEADER');
    assert.equal(n.commitZxid, 0, 'nothing of the snapshot is applied before NEWLEADER');
    const out = msg(n, 2, { type: 'newleader', ...s, zxid: zx(2, 1) });
    const inst = of(out, 'installSnapshot')[0]!;
    assert.equal(inst.zxid, zx(1, 1));
    assert.deepEqual([inst.chunks, inst.bytes], [2, 5], 'the two chunks taken, 5 bytes');
    assert.equal(of(out, 'snapshotDropped').length, 0);
    assert.deepEqual(inst.entries.map((e) => e.zxid), [zx(2, 1)]);
    assert.deepEqual(out.map((a) => a.type).slice(0, 3), ['installSnapshot', 'persistEpoch', 'send'], 'durable at once, so the ACK follows');
  });

  /** A follower of epoch 3, session 7, that has taken SNAP chunk 0 of an image at 1:1. */
  function snapping(): ZabNode {
    const n = follower();
    msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 3, session: 7 });
    msg(n, 2, { type: 'snapchunk', epoch: 3, session: 7, zxid: zx(1, 1), seq: 0, last: false, bytes: Buffer.from('S0') });
    assert.equal(n.follower?.phase, 'snap');
    return n;
  }
  const s37 = { epoch: 3, session: 7 } as const;

  test('a SNAP chunk out of sequence (lost or reordered) drops the partial snapshot and resyncs; nothing is installed', () => {
    const n = snapping();
    const out = msg(n, 2, { type: 'snapchunk', ...s37, zxid: zx(1, 1), seq: 2, last: true, bytes: Buffer.from('S2') });
    assert.equal(n.role, 'looking');
    assert.equal(of(out, 'installSnapshot').length, 0);
    assert.deepEqual(of(out, 'snapshotDropped').map((a) => a.zxid), [zx(1, 1)], 'the driver drops what it kept');
    assert.equal(of(out, 'snapshotChunkTaken').length, 0, 'the chunk out of sequence is not handed out');
    assert.deepEqual(of(out, 'disconnect').map((a) => a.peer), [2]);
    const late = follower();
    msg(late, 2, { type: 'leaderinfo', attempt: 1, epoch: 3, session: 7 });
    msg(late, 2, { type: 'snapchunk', ...s37, zxid: zx(1, 1), seq: 1, last: false, bytes: Buffer.from('S1') });
    assert.equal(late.role, 'looking', 'a stream whose first chunk is missing');
  });

  test('a proposal, COMMIT or NEWLEADER before the last SNAP chunk resyncs (the stream lost its tail)', () => {
    for (const m of [
      { type: 'proposal', ...s37, prevZxid: zx(1, 1), zxid: zx(2, 1), payload: Buffer.from('b') },
      { type: 'commit', ...s37, zxid: zx(1, 1) },
      { type: 'newleader', ...s37, zxid: zx(1, 1) },
    ] as const) {
      const n = snapping();
      const out = msg(n, 2, m);
      assert.equal(n.role, 'looking', m.type);
      assert.equal(of(out, 'installSnapshot').length, 0, m.type);
      assert.equal(of(out, 'snapshotDropped').length, 1, m.type);
    }
  });

  test('SNAP chunks of another session or epoch never join the stream; a changed image resyncs', () => {
    const n = snapping();
    assert.deepEqual(msg(n, 2, { type: 'snapchunk', epoch: 3, session: 6, zxid: zx(1, 1), seq: 1, last: true, bytes: Buffer.from('old') }), []);
    assert.deepEqual(msg(n, 2, { type: 'snapchunk', epoch: 2, session: 7, zxid: zx(1, 1), seq: 1, last: true, bytes: Buffer.from('old') }), []);
    assert.equal(n.follower?.phase, 'snap');
    assert.equal(n.follower?.pendingSnap?.nextSeq, 1);
    msg(n, 2, { type: 'snapchunk', ...s37, zxid: zx(1, 2), seq: 1, last: true, bytes: Buffer.from('other image') });
    assert.equal(n.role, 'looking');
  });

  test('a SNAP larger than maxSnapshotBytes is refused before it is held', () => {
    const n = new ZabNode({ ...cfg(1, [1, 2, 3]), maxSnapshotBytes: 5 }, EMPTY);
    n.start();
    msg(n, 2, { type: 'notification', state: 'leading', leader: 2, zxid: 0, peerEpoch: 0, round: 1 });
    msg(n, 3, { type: 'notification', state: 'following', leader: 2, zxid: 0, peerEpoch: 0, round: 1 });
    msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 3, session: 7 });
    msg(n, 2, { type: 'snapchunk', ...s37, zxid: zx(1, 1), seq: 0, last: false, bytes: Buffer.from('1234') });
    msg(n, 2, { type: 'snapchunk', ...s37, zxid: zx(1, 1), seq: 1, last: true, bytes: Buffer.from('56') });
    assert.equal(n.role, 'looking');
  });
});

describe('leader steps', () => {
  /** Leader 1 of voters [1,2,3] after the election. */
  function leader(durable: ZabDurableState = EMPTY): ZabNode {
    const n = new ZabNode(cfg(1, [1, 2, 3]), durable);
    n.start();
    msg(n, 2, { type: 'notification', state: 'looking', leader: 1, zxid: durable.log.at(-1)?.zxid ?? 0, peerEpoch: durable.currentEpoch, round: 1 });
    ticks(n, 1);
    assert.equal(n.role, 'leading');
    return n;
  }

  test('newEpoch = max(acceptedEpoch of a quorum) + 1, persisted before LEADERINFO', () => {
    const n = leader({ ...EMPTY, acceptedEpoch: 2 });
    const out = msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 6, lastZxid: 0 });
    assert.deepEqual(out.map((a) => a.type), ['persistEpoch', 'send']);
    assert.deepEqual(of(out, 'persistEpoch')[0], { type: 'persistEpoch', name: 'acceptedEpoch', value: 7 });
    assert.equal((sends(out, 'leaderinfo')[0]!.msg as { epoch: number }).epoch, 7);
  });

  test('steps down when an epoch-acking follower is more recent (it may hold a committed txn we lack)', () => {
    const n = leader();
    msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 0, lastZxid: 0 });
    msg(n, 2, { type: 'ackepoch', epoch: 1, session: 1, currentEpoch: 0, lastZxid: zx(0, 5), acceptedNow: true });
    assert.equal(n.role, 'looking');
  });

  test('ZOOKEEPER-4685: a proposal ACK from a follower that has not acked NEWLEADER is ignored, not fatal', () => {
    const n = leader();
    msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 0, lastZxid: 0 });
    const sync = msg(n, 2, { type: 'ackepoch', epoch: 1, session: 1, currentEpoch: 0, lastZxid: 0, acceptedNow: true });
    assert.deepEqual(sends(sync).map((a) => a.msg.type), ['diff', 'newleader']);
    msg(n, 2, { type: 'ack', epoch: 1, session: 1, zxid: zx(1, 1), newLeader: false });
    assert.equal(n.role, 'leading');
    const est = msg(n, 2, { type: 'ack', epoch: 1, session: 1, zxid: 0, newLeader: true });
    assert.ok(of(est, 'role').some((r) => r.synced && r.epoch === 1));
    assert.deepEqual(sends(est).map((a) => a.msg.type), ['uptodate']);
  });

  test('commits in order once a quorum (itself included) has the entry durable', () => {
    const n = leader();
    msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 0, lastZxid: 0 });
    msg(n, 2, { type: 'ackepoch', epoch: 1, session: 1, currentEpoch: 0, lastZxid: 0, acceptedNow: true });
    msg(n, 2, { type: 'ack', epoch: 1, session: 1, zxid: 0, newLeader: true });
    for (const p of ['a', 'b', 'c']) n.step({ type: 'propose', payload: Buffer.from(p) });
    assert.equal(of(msg(n, 2, { type: 'ack', epoch: 1, session: 1, zxid: zx(1, 3), newLeader: false }), 'commit').length, 0, 'own fsync still pending');
    const c = n.step({ type: 'persisted', upToZxid: zx(1, 2) });
    assert.deepEqual(of(c, 'commit')[0]!.entries.map((e) => e.payload.toString()), ['a', 'b']);
    assert.deepEqual(sends(c, 'commit')[0]!.msg, { type: 'commit', epoch: 1, session: 1, zxid: zx(1, 2) });
  });

  test('leases: serves until syncLimit - 1 ticks after the oldest PING a quorum answered, then steps down', () => {
    const n = leader();
    msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 0, lastZxid: 0 });
    msg(n, 2, { type: 'ackepoch', epoch: 1, session: 1, currentEpoch: 0, lastZxid: 0, acceptedNow: true });
    const t0 = n.now;
    const est = msg(n, 2, { type: 'ack', epoch: 1, session: 1, zxid: 0, newLeader: true });
    // NEWLEADER went out at t0: the follower cannot give up on us before t0 + syncLimit.
    assert.deepEqual(of(est, 'lease'), [{ type: 'lease', anchorTick: t0, ticks: 4 }]);
    const pings = sends(ticks(n, 2), 'ping').map((a) => a.msg as Extract<ZabMessage, { type: 'ping' }>);
    assert.deepEqual(pings.map((p) => p.tick), [t0 + 1, t0 + 2]);
    // The follower answers the second PING: the lease moves to it. Its first PONG tick is granted
    // at once (a just-synced follower should not wait a tick to serve), later ones with the next PING.
    const moved = msg(n, 2, { type: 'pong', epoch: 1, session: 1, synced: true, zxid: 0, pingTick: t0 + 2, tick: 40 });
    assert.deepEqual(of(moved, 'lease'), [{ type: 'lease', anchorTick: t0 + 2, ticks: 4 }]);
    assert.equal((sends(moved, 'ping')[0]!.msg as Extract<ZabMessage, { type: 'ping' }>).grant, 40);
    assert.deepEqual(of(moved, 'leaseGranted'), [{ type: 'leaseGranted', peer: 2, ticks: 3 }]);
    assert.equal(sends(msg(n, 2, { type: 'pong', epoch: 1, session: 1, synced: true, zxid: 0, pingTick: t0 + 2, tick: 41 }), 'ping').length, 0);
    const next = ticks(n, 1);
    assert.equal((sends(next, 'ping')[0]!.msg as Extract<ZabMessage, { type: 'ping' }>).grant, 41);
    assert.deepEqual(of(next, 'leaseGranted'), [{ type: 'leaseGranted', peer: 2, ticks: 3 }]);
    assert.equal(of(ticks(n, 1), 'leaseGranted').length, 0, 'the same grant is reported once');
    // A delayed PONG for an older PING, or one claiming a PING from the future, moves nothing.
    assert.equal(of(msg(n, 2, { type: 'pong', epoch: 1, session: 1, synced: true, zxid: 0, pingTick: t0 + 1, tick: 42 }), 'lease').length, 0);
    assert.equal(of(msg(n, 2, { type: 'pong', epoch: 1, session: 1, synced: true, zxid: 0, pingTick: n.now + 5, tick: 43 }), 'lease').length, 0);
    // t0 + 4 now; silence until t0 + 2 + 4 ends the lease.
    ticks(n, 1);
    assert.equal(n.role, 'leading');
    const down = ticks(n, 1);
    assert.equal(n.now - (t0 + 2), 4);
    assert.equal(n.role, 'looking');
    assert.deepEqual(of(down, 'disconnect').map((a) => a.peer), [2], 'the follower is told by a link reset');
  });

  test('leases: losing the connection of a quorum member steps the leader down at once', () => {
    const n = leader();
    msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 0, lastZxid: 0 });
    msg(n, 2, { type: 'ackepoch', epoch: 1, session: 1, currentEpoch: 0, lastZxid: 0, acceptedNow: true });
    msg(n, 2, { type: 'ack', epoch: 1, session: 1, zxid: 0, newLeader: true });
    assert.equal(n.role, 'leading');
    n.step({ type: 'peerDisconnected', peer: 2 });
    assert.equal(n.role, 'looking');
  });

  test('leases: a follower serves only on grants of its own PONG ticks', () => {
    const n = follower();
    msg(n, 2, { type: 'leaderinfo', attempt: 1, epoch: 1, session: 7 });
    const s = { epoch: 1, session: 7 };
    msg(n, 2, { type: 'diff', ...s });
    msg(n, 2, { type: 'newleader', ...s, zxid: 0 });
    const up = msg(n, 2, { type: 'uptodate', ...s, commitZxid: 0 });
    const pong = sends(up, 'pong')[0]!.msg as Extract<ZabMessage, { type: 'pong' }>;
    assert.equal(pong.tick, n.now, 'UPTODATE is answered with a PONG asking for a lease');
    assert.equal(of(up, 'lease').length, 0, 'no lease before a grant');
    const future = msg(n, 2, { type: 'ping', ...s, commitZxid: 0, lastZxid: 0, upToDate: true, tick: 3, grant: n.now + 1 });
    assert.equal(of(future, 'lease').length, 0, 'a grant of a tick we never sent is ignored');
    const granted = msg(n, 2, { type: 'ping', ...s, commitZxid: 0, lastZxid: 0, upToDate: true, tick: 4, grant: pong.tick });
    assert.deepEqual(of(granted, 'lease'), [{ type: 'lease', anchorTick: pong.tick, ticks: 3 }]);
    assert.equal((sends(granted, 'pong')[0]!.msg as Extract<ZabMessage, { type: 'pong' }>).pingTick, 4, 'PONG echoes the PING tick');
  });

  test('a STALE reply from a newer epoch makes the leader step down at once', () => {
    const n = leader();
    msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 0, lastZxid: 0 });
    msg(n, 3, { type: 'stale', epoch: 9 });
    assert.equal(n.role, 'looking');
    assert.equal(n.acceptedEpoch, 9);
  });

  test('opaque traffic: REQUEST from a synced follower -> forwarded; sendOpaque -> OPAQUE', () => {
    const n = leader();
    msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 0, lastZxid: 0 });
    msg(n, 2, { type: 'ackepoch', epoch: 1, session: 1, currentEpoch: 0, lastZxid: 0, acceptedNow: true });
    assert.deepEqual(msg(n, 2, { type: 'request', epoch: 1, payload: Buffer.from('r') }), [], 'not synced yet');
    msg(n, 2, { type: 'ack', epoch: 1, session: 1, zxid: 0, newLeader: true });
    assert.deepEqual(msg(n, 2, { type: 'request', epoch: 1, payload: Buffer.from('r') }), [{ type: 'forwarded', from: 2, payload: Buffer.from('r') }]);
    assert.deepEqual(sends(n.step({ type: 'sendOpaque', to: 2, payload: Buffer.from('o') }))[0]!.msg, { type: 'opaque', epoch: 1, payload: Buffer.from('o') });
  });
});

describe('leader SNAP streams', () => {
  // Chunks of 4 bytes, at most 8 unacknowledged bytes per follower.
  const snapCfg = { ...cfg(1, [1, 2, 3]), snapChunkBytes: 4, snapWindowBytes: 8 };
  const base = zx(1, 5);
  const DURABLE: ZabDurableState = { acceptedEpoch: 1, currentEpoch: 1, snapshotZxid: base, log: [{ zxid: zx(1, 6), payload: Buffer.from('6') }] };
  type Chunk = Extract<ZabMessage, { type: 'snapchunk' }>;

  /** Leader 1, established with follower 2 (DIFF); follower 3 (empty) is being sent a SNAP. */
  function streaming(): { n: ZabNode; open: ZabAction[] } {
    const n = new ZabNode(snapCfg, DURABLE);
    n.start();
    msg(n, 2, { type: 'notification', state: 'looking', leader: 1, zxid: zx(1, 6), peerEpoch: 1, round: 1 });
    ticks(n, 1);
    assert.equal(n.role, 'leading');
    msg(n, 2, { type: 'followerinfo', attempt: 1, acceptedEpoch: 1, lastZxid: zx(1, 6) });
    msg(n, 2, { type: 'ackepoch', epoch: 2, session: 1, currentEpoch: 1, lastZxid: zx(1, 6), acceptedNow: true });
    msg(n, 2, { type: 'ack', epoch: 2, session: 1, zxid: zx(1, 6), newLeader: true });
    assert.equal(n.commitZxid, zx(1, 6), 'established');
    msg(n, 3, { type: 'followerinfo', attempt: 1, acceptedEpoch: 0, lastZxid: 0 });
    const open = msg(n, 3, { type: 'ackepoch', epoch: 2, session: 2, currentEpoch: 0, lastZxid: 0, acceptedNow: true });
    return { n, open };
  }

  test('the window: a chunk is read only when one more fits; acks open it; proposals wait behind the last chunk, then go out in order', () => {
    const { n, open } = streaming();
    assert.deepEqual(of(open, 'openSnapshot'), [{ type: 'openSnapshot', peer: 3, stream: 2 }]);
    assert.equal(sends(open).length, 0, 'nothing is sent before the image exists');
    const r0 = n.step({ type: 'snapshotOpened', peer: 3, stream: 2, zxid: zx(1, 6) });
    assert.deepEqual(of(r0, 'readSnapshot'), [{ type: 'readSnapshot', peer: 3, stream: 2, maxBytes: 4 }]);
    // A write proposed and committed meanwhile is not sent to 3 yet: it follows the image.
    const p = n.step({ type: 'propose', payload: Buffer.from('p') });
    assert.deepEqual(sends(p).map((a) => a.to), [2]);
    n.step({ type: 'persisted', upToZxid: zx(2, 1) });
    assert.deepEqual(sends(msg(n, 2, { type: 'ack', epoch: 2, session: 1, zxid: zx(2, 1), newLeader: false })).map((a) => a.to), [2], 'its COMMIT too');
    const chunk = (bytes: string, last = false) => n.step({ type: 'snapshotChunk', peer: 3, stream: 2, bytes: Buffer.from(bytes), last });
    const c0 = chunk('AAAA');
    assert.deepEqual(sends(c0).map((a) => [a.to, a.msg.type, (a.msg as Chunk).seq]), [[3, 'snapchunk', 0]]);
    assert.equal(of(c0, 'readSnapshot').length, 1, '4 of 8 bytes out: room for one more');
    const c1 = chunk('BBBB');
    assert.equal(of(c1, 'readSnapshot').length, 0, 'the window is full');
    assert.equal(of(ticks(n, 1), 'readSnapshot').length, 0, 'time alone does not open it');
    assert.equal(of(msg(n, 3, { type: 'snapack', epoch: 2, session: 1, seq: 1 }), 'readSnapshot').length, 0, 'an ack of another session opens nothing');
    assert.equal(of(msg(n, 3, { type: 'snapack', epoch: 2, session: 2, seq: 7 }), 'readSnapshot').length, 0, 'an ack of a chunk never sent opens nothing');
    assert.equal(of(msg(n, 3, { type: 'snapack', epoch: 2, session: 2, seq: 0 }), 'readSnapshot').length, 1, 'acking chunk 0 frees 4 bytes');
    assert.equal(of(msg(n, 3, { type: 'snapack', epoch: 2, session: 2, seq: 0 }), 'readSnapshot').length, 0, 'a repeated ack reads nothing more (one read at a time)');
    const end = chunk('CC', true);
    assert.deepEqual(end.map((a) => a.type), ['send', 'send', 'send', 'send', 'closeSnapshot']);
    assert.deepEqual(sends(end).map((a) => a.msg.type), ['snapchunk', 'proposal', 'commit', 'newleader']);
    const [last, prop] = sends(end).map((a) => a.msg) as [Chunk, Extract<ZabMessage, { type: 'proposal' }>];
    assert.deepEqual([last.seq, last.last, last.zxid], [2, true, zx(1, 6)]);
    assert.deepEqual([prop.prevZxid, prop.zxid], [zx(1, 6), zx(2, 1)], 'the write proposed during the stream, chained to the image');
    assert.equal(n.leader?.handlers.get(3)?.phase, 'syncing');
  });

  test('the log is kept from the image on while a stream runs (compaction stops there), then released', () => {
    const { n } = streaming();
    n.step({ type: 'propose', payload: Buffer.from('p') });
    n.step({ type: 'persisted', upToZxid: zx(2, 1) });
    msg(n, 2, { type: 'ack', epoch: 2, session: 1, zxid: zx(2, 1), newLeader: false });
    assert.equal(n.commitZxid, zx(2, 1));
    // A snapshot of the driver's state before the image opened: pinned at the commit point then.
    n.step({ type: 'snapshotInstalled', zxid: zx(2, 1) });
    assert.equal(n.log.base, zx(1, 6));
    n.step({ type: 'snapshotOpened', peer: 3, stream: 2, zxid: zx(2, 1) });
    n.step({ type: 'snapshotInstalled', zxid: zx(2, 1) });
    assert.equal(n.log.base, zx(2, 1), 'up to the image itself');
    const end = n.step({ type: 'snapshotChunk', peer: 3, stream: 2, bytes: Buffer.from('S'), last: true });
    assert.deepEqual(sends(end).map((a) => a.msg.type), ['snapchunk', 'newleader'], 'nothing after the image to send');
  });

  test('every way a stream can end releases the image: follower gone, silent, resyncing, or the leader stepping down', () => {
    const gone = streaming().n;
    assert.deepEqual(of(gone.step({ type: 'peerDisconnected', peer: 3 }), 'closeSnapshot'), [{ type: 'closeSnapshot', peer: 3, stream: 2 }]);
    // Its image arriving late is released again, and nothing is sent.
    const late = gone.step({ type: 'snapshotOpened', peer: 3, stream: 2, zxid: zx(1, 6) });
    assert.deepEqual(late, [{ type: 'closeSnapshot', peer: 3, stream: 2 }]);
    const resync = streaming().n;
    resync.step({ type: 'snapshotOpened', peer: 3, stream: 2, zxid: zx(1, 6) });
    const again = msg(resync, 3, { type: 'followerinfo', attempt: 2, acceptedEpoch: 2, lastZxid: 0 });
    assert.deepEqual(of(again, 'closeSnapshot'), [{ type: 'closeSnapshot', peer: 3, stream: 2 }]);
    assert.deepEqual(resync.step({ type: 'snapshotChunk', peer: 3, stream: 2, bytes: Buffer.from('S'), last: true }), [{ type: 'closeSnapshot', peer: 3, stream: 2 }], 'a chunk of the old stream is not sent');
    const silent = streaming().n;
    const out: ZabAction[] = [];
    for (let i = 0; i < snapCfg.initLimit + 1; i++) {
      msg(silent, 2, { type: 'pong', epoch: 2, session: 1, synced: true, zxid: zx(1, 6), pingTick: silent.now, tick: i });
      out.push(...ticks(silent, 1));
    }
    assert.equal(silent.role, 'leading');
    assert.deepEqual(of(out, 'closeSnapshot'), [{ type: 'closeSnapshot', peer: 3, stream: 2 }]);
    const down = streaming().n;
    const stale = msg(down, 2, { type: 'stale', epoch: 9 });
    assert.equal(down.role, 'looking');
    assert.deepEqual(of(stale, 'closeSnapshot'), [{ type: 'closeSnapshot', peer: 3, stream: 2 }]);
  });

  test('a leader and a follower core move a multi-chunk SNAP end to end, and the follower installs exactly the image', () => {
    const { n } = streaming();
    const image = Buffer.from('the whole serialized tree, cut in chunks of four bytes');
    let at = 0;
    const f = new ZabNode({ ...cfg(3, [1, 2, 3]) }, EMPTY);
    f.start();
    msg(f, 1, { type: 'notification', state: 'leading', leader: 1, zxid: zx(1, 6), peerEpoch: 1, round: 1 });
    msg(f, 2, { type: 'notification', state: 'following', leader: 1, zxid: zx(1, 6), peerEpoch: 1, round: 1 });
    msg(f, 1, { type: 'leaderinfo', attempt: 1, epoch: 2, session: 2 });
    // Deliver the leader's sends to 3 and 3's sends to the leader until both are quiet.
    let queue: ZabAction[] = n.step({ type: 'snapshotOpened', peer: 3, stream: 2, zxid: zx(1, 6) });
    let installed: Extract<ZabAction, { type: 'installSnapshot' }> | undefined;
    const taken: Buffer[] = [];
    for (let rounds = 0; queue.length > 0 && rounds < 1000; rounds++) {
      const next: ZabAction[] = [];
      for (const a of queue) {
        if (a.type === 'readSnapshot') {
          const bytes = image.subarray(at, at + a.maxBytes);
          at += bytes.length;
          next.push(...n.step({ type: 'snapshotChunk', peer: 3, stream: 2, bytes, last: at === image.length }));
        } else if (a.type === 'send' && a.to === 3) {
          const out = msg(f, 1, a.msg);
          for (const t of of(out, 'snapshotChunkTaken')) {
            assert.equal(t.seq, taken.length, 'chunks handed out in order');
            taken.push(t.bytes);
          }
          installed ??= of(out, 'installSnapshot')[0];
          for (const b of out) if (b.type === 'send' && b.to === 1) next.push(...msg(n, 3, b.msg));
          if (of(out, 'appendLog').length > 0 || installed) next.push(...f.step({ type: 'persisted', upToZxid: f.log.lastZxid }).flatMap((b) => (b.type === 'send' ? msg(n, 3, b.msg) : [])));
        }
      }
      queue = next;
    }
    assert.ok(installed, 'installed');
    assert.equal(Buffer.concat(taken).toString(), image.toString());
    assert.deepEqual([installed.chunks, installed.bytes], [taken.length, image.length]);
    assert.ok(taken.length >= 10 && taken.every((c) => c.length <= 4));
    assert.equal(n.leader?.handlers.get(3)?.phase, 'synced');
  });
});

describe('election steps', () => {
  test('adopts a better vote, re-broadcasts, and waits the finalize window for a connected peer that has not voted', () => {
    const n = new ZabNode(cfg(1, [1, 2, 3]), EMPTY);
    n.start();
    n.step({ type: 'peerConnected', peer: 2 });
    n.step({ type: 'peerConnected', peer: 3 });
    const out = msg(n, 3, { type: 'notification', state: 'looking', leader: 3, zxid: zx(1, 1), peerEpoch: 1, round: 1 });
    assert.deepEqual(sends(out).map((a) => [a.to, (a.msg as { leader: number }).leader]), [[2, 3], [3, 3]]);
    assert.equal(n.role, 'looking', 'server 2 is connected and may still hold a better vote: finalize wait');
    ticks(n, 1);
    assert.equal(n.role, 'following');
    assert.equal(n.follower?.leaderId, 3);
  });

  test('decides at once when every connected voter agrees (a failover waits for messages, not ticks)', () => {
    const n = new ZabNode(cfg(1, [1, 2, 3]), EMPTY);
    n.start();
    n.step({ type: 'peerConnected', peer: 3 }); // 2 is gone (its link is down)
    msg(n, 3, { type: 'notification', state: 'looking', leader: 3, zxid: zx(1, 1), peerEpoch: 1, round: 1 });
    assert.equal(n.role, 'following');
    assert.equal(n.follower?.leaderId, 3);
    // The leader's LEADING notification makes a follower still in discovery register again at once.
    const again = msg(n, 3, { type: 'notification', state: 'leading', leader: 3, zxid: zx(1, 1), peerEpoch: 1, round: 1 });
    assert.deepEqual(sends(again).map((a) => a.msg.type), ['followerinfo']);
  });

  test('a server out of the election answers a looking one with the established leader', () => {
    const m = new ZabNode(cfg(1, [1, 2, 3]), EMPTY);
    m.start();
    msg(m, 2, { type: 'notification', state: 'looking', leader: 1, zxid: 0, peerEpoch: 0, round: 1 });
    ticks(m, 1);
    const reply = msg(m, 3, { type: 'notification', state: 'looking', leader: 3, zxid: 0, peerEpoch: 0, round: 1 });
    assert.deepEqual(sends(reply)[0]!.msg, { type: 'notification', state: 'leading', round: 1, leader: 1, zxid: 0, peerEpoch: 0 });
  });

  test('a worse vote in our round is answered with ours at once: the sender was FOLLOWING when we broadcast', () => {
    // The failover race: 1 and 2 survive leader 3. 1 noticed first and voted for itself (better
    // zxid); its notification reached 2 while 2 still followed 3, so 2 answered instead of
    // counting it. Now 2 is looking too and votes for itself.
    const n = new ZabNode(cfg(1, [1, 2, 3]), { ...EMPTY, log: [] });
    n.start();
    n.step({ type: 'peerConnected', peer: 2 });
    msg(n, 2, { type: 'notification', state: 'following', leader: 3, zxid: 0, peerEpoch: 0, round: 1 });
    const out = msg(n, 2, { type: 'notification', state: 'looking', leader: 2, zxid: 0, peerEpoch: 0, round: 1 });
    const sent = sends(out, 'notification');
    assert.equal(n.vote.leader, 2, 'equal zxids: the higher id wins, 1 adopts it');
    assert.ok(sent.some((a) => a.to === 2), 'and re-broadcasts');
    // Now the other direction: 1 holds the better vote, 2 sends a worse one.
    const m = new ZabNode(cfg(2, [1, 2, 3]), EMPTY);
    m.start();
    m.step({ type: 'peerConnected', peer: 1 });
    const reply = msg(m, 1, { type: 'notification', state: 'looking', leader: 1, zxid: 0, peerEpoch: 0, round: 1 });
    assert.deepEqual(sends(reply, 'notification').map((a) => [a.to, (a.msg as { leader: number }).leader]), [[1, 2]], 'answered at once, not at the next tick');
    // An equal vote is not answered with another looking notification: no ping-pong. (It makes a
    // quorum here, so 2 decides and announces LEADING; that is not an answer.)
    const quiet = msg(m, 1, { type: 'notification', state: 'looking', leader: 2, zxid: 0, peerEpoch: 0, round: 1 });
    assert.deepEqual(sends(quiet, 'notification').filter((a) => (a.msg as { state: string }).state === 'looking'), []);
    assert.equal(m.role, 'leading');
  });

  test('a lower-round notification is answered with ours; a higher round resets ours', () => {
    const n = new ZabNode(cfg(1, [1, 2, 3]), EMPTY);
    n.start();
    msg(n, 2, { type: 'notification', state: 'looking', leader: 2, zxid: 0, peerEpoch: 0, round: 5 });
    assert.equal(n.round, 5);
    const back = msg(n, 3, { type: 'notification', state: 'looking', leader: 3, zxid: 0, peerEpoch: 0, round: 2 });
    assert.deepEqual(sends(back).map((a) => a.to), [3]);
  });
});
