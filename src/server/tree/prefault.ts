/**
 * Memory for a large snapshot load, touched ahead of use by a worker thread.
 *
 * Why: the first write to each 4 KiB page of fresh memory is a page fault, and on this VM a
 * fault costs 8-15 us (node: 200 MiB of fresh ArrayBuffers written by the main thread, 826 ms;
 * the same memory touched first by a worker, 13 ms). Loading a million-znode snapshot fills
 * ~250 MB of slabs and column pages, so about a second of a restart was page faults on the
 * event loop, while the second core sat idle. Here the loader announces the blocks it will
 * need, a worker faults them in on the other core, and the tree takes them in order.
 *
 * The blocks are SharedArrayBuffers (a worker can only touch shared memory). The worker's
 * touch is an atomic add of 0 to one word per page: it writes (so the page is really mapped,
 * which a read would not do: Linux maps the zero page for reads) without changing the word,
 * and being atomic it cannot undo a store the main thread made to that word meanwhile — the
 * tree may already be using a block the worker has not reached yet.
 *
 * Everything here is an optimisation: a block the worker has not touched yet, or a request
 * beyond the plan, is simply fresh memory as before.
 */
import { Worker } from 'node:worker_threads';

/** Blocks of memory handed out by size, in the order they were planned. */
export interface BlockSource {
  /** A block of exactly `bytes` bytes, or undefined (then allocate as usual). */
  take(bytes: number): SharedArrayBuffer | undefined;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const stop = new Int32Array(workerData.stop);
for (const block of workerData.blocks) {
  if (Atomics.load(stop, 0) !== 0) break;
  const words = new Int32Array(block);
  for (let i = 0; i < words.length; i += 1024) Atomics.add(words, i, 0);
}
parentPort.postMessage('done');
`;

export class PrefaultedBlocks implements BlockSource {
  private readonly queues = new Map<number, SharedArrayBuffer[]>();
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private worker: Worker | undefined;

  /**
   * Allocates the planned blocks (untouched: allocation maps nothing) and starts a worker
   * touching them, interleaving the kinds in proportion so each stays ahead of its use.
   */
  constructor(plan: ReadonlyArray<{ bytes: number; count: number }>) {
    const lists = plan.filter((p) => p.count > 0).map((p) => ({ bytes: p.bytes, blocks: Array.from({ length: p.count }, () => new SharedArrayBuffer(p.bytes)) }));
    for (const l of lists) this.queues.set(l.bytes, [...l.blocks]);
    const order: SharedArrayBuffer[] = [];
    const total = lists.reduce((n, l) => n + l.blocks.length, 0);
    const taken = lists.map(() => 0);
    for (let k = 0; k < total; k++) {
      // Next, the kind furthest behind its share of the blocks touched so far.
      let best = -1;
      for (let j = 0; j < lists.length; j++) {
        if (taken[j]! >= lists[j]!.blocks.length) continue;
        if (best < 0 || taken[j]! / lists[j]!.blocks.length < taken[best]! / lists[best]!.blocks.length) best = j;
      }
      order.push(lists[best]!.blocks[taken[best]!++]!);
    }
    if (order.length === 0) return;
    this.worker = new Worker(WORKER, { eval: true, workerData: { blocks: order, stop: this.stopFlag.buffer } });
    this.worker.unref();
    this.worker.on('error', () => undefined); // only an optimisation: the blocks work untouched
    this.worker.on('exit', () => (this.worker = undefined));
  }

  take(bytes: number): SharedArrayBuffer | undefined {
    return this.queues.get(bytes)?.shift();
  }

  /** Stops the worker and drops the blocks not taken (the garbage collector frees them). */
  stop(): void {
    Atomics.store(this.stopFlag, 0, 1);
    this.queues.clear();
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
