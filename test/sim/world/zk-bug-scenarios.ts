/**
 * The named ZooKeeper-bug scenarios on the whole-node simulator (ported from the retired
 * core-only simulator): each reproduces the situation of a classic ZooKeeper bug with real
 * nodes and clients, and fails if the node code had that bug.
 */
import type { Scenario } from './scenarios.js';
import { BROADCAST_SCENARIOS } from './zk-bug-broadcast.js';
import { LIVENESS_SCENARIOS } from './zk-bug-liveness.js';
import { SYNC_SCENARIOS_1 } from './zk-bug-sync.js';
import { SYNC_SCENARIOS_2 } from './zk-bug-sync2.js';

export const ZK_BUG_SCENARIOS: readonly Scenario[] = [...SYNC_SCENARIOS_1, ...SYNC_SCENARIOS_2, ...BROADCAST_SCENARIOS, ...LIVENESS_SCENARIOS];
