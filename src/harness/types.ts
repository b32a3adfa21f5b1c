// Public shapes of the ZooKeeper test harness (re-exported by apache-zookeeper.ts).
export type ZkSource = 'external' | 'container' | 'local' | 'zk-elect';

export interface ZkMember {
  readonly id: number;
  readonly clientPort: number;
  readonly address: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The member's own directory (config, data, logs), for members this harness started. */
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
}

export type ResolvedOptions = Required<StartOptions>;

export class ZooKeeperUnavailableError extends Error {
  override name = 'ZooKeeperUnavailableError';
}

export const HOW_TO_GET_ZOOKEEPER = [
  'To run tests against real Apache ZooKeeper, provide one of:',
  '  - Debian/Ubuntu: apt-get install -y zookeeper   (Java + /usr/share/java/zookeeper.jar)',
  '  - ZOOKEEPER_HOME=/path/to/apache-zookeeper-3.8.x-bin (and java on PATH or JAVA_HOME)',
  '  - ZK_CONNECT=host:port[,host:port...] for an existing server (not for tests that kill/pause members)',
  '  - a running Docker engine (DOCKER_HOST or /var/run/docker.sock) for the zookeeper:3.8 image',
].join('\n');
