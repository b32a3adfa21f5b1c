/**
 * The named scenarios of the whole-node simulator, as tests: the defects issue 8 found in the
 * node and the classic ZooKeeper bugs, each on real ZkNodes under simulated I/O. Random seeds
 * run separately (`npm run sim -- --seeds N`), in parallel processes.
 */
import { describe, test } from 'node:test';
import { SCENARIOS } from './world/scenarios.js';
import { ZK_BUG_SCENARIOS } from './world/zk-bug-scenarios.js';
import { SNAP_SCENARIOS } from './world/snap-scenarios.js';

const seed = Number(process.env['SIM_SEED'] ?? 1);

describe(`whole-node scenarios (seed ${seed})`, () => {
  for (const s of [...SCENARIOS, ...ZK_BUG_SCENARIOS, ...SNAP_SCENARIOS]) {
    test(`${s.name} — ${s.about}`, async () => {
      await s.run(seed);
    });
  }
});
