// Types and errors of the Apache ZooKeeper test harness only; the shapes it
// shares with the CLI's launcher live in src/launcher/types.ts.
import type { StartOptions } from '../../src/launcher/types.js';

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
