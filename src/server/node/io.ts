/**
 * Everything a node does to the outside world, injected: time, sockets, files. `zk-elect
 * server` passes the real ones (`systemIo`); the simulator passes seeded, fault-injecting ones
 * and builds exactly the same node.
 */
import { nodeNetwork, type Network } from '../net/network.js';
import { nodeFileSystem, type FileSystem } from '../storage/file-system.js';
import { systemClock, type Clock } from './clock.js';

export interface NodeIo {
  clock: Clock;
  network: Network;
  fs: FileSystem;
  /** Data-directory lock; default: the OS-process lock file (only meaningful on the real fs). */
  lock?: (dir: string) => Promise<{ release(): Promise<void> }>;
  /** After a storage failure the node stopped itself; the process (or simulated host) ends here. */
  exit?(code: number): void;
}

export const systemIo: NodeIo = { clock: systemClock, network: nodeNetwork, fs: nodeFileSystem, exit: (code) => process.exit(code) };
