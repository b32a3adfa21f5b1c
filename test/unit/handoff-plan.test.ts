/** The pure rules of named handoff and priority: names, order (as kazoo sees it too), seats, fencing, records. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeCandidateData, encodeCandidateData, MAX_META_BYTES, validateMeta } from '../../src/election/candidate-data.js';
import { InvalidArgumentError } from '../../src/election/errors.js';
import {
  decodeGrant,
  decodeRequest,
  deferTo,
  encodeGrant,
  encodeRequest,
  groupCandidates,
  mayDeclareWith,
  nextSeatValue,
} from '../../src/election/handoff-plan.js';
import { candidatePrefix, FIRST_SEAT_VALUE, grantNode, isOwnedByUuid, isSeat, orderCandidates, parseNode, REQUEST_NODE, SEAT_MARKER_NODE, seatName } from '../../src/election/names.js';

/** kazoo's Lock._get_predecessor: the regex group as a string, Python's stable sort. */
function kazooOrder(names: readonly string[]): string[] {
  const re = /(?:__lock__)(-?\d{10})$/;
  return names
    .map((name, i) => ({ name, i, key: re.exec(name)?.[1] }))
    .filter((x) => x.key !== undefined)
    .sort((a, b) => (a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : a.i - b.i))
    .map((x) => x.name);
}

describe('node names', () => {
  test('priority and uuid read back unambiguously (a uuid may contain "-p7")', () => {
    const p = parseNode(candidatePrefix('abc', 7) + '0000000004')!;
    assert.deepEqual([p.uuid, p.priority, p.seat, p.sequence, p.prefix], ['abc', 7, false, 4, '_c_abc-p7.__lock__']);
    const q = parseNode(candidatePrefix('abc-p7') + '0000000004')!;
    assert.deepEqual([q.uuid, q.priority], ['abc-p7', 0]);
    assert.ok(isOwnedByUuid(candidatePrefix('abc', 7) + '0000000004', 'abc'));
    assert.ok(!isOwnedByUuid(candidatePrefix('abc', 7) + '0000000004', 'abc-p7'));
  });
  test('a seat is the prefix, a dash and ten digits; Curator latches and wrapped sequences are not seats', () => {
    const seat = seatName('_c_abc-p7.__lock__', 1_999_999_998);
    assert.equal(seat, '_c_abc-p7.__lock__-1999999998');
    assert.ok(isSeat(seat));
    assert.deepEqual(
      [parseNode(seat)!.prefix, parseNode(seat)!.sequence, parseNode(seat)!.priority, parseNode(seat)!.uuid],
      ['_c_abc-p7.__lock__', 1_999_999_998, 7, 'abc'],
    );
    assert.ok(isOwnedByUuid(seat, 'abc'));
    assert.ok(!isSeat('_c_x-latch-0000000005'));
    assert.ok(!isSeat('_c_x-__lock__-2147483648'), 'ZooKeeper writes this for a wrapped sequence');
    assert.equal(parseNode('_c_x-__lock__-2147483648')!.seat, false);
    assert.throws(() => seatName('_c_a-__lock__', FIRST_SEAT_VALUE + 1), RangeError);
  });
  test('control nodes are not candidates for us or for kazoo', () => {
    for (const name of [REQUEST_NODE, SEAT_MARKER_NODE, grantNode('123e4567-e89b-12d3-a456-426614174000')]) {
      assert.equal(parseNode(name), undefined, name);
      assert.deepEqual(kazooOrder([name]), [], name);
    }
  });
});

describe('order', () => {
  test('seats first, the lowest value first, then ZooKeeper sequences', () => {
    const names = ['_c_a-__lock__0000000003', '_c_b-__lock__-1999999998', 'deadbeef__lock__0000000001', '_c_c-p2.__lock__-1999999999', '_c_d-latch-0000000002'];
    assert.deepEqual(
      orderCandidates(names).map((c) => c.name),
      ['_c_b-__lock__-1999999998', '_c_c-p2.__lock__-1999999999', 'deadbeef__lock__0000000001', '_c_d-latch-0000000002', '_c_a-__lock__0000000003'],
    );
  });
  test('kazoo orders our nodes, seats and its own exactly as we do', () => {
    const name = fc.oneof(
      fc.tuple(fc.uuid(), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })).map(([u, p, s]) => candidatePrefix(u, p) + String(s).padStart(10, '0')),
      fc.tuple(fc.uuid(), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1_999_990_000, max: FIRST_SEAT_VALUE })).map(([u, p, v]) => seatName(candidatePrefix(u, p), v)),
      fc.tuple(fc.uuid().map((u) => u.replaceAll("-", "")), fc.integer({ min: 0, max: 2 ** 31 - 1 })).map(([h, s]) => `${h}__lock__${String(s).padStart(10, '0')}`),
    );
    // Sequences and seat values are unique within one election (ZooKeeper's counter; seats below every other).
    const election = fc.uniqueArray(name, { minLength: 1, maxLength: 30, selector: (n) => n.slice(-11) });
    fc.assert(
      fc.property(election, (names) => {
        assert.deepEqual(orderCandidates(names).map((c) => c.name), kazooOrder(names));
      }),
      { numRuns: 500 },
    );
  });
});

describe('priority', () => {
  const groupsOf = (names: string[]) => groupCandidates(orderCandidates(names));
  test("a candidate's nodes are one candidate at its front's place", () => {
    const groups = groupsOf(['_c_t-__lock__-1999999999', '_c_l-__lock__0000000000', '_c_s-__lock__0000000001', '_c_t-__lock__0000000002', 'k__lock__0000000003']);
    assert.deepEqual(
      groups.map((g) => [g.uuid, g.position, g.nodes.length]),
      [['t', 0, 2], ['l', 1, 1], ['s', 2, 1], [undefined, 4, 1]],
    );
  });
  test('the front gives way to the highest priority, the earliest among equals, never to kazoo', () => {
    const groups = groupsOf([candidatePrefix('f') + '0000000000', 'k__lock__0000000001', candidatePrefix('h', 3) + '0000000002', candidatePrefix('g', 5) + '0000000003', candidatePrefix('e', 5) + '0000000004']);
    assert.equal(deferTo(groups, groups[0]!, new Set())?.uuid, 'g');
    assert.equal(deferTo(groups, groups[0]!, new Set([groups[3]!.front.name]))?.uuid, 'e', 'a target that failed is skipped');
    const equal = groupsOf([candidatePrefix('f', 2) + '0000000000', candidatePrefix('g', 2) + '0000000001', 'k__lock__0000000002']);
    assert.equal(deferTo(equal, equal[0]!, new Set()), undefined, 'equal priorities keep first-come order');
    const kazooFirst = groupsOf(['k__lock__0000000000', candidatePrefix('g') + '0000000001']);
    assert.equal(deferTo(kazooFirst, kazooFirst[0]!, new Set()), undefined);
  });
});

describe('seats and fencing', () => {
  test('a new seat sorts below every seat in sight, the marker included', () => {
    assert.equal(nextSeatValue(orderCandidates(['_c_a-__lock__0000000000']), undefined), FIRST_SEAT_VALUE);
    assert.equal(nextSeatValue(orderCandidates(['_c_a-__lock__-1999999990']), undefined), 1_999_999_989);
    assert.equal(nextSeatValue(orderCandidates(['_c_a-__lock__-1999999990']), '_c_z-__lock__-1999999980'), 1_999_999_979);
  });
  test('an older front may not declare after a newer seat led; the newest seat and newer nodes may', () => {
    const marker = { mzxid: 100, seat: '_c_t-__lock__-1999999999' };
    assert.ok(mayDeclareWith({ name: '_c_a-__lock__0000000000', czxid: 5 }, undefined), 'no seat ever');
    assert.ok(!mayDeclareWith({ name: '_c_a-__lock__0000000000', czxid: 5 }, marker));
    assert.ok(mayDeclareWith({ name: '_c_t-__lock__-1999999999', czxid: 99 }, marker));
    assert.ok(mayDeclareWith({ name: '_c_n-__lock__0000000009', czxid: 101 }, marker));
  });
});

describe('records', () => {
  test('grants and requests round-trip; junk is refused', () => {
    const g = { front: '_c_l-__lock__0000000000', to: '_c_t-__lock__0000000002', seat: '_c_t-__lock__-1999999999' };
    assert.deepEqual(decodeGrant(encodeGrant(g)), g);
    assert.equal(decodeGrant(Buffer.from('{"front":"a"}')), undefined);
    assert.equal(decodeGrant(Buffer.from('not json')), undefined);
    assert.equal(decodeGrant(Buffer.from(JSON.stringify({ ...g, seat: '../x/y' }))), undefined);
    assert.deepEqual(decodeRequest(encodeRequest({ to: 'n', preempt: true, by: 'me' })), { to: 'n', preempt: true, by: 'me', outcome: undefined, why: undefined });
    const answered = decodeRequest(encodeRequest({ to: 'n', by: 'me', outcome: 'timeout', why: 'x' }));
    assert.deepEqual([answered?.outcome, answered?.why, answered?.preempt], ['timeout', 'x', false]);
    assert.equal(decodeRequest(Buffer.from('[]')), undefined);
  });
  test('candidate data: a plain id, or JSON with metadata; odd ids stay ids', () => {
    assert.equal(encodeCandidateData({ id: 'web-1' }).toString(), 'web-1');
    const withMeta = encodeCandidateData({ id: 'web-1', meta: { zone: 'a', weight: 3 } });
    assert.deepEqual(decodeCandidateData(withMeta), { id: 'web-1', meta: { zone: 'a', weight: 3 } });
    assert.deepEqual(decodeCandidateData(Buffer.from('web-1')), { id: 'web-1' });
    assert.deepEqual(decodeCandidateData(Buffer.from('{"id":5}')), { id: '{"id":5}' });
    assert.deepEqual(decodeCandidateData(Buffer.from('{"id":"x"')), { id: '{"id":"x"' });
  });
  test('metadata must be a small JSON object', () => {
    assert.deepEqual(validateMeta({ a: 1 }), { a: 1 });
    assert.throws(() => validateMeta([1]), InvalidArgumentError);
    assert.throws(() => validateMeta('x'), InvalidArgumentError);
    assert.throws(() => validateMeta({ big: 'x'.repeat(MAX_META_BYTES) }), InvalidArgumentError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => validateMeta(cyclic), InvalidArgumentError);
  });
});
