/** DIFF / TRUNC / SNAP choice (LearnerHandler.syncFollower) and the in-memory log. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeZxid as zx, MemLog, planSync, ZabInvariantError } from '../../src/server/zab/index.js';

const entries = (...zs: number[]) => zs.map((zxid) => ({ zxid, payload: Buffer.from(String(zxid)) }));

describe('planSync', () => {
  // Leader history: 1:1..1:5 (epoch 1), 3:1..3:3 (epoch 3). Epoch 2 never proposed anything that
  // survived.
  const log = new MemLog(0, entries(zx(1, 1), zx(1, 2), zx(1, 3), zx(1, 4), zx(1, 5), zx(3, 1), zx(3, 2), zx(3, 3)));

  test('in sync, or a prefix of ours: DIFF from the follower\'s zxid', () => {
    assert.deepEqual(planSync(log, zx(3, 3)), { mode: 'diff', from: zx(3, 3) });
    assert.deepEqual(planSync(log, zx(1, 3)), { mode: 'diff', from: zx(1, 3) });
    assert.deepEqual(planSync(log, 0), { mode: 'diff', from: 0 });
  });

  test('uncommitted tail of an epoch we hold: TRUNC to our last zxid of that epoch, no lower', () => {
    // Follower has 1:1..1:9; our epoch-1 entries end at 1:5. 1:5 is the longest common prefix.
    assert.deepEqual(planSync(log, zx(1, 9)), { mode: 'trunc', to: zx(1, 5) });
    // Ahead of our whole log, same epoch as our last entry.
    assert.deepEqual(planSync(log, zx(3, 7)), { mode: 'trunc', to: zx(3, 3) });
  });

  test('an epoch we never saw: the common prefix is unknown, SNAP (no TRUNC across epochs)', () => {
    // Follower has ..., 2:1..2:4 from an epoch-2 leader that never established; our floor is 1:5.
    assert.deepEqual(planSync(log, zx(2, 4)), { mode: 'snap' });
    assert.deepEqual(planSync(log, zx(4, 1)), { mode: 'snap' });
  });

  test('behind our snapshot base: SNAP', () => {
    const compacted = new MemLog(0, entries(zx(1, 1), zx(1, 2), zx(1, 3), zx(1, 4)));
    compacted.compact(zx(1, 3));
    assert.deepEqual(planSync(compacted, zx(1, 1)), { mode: 'snap' });
    assert.deepEqual(planSync(compacted, zx(1, 3)), { mode: 'diff', from: zx(1, 3) }, 'the base itself is fine');
    assert.deepEqual(planSync(compacted, zx(1, 8)), { mode: 'trunc', to: zx(1, 4) });
  });
});

describe('MemLog', () => {
  test('append enforces continuity; floor/range/truncate/compact', () => {
    const log = new MemLog(0, entries(zx(1, 1), zx(1, 2), zx(2, 1)));
    assert.throws(() => log.append(entries(zx(2, 3))[0]!), ZabInvariantError);
    assert.throws(() => log.append(entries(zx(1, 3))[0]!), ZabInvariantError, 'no going back an epoch');
    assert.equal(log.floor(zx(1, 7)), zx(1, 2));
    assert.equal(log.floor(zx(2, 1)), zx(2, 1));
    assert.deepEqual(log.range(zx(1, 1)).map((e) => e.zxid), [zx(1, 2), zx(2, 1)]);
    log.truncateAfter(zx(1, 2));
    assert.equal(log.lastZxid, zx(1, 2));
    log.compact(zx(1, 1));
    assert.equal(log.base, zx(1, 1));
    assert.ok(log.has(zx(1, 1)) && log.has(zx(1, 2)) && !log.has(zx(1, 3)));
    assert.equal(log.floor(0), undefined);
  });
});
