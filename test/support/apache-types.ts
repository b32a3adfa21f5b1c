// Types and errors of the Apache ZooKeeper test harness only; the shapes it
// shares with the CLI's launcher live in src/launcher/types.ts.
import type { StartOptions } from '../../src/launcher/types.js';

/**
 * What only the Apache harness understands (benchmarks set these; tests leave them out).
 * A container ignores jvmFlags and zooCfg; `localOnly` skips Docker.
 */
export interface ApacheExtras {
  /**
   * JVM heap and GC flags replacing the harness's small test heap
   * (-Xms32m -Xmx256m -XX:+UseSerialGC), e.g. ['-Xmx3g'] to run with the JVM's default
   * collector as zkServer.sh does.
   */
  jvmFlags?: string[];
  /** zoo.cfg keys set or overridden, e.g. { snapCount: '100000', preAllocSize: '65536' }. */
  zooCfg?: Record<string, string>;
  /** Only a local install (members with a PID, e.g. to read their memory from /proc). */
  localOnly?: boolean;
}

export type ApacheStartOptions = StartOptions & ApacheExtras;

export type ResolvedOptions = Required<StartOptions> & ApacheExtras;

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
