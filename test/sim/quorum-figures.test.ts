/**
 * The figures a cluster leader reports about its quorum (mntr learners, synced_followers,
 * pending_syncs), read from real ZkNodes under simulated I/O, where a write can be held
 * exactly as long as needed: a client sync behind a write that cannot commit is pending on the
 * leader, and stops being so once the write is applied.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateMode, ErrorCode } from '../../src/protocol/index.js';
import { elapse, formed, others, pinned, settle, until } from './world/scenario-kit.js';

test('a leader counts its learners, and the client syncs it holds behind unapplied writes', async () => {
  const w = await formed({ seed: 1, nodes: 3 });
  const l = w.leader()!;
  const q = () => w.slot(l).node!.quorumState()!;
  await until(w, () => q().syncedFollowers === 2, 5000, 'both followers synced');
  assert.deepEqual([q().role, q().learners, q().syncedFollowers, q().pendingSyncs, q().members], ['leader', 2, 2, 0, 3]);

  const c = pinned(w, 'c', [l], 10_000);
  await until(w, () => c.state === 'connected', 5000, 'c to connect');
  // The followers are cut off: the write cannot commit, and the sync behind it waits on the leader.
  w.net.partition([[`s${l}`, 'c'], others(w, l).map((id) => `s${id}`)]);
  const write = c.create('/held', Buffer.from('x'), CreateMode.PERSISTENT);
  const sync = c.sync('/');
  await until(w, () => q().pendingSyncs === 1, 100, 'the sync to reach the leader and wait for the held write');
  await elapse(w, 50);
  assert.deepEqual([q().role, q().pendingSyncs], ['leader', 1], 'still held, still leading (within the lease)');
  w.net.heal();
  const [created, synced] = await settle(w, Promise.all([write, sync]), 5000, 'the write and the sync after the heal');
  assert.equal(created.err, ErrorCode.OK);
  assert.equal(synced.err, ErrorCode.OK);
  assert.equal(q().pendingSyncs, 0);
});
