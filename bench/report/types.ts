/** What the suite (bench/suite.ts) records and the report is made from. */
import type { TopLevelSpec } from 'vega-lite';
import type { LatencySummary } from '../lib/common.js';
import type { MachineInfo } from '../lib/proc.js';
import type { ScaleRun } from '../scale.js';

export type ServerKind = 'apache' | 'zk-elect';
export const SERVER_NAMES: Record<ServerKind, string> = { apache: 'Apache ZooKeeper', 'zk-elect': 'zk-elect' };

/** bench/server.ts --json */
export interface ThroughputData {
  bench: 'throughput';
  config: { nodes: number; seconds: number; procs: number; inflight: number[]; trials: number; valueBytes: number };
  cells: Array<{ server: ServerKind; op: string; inflight: number; procs: number; trial: number; opsPerSec: number; errors: number; latency: LatencySummary }>;
  rssMb: Record<string, number>;
}

/** bench/failover.ts --json */
export interface FailoverData {
  bench: 'failover';
  config: { trials: number; ticks: number[] };
  results: Array<{ tickMs: number; apacheMs: number[]; zkElectMs: number[]; zkElectTimeline: string[] }>;
}

/** bench/scale.ts --json */
export interface ScaleData {
  bench: 'scale';
  config: { znodes: number; window: number; perParent: number; valueBytes: number; inflight: number; snapCount: number; secondSnapCount: number; settleSeconds: number; readGapMs: number; bucketMs: number; apacheHeap: string };
  runs: ScaleRun[];
}

/** bench/large-values.ts --json */
export interface LargeData {
  bench: 'large-values';
  config: { seconds: number; inflight: number[]; trials: number; keys: number };
  accepted: Record<string, number>;
  valueBytes: number;
  cells: Array<{ server: ServerKind; op: string; inflight: number; trial: number; opsPerSec: number; mbPerSec: number; errors: number; latency: LatencySummary }>;
  rssMb: Record<string, number>;
}

/** bench/election-handoff.ts --json */
export interface ElectionData {
  bench: 'election';
  config: { nodes: number; tickMs: number; sessionTimeoutMs: number; handoffs: number; crashTrials: number; cutTrials: number; warmHandoffs: number; libs?: string[] };
  /** kazooGracefulMs: kazoo's Lock handoff on the same server in the same blocks, when kazoo was installed. */
  results: Array<{ server: ServerKind; gracefulMs: number[]; kazooGracefulMs?: number[]; crashMs: number[]; cutOff: Array<{ lostMs: number; electedMs: number }>; overlapping: number }>;
}

export type PartData = ThroughputData | FailoverData | ScaleData | LargeData | ElectionData;

export interface PartRun {
  /** e.g. "throughput", "scale-1m" */
  name: string;
  title: string;
  /** The exact command the suite ran, from the repository root. */
  command: string;
  seconds: number;
  exitCode: number | null;
  /** 1-minute load average before and after (the machine may be shared). */
  loadBefore: number;
  loadAfter: number;
  data?: PartData;
  /** The end of its stderr, when it failed. */
  failure?: string;
}

export interface SuiteResults {
  suite: 'zk-elect benchmarks';
  quick: boolean;
  /** How the suite was started. */
  command: string;
  startedAt: string;
  seconds: number;
  machine: MachineInfo;
  /** The client library the benchmarks drive both servers with, and the charting library. */
  tools: { client: string; charts: string };
  parts: PartRun[];
}

export interface Chart {
  /** File name, relative to the report. */
  file: string;
  title: string;
  spec: TopLevelSpec;
}

/** One line of the headline table. */
export interface Headline {
  measure: string;
  zk: string;
  apache: string;
  ratio: string;
  goal: string;
}

export interface Section {
  markdown: string;
  charts: Chart[];
  headline: Headline[];
}
