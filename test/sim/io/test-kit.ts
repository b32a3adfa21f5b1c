/** Driving SimFileSystem outside the full simulator (unit tests): an event loop and file helpers. */
import { setImmediate as macrotask } from 'node:timers/promises';
import type { FileHandle, FileSystem } from '../../../src/server/storage/file-system.js';
import { Prng } from '../prng.js';
import { SimFileSystem, type SimFileSystemOptions } from './sim-fs.js';

/**
 * A minimal deterministic event loop: a time-ordered queue of callbacks, run one at a time,
 * each followed by a macrotask turn so every promise continuation it caused has settled
 * before the next callback runs.
 */
export class TestLoop {
  now = 0;
  private seq = 0;
  private queue: Array<{ at: number; seq: number; fn: () => void }> = [];

  readonly schedule = (delayMs: number, fn: () => void): void => {
    this.queue.push({ at: this.now + delayMs, seq: this.seq++, fn });
  };

  /** Runs callbacks until `p` settles; throws if nothing is left to run first. */
  async run<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await macrotask();
    while (!settled) {
      if (!this.step()) throw new Error('TestLoop: the promise is still pending and nothing is scheduled');
      await macrotask();
    }
    return p;
  }

  /** Runs every scheduled callback, including those they schedule. */
  async drain(): Promise<void> {
    await macrotask();
    while (this.step()) await macrotask();
  }

  /** Runs at most `n` callbacks; returns how many ran. */
  async runSteps(n: number): Promise<number> {
    let ran = 0;
    await macrotask();
    while (ran < n && this.step()) {
      ran++;
      await macrotask();
    }
    return ran;
  }

  /** What the world does at a power cut: callbacks of the dead process never run. */
  dropAll(): void {
    this.queue = [];
  }

  get pending(): number {
    return this.queue.length;
  }

  private step(): boolean {
    if (this.queue.length === 0) return false;
    let best = 0;
    for (let i = 1; i < this.queue.length; i++) {
      const a = this.queue[i]!;
      const b = this.queue[best]!;
      if (a.at < b.at || (a.at === b.at && a.seq < b.seq)) best = i;
    }
    const [e] = this.queue.splice(best, 1);
    this.now = e!.at;
    e!.fn();
    return true;
  }
}

/** Creates or truncates `path` and writes `data`; optionally fdatasyncs, optionally leaves it open. */
export async function writeFile(fs: FileSystem, path: string, data: string | Buffer, o: { sync?: boolean; keepOpen?: boolean } = {}): Promise<FileHandle> {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const fh = await fs.open(path, 'w');
  for (let done = 0; done < buf.length; ) done += (await fh.write(buf, done, buf.length - done, done)).bytesWritten;
  if (o.sync) await fh.datasync();
  if (!o.keepOpen) await fh.close();
  return fh;
}

export async function syncDir(fs: FileSystem, dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A SimFileSystem on a TestLoop; `go` runs an async body to completion on the loop. */
export function rig(seed: number, o: Partial<SimFileSystemOptions> = {}) {
  const loop = new TestLoop();
  const fs = new SimFileSystem({ rng: new Prng(seed), schedule: loop.schedule, ...o });
  return { fs, loop, go: <T>(fn: () => Promise<T>): Promise<T> => loop.run(fn()) };
}
