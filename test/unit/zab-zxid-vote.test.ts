/** zxid/epoch helpers and FLE vote ordering. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compareVotes, formatZxid, isBetterVote, isNextZxid, isValidZxid, makeZxid, MAX_EPOCH, quorumSize, sameVote,
  zxidCounter, zxidEpoch, zxidFromBigInt, zxidToBigInt,
} from '../../src/server/zab/index.js';

describe('zxid helpers', () => {
  test('epoch and counter round-trip, high epochs stay exact', () => {
    for (const [e, c] of [[0, 0], [1, 1], [7, 0xfffffffe], [MAX_EPOCH, 0xffffffff], [12345, 678]] as const) {
      const z = makeZxid(e, c);
      assert.equal(zxidEpoch(z), e);
      assert.equal(zxidCounter(z), c);
      assert.equal(zxidToBigInt(z), (BigInt(e) << 32n) | BigInt(c));
      assert.equal(zxidFromBigInt(zxidToBigInt(z)), z);
      assert.ok(isValidZxid(z));
    }
    assert.ok(makeZxid(2, 0) > makeZxid(1, 0xffffffff), 'epoch dominates the counter');
  });

  test('out-of-range parts are refused', () => {
    assert.throws(() => makeZxid(MAX_EPOCH + 1, 0), RangeError);
    assert.throws(() => makeZxid(1, 0x1_0000_0000), RangeError);
    assert.throws(() => makeZxid(-1, 0), RangeError);
    assert.throws(() => makeZxid(1.5, 0), RangeError);
  });

  test('isNextZxid: consecutive within an epoch, counter 1 of a later epoch', () => {
    assert.ok(isNextZxid(makeZxid(1, 4), makeZxid(1, 5)));
    assert.ok(!isNextZxid(makeZxid(1, 4), makeZxid(1, 6)));
    assert.ok(isNextZxid(makeZxid(1, 4), makeZxid(3, 1)));
    assert.ok(!isNextZxid(makeZxid(1, 4), makeZxid(3, 2)));
    assert.ok(!isNextZxid(makeZxid(3, 4), makeZxid(2, 1)));
    assert.ok(isNextZxid(0, makeZxid(1, 1)));
    assert.equal(formatZxid(makeZxid(0x1f, 0xa)), '1f:a');
  });
});

describe('vote ordering (totalOrderPredicate)', () => {
  const v = (leader: number, zxid: number, peerEpoch: number) => ({ leader, zxid, peerEpoch });
  test('peerEpoch first, then zxid, then id', () => {
    assert.ok(isBetterVote(v(1, makeZxid(1, 1), 3), v(9, makeZxid(2, 99), 2)), 'higher currentEpoch beats a longer older log');
    assert.ok(isBetterVote(v(1, makeZxid(2, 5), 2), v(9, makeZxid(2, 4), 2)), 'same epoch: higher zxid');
    assert.ok(isBetterVote(v(5, makeZxid(2, 5), 2), v(4, makeZxid(2, 5), 2)), 'tie: higher id');
    assert.ok(!isBetterVote(v(4, makeZxid(2, 5), 2), v(4, makeZxid(2, 5), 2)), 'not strictly better than itself');
    assert.equal(compareVotes(v(4, 1, 1), v(4, 1, 1)), 0);
    assert.ok(sameVote(v(4, 1, 1), v(4, 1, 1)));
  });
  test('ordering is a total order (antisymmetric, transitive) on a grid', () => {
    const votes = [];
    for (const e of [0, 1, 2]) for (const z of [0, makeZxid(1, 1), makeZxid(2, 1)]) for (const id of [1, 2, 3]) votes.push(v(id, z, e));
    for (const a of votes) for (const b of votes) {
      assert.equal(Math.sign(compareVotes(a, b)) + Math.sign(compareVotes(b, a)), 0);
      for (const c of votes) if (compareVotes(a, b) > 0 && compareVotes(b, c) > 0) assert.ok(compareVotes(a, c) > 0);
    }
  });
  test('quorum is a strict majority', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 7].map(quorumSize), [1, 2, 2, 3, 3, 4]);
  });
});
