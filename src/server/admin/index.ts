export { AdminServer, isLoopbackHost } from './admin-server.js';
export { runCommand, COMMAND_NAMES } from './commands.js';
export { renderMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
export { RequestMetrics, LATENCY_BUCKETS_MS } from './request-metrics.js';
export { toJson } from './json.js';
export type {
  AdminServerOptions,
  AdminSource,
  ClusterView,
  ClusterViewInput,
  ClusterViewProvider,
  ControlAction,
  NodeControl,
  NodeRole,
  NodeSummary,
  QuorumState,
} from './types.js';
export { CONTROL_ACTIONS } from './types.js';
