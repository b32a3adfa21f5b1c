/** What bench/lib/driver.ts (a client process) is told to do and what it answers. */
export type DriverCommand =
  | { cmd: 'connect'; connect: string; sessionTimeoutMs?: number }
  | { cmd: 'fill'; prefix: string; from: number; to: number; perParent: number; valueBytes: number; inflight: number }
  | { cmd: 'keys'; root: string; n: number; valueBytes: number }
  | { cmd: 'ops'; op: 'create' | 'setData' | 'getData'; root: string; keys: number; inflight: number; ms: number; maxOps: number; valueBytes: number }
  | { cmd: 'read-start'; address: string; path: string; gapMs: number; sessionTimeoutMs?: number }
  | { cmd: 'read-stop' }
  | { cmd: 'close' };

export interface FillResult {
  created: number;
  errors: number;
  elapsedMs: number;
  lastPath: string;
}
export interface OpsResult {
  count: number;
  errors: number;
  elapsedMs: number;
  latencies: number[];
  /** The C client's return code of the first failure. */
  firstError?: number;
}
export interface ReadSamples {
  /** Wall-clock start of each read (ms since the epoch, sub-ms precision). */
  at: number[];
  /** Latency of each read (ms). */
  ms: number[];
  errors: Array<{ at: number; error: string }>;
}

/** The znode a fill creates at global index i: a parent, then its `perParent` children. */
export function fillPath(prefix: string, i: number, perParent: number): string {
  const j = Math.floor(i / (perParent + 1));
  const k = i % (perParent + 1);
  return k === 0 ? `${prefix}/p${j}` : `${prefix}/p${j}/n${k - 1}`;
}

