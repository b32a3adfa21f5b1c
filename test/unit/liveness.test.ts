import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LivenessMonitor, thresholdsFor } from '../../src/election/liveness.js';

test('thresholds follow the session timeout and ratio', () => {
  assert.deepEqual(thresholdsFor(10_000, 0.5), { suspendAfterMs: 2500, loseAfterMs: 5000 });
  assert.deepEqual(thresholdsFor(9_000, 0.9), { suspendAfterMs: 3000, loseAfterMs: 8100 });
});

test('confirmed, then suspended, then lost as time passes without contact', () => {
  const m = new LivenessMonitor(thresholdsFor(6000, 0.5), 1000);
  assert.equal(m.evaluate(1000), 'confirmed');
  assert.equal(m.evaluate(2499), 'confirmed');
  assert.equal(m.evaluate(2500), 'suspended');
  assert.equal(m.evaluate(3999), 'suspended');
  assert.equal(m.evaluate(4000), 'lost');
  assert.equal(m.deadlineMs(), 4000);
});

test('contact counts from the send time, and an older reply cannot move it back', () => {
  const m = new LivenessMonitor(thresholdsFor(6000, 0.5), 0);
  m.confirm(2000); // a probe sent at 2000 answered
  m.confirm(500); // a slow reply to an older request
  assert.equal(m.sinceContactMs(3000), 1000);
  assert.equal(m.deadlineMs(), 5000);
  assert.equal(m.evaluate(4999), 'suspended');
  assert.equal(m.evaluate(5000), 'lost');
});

test('the deadline never depends on a reply arriving: only the clock is read', () => {
  const m = new LivenessMonitor(thresholdsFor(1000, 0.5), 0);
  // No confirm() at all: a hung request changes nothing, and the verdict still arrives on time.
  assert.equal(m.evaluate(499), 'suspended');
  assert.equal(m.evaluate(500), 'lost');
});
