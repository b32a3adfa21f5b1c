/**
 * Held syncs for SimFileSystem.holdSyncs (a stalled device): a held datasync()/sync() is not
 * even started until release, so nothing it would have made durable is durable meanwhile, and
 * a crash before release loses what a crash loses of unsynced writes.
 */
import type { OpenFlags } from '../../../src/server/storage/file-system.js';
import { SimFileHandle, type HandleHost } from './handle.js';
import type { Node } from './nodes.js';
import type { Volume } from './volume.js';

/** Holds syncs for holdSyncs(): each held call is started only on release. */
export class SyncGate {
  private match: ((path: string) => boolean) | undefined;
  private queue: Array<{ generation: number; start: () => void }> = [];

  constructor(private readonly vol: Volume) {}

  get waiting(): number {
    return this.queue.filter((q) => q.generation === this.vol.generation).length;
  }

  pass(path: string, run: () => Promise<void>): Promise<void> {
    if (!this.match?.(path)) return run();
    const generation = this.vol.generation;
    return new Promise<void>((resolve, reject) => this.queue.push({ generation, start: () => void run().then(resolve, reject) }));
  }

  hold(match: ((path: string) => boolean) | undefined): void {
    this.match = match;
    if (match) return;
    const queue = this.queue;
    this.queue = [];
    for (const q of queue) if (q.generation === this.vol.generation) q.start();
  }
}

export class GatedHandle extends SimFileHandle {
  constructor(
    private readonly gate: SyncGate,
    host: HandleHost,
    node: Node,
    path: string,
    flags: OpenFlags,
  ) {
    super(host, node, path, flags);
  }

  override datasync(): Promise<void> {
    return this.gate.pass(this.path, () => super.datasync());
  }

  override sync(): Promise<void> {
    return this.gate.pass(this.path, () => super.sync());
  }
}
