import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConnectString } from '../../src/election/connect-string.js';
import { InvalidArgumentError } from '../../src/election/errors.js';
import { ancestry, candidatePrefix, isOwnedByUuid, orderCandidates, parseSequence, validatePath } from '../../src/election/names.js';

describe('sequence parsing', () => {
  test('reads the 10-digit suffix ZooKeeper appends', () => {
    assert.equal(parseSequence('_c_abc-__lock__0000000042'), 42);
    assert.equal(parseSequence('x0000000000'), 0);
    assert.equal(parseSequence('2147483647'), 2147483647);
  });
  test('wrapped (negative) sequences sort after every positive one', () => {
    assert.equal(parseSequence('n-000000003'), 2 ** 32 - 3);
    assert.equal(parseSequence('n-2147483648'), 2 ** 31);
    assert.ok(parseSequence('n-000000001')! > parseSequence('n2147483647')!);
  });
  test('names without a sequence are not candidates', () => {
    assert.equal(parseSequence('readme'), undefined);
    assert.equal(parseSequence('lock-123'), undefined);
    assert.equal(parseSequence('9999999999'), undefined); // above int32 and not negative
  });
});

describe('candidate order', () => {
  test('orders zk-elect, kazoo and Curator nodes together by sequence only', () => {
    const ordered = orderCandidates([
      '_c_0b5e-__lock__0000000007', // zk-elect
      'f3b1c2d4e5__lock__0000000003', // kazoo Election
      '_c_9a1f-latch-0000000005', // Curator LeaderLatch
      'not-a-candidate',
      '_c_77aa-__lock__0000000001',
    ]);
    assert.deepEqual(
      ordered.map((c) => c.sequence),
      [1, 3, 5, 7],
    );
    assert.equal(ordered[0]!.name, '_c_77aa-__lock__0000000001');
  });
  test('our names match the pattern kazoo uses to recognise contenders', () => {
    const name = candidatePrefix('6f1d2c3b-aaaa-bbbb-cccc-000000000000') + '0000000012';
    assert.match(name, /__lock__(-?\d{10})$/);
    assert.ok(isOwnedByUuid(name, '6f1d2c3b-aaaa-bbbb-cccc-000000000000'));
    assert.ok(!isOwnedByUuid(name, '6f1d2c3b-aaaa-bbbb-cccc-000000000001'));
    assert.ok(!isOwnedByUuid(candidatePrefix('6f1d2c3b-aaaa-bbbb-cccc-000000000000'), '6f1d2c3b-aaaa-bbbb-cccc-000000000000'));
  });
});

describe('path validation', () => {
  test('accepts ordinary paths', () => {
    assert.equal(validatePath('/election'), '/election');
    assert.equal(validatePath('/a/b-c_d.e'), '/a/b-c_d.e');
  });
  for (const bad of ['', 'election', '/a/', '//a', '/a//b', '/a/./b', '/a/../b', '/zookeeper', '/zookeeper/x', '/a\u0000b', '/a\u0001']) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => validatePath(bad), InvalidArgumentError);
    });
  }
  test('ancestry lists every parent, shortest first', () => {
    assert.deepEqual(ancestry('/a/b/c'), ['/a', '/a/b', '/a/b/c']);
  });
});

describe('connect strings', () => {
  test('parses servers and chroot', () => {
    assert.deepEqual(parseConnectString('zk1:2181,10.0.0.2:2182/app/prod'), {
      servers: [
        { host: 'zk1', port: 2181 },
        { host: '10.0.0.2', port: 2182 },
      ],
      chroot: '/app/prod',
    });
    assert.deepEqual(parseConnectString('[::1]:2181').servers, [{ host: '[::1]', port: 2181 }]);
  });
  for (const bad of ['', 'localhost', 'host:', ':2181', 'host:0', 'host:70000', 'a:1,,b:2', 'a:1/bad/', 'a b:1']) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseConnectString(bad), InvalidArgumentError);
    });
  }
});
