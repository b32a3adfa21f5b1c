/**
 * Simulation tests: named ZooKeeper-bug regression scenarios, then seeded random runs across
 * cluster sizes (each: safety phase with faults, then a liveness phase). A failure names its
 * seed and scenario; `SIM_SEED=<n> node --import tsx --test test/sim/sim.test.ts` replays one seed.
 * More seeds: `node --import tsx test/sim/run-many.ts --seeds 5000`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSeed, sizeForSeed } from './random-run.js';
import { BROADCAST_SCENARIOS } from './scenarios-broadcast.js';
import { SYNC_SCENARIOS } from './scenarios.js';

const only = process.env['SIM_SEED'];
const SEEDS = Number(process.env['SIM_SEEDS'] ?? 500);

if (only !== undefined) {
  test(`replay seed ${only}`, () => {
    const r = runSeed(Number(only));
    assert.ok(r.committed > 0);
  });
} else {
  describe('named regression scenarios', () => {
    for (const s of [...SYNC_SCENARIOS, ...BROADCAST_SCENARIOS]) test(s.name, () => s.run());
  });

  describe(`random runs: ${SEEDS} seeds`, () => {
    test('sizes 1, 3, 5, 7 all get runs', () => {
      const sizes = new Set<number>();
      for (let seed = 1; seed <= SEEDS; seed++) sizes.add(sizeForSeed(seed));
      assert.deepEqual([...sizes].sort(), [1, 3, 5, 7]);
    });
    test(`seeds 1..${SEEDS}: safety checkers hold, then the cluster converges and commits`, () => {
      const failures: string[] = [];
      let committed = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        try {
          committed += runSeed(seed).committed;
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
        }
      }
      assert.deepEqual(failures, []);
      assert.ok(committed > SEEDS * 20, `committed ${committed} txns`);
    });
  });
}
