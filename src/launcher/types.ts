// Shapes shared by everything that starts a ZooKeeper-compatible ensemble: the
// CLI's zk-elect launcher (here) and the Apache ZooKeeper test harness
// (test/support), so a test can run against either behind one interface.
export type ZkSource = 'external' | 'container' | 'local' | 'zk-elect';

export interface ZkMember {
  readonly id: number;
  readonly clientPort: number;
  readonly address: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The member's own directory (config, data, logs), for members this process started. */
  readonly dir?: string;
  /** Default SIGKILL; resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  pause(): void;
  resume(): void;
  /** (Re)starts a stopped member; resolves once `srvr` reports a Mode. */
  start(): Promise<void>;
  mode(): Promise<'leader' | 'follower' | 'standalone' | 'unknown'>;
}

export interface ZkEnsemble {
  readonly source: ZkSource;
  readonly connectString: string;
  readonly members: ZkMember[];
  leader(): Promise<ZkMember | undefined>;
  stop(): Promise<void>;
}

export interface StartOptions {
  nodes?: 1 | 3;
  tickTimeMs?: number;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
  controllable?: boolean;
  startTimeoutMs?: number;
  /**
   * Four-letter words to enable (ZooKeeper's 4lw.commands.whitelist, zk-elect's
   * --4lw-whitelist): a comma-separated list or `*`. The test harnesses default to `*` so tests
   * can read every word; null leaves the server's own default (`srvr` only).
   */
  fourLetterWhitelist?: string | null;
}
