/**
 * Follower: the SNAP image being received, parsed and written to disk while its chunks arrive,
 * so that at NEWLEADER only what came last is left to do (issue 9: parsing and writing 188 MB
 * after the whole transfer took longer than the transfer).
 *
 * The core hands each chunk it takes to the driver (`snapshotChunkTaken`, seq 0 beginning an
 * image) and keeps none of them: here each is fed to a SnapshotLoader and queued for the
 * snapshot's temp file, and is garbage once written. At a million znodes that spares holding the
 * tree's 188 MB a second time, which on the machine measured cost ~1 s of first-touch page
 * faults alone. An image the core drops (`snapshotDropped`, or a new seq 0) is aborted: the
 * parse is dropped and the temp file removed.
 *
 * Durability is unchanged: the file is written under a temp name (DataDir.writeSnapshot) and is
 * fsynced and renamed into place only by `commitFile()`, at install, after the whole image
 * parsed. A crash before that leaves a temp file, which recovery removes, beside the old state.
 */
import type { DataDir } from '../storage/data-dir.js';
import { PREFAULT_MIN_NODES } from '../tree/snapshot-codec.js';
import { SnapshotLoader } from '../tree/snapshot-stream.js';
import type { ZkState } from '../tree/state.js';
import type { ZkStateOptions } from '../tree/types.js';

/** Chunks handed to the snapshot writer as they come; it ends (or fails) when told. */
class ChunkFeed implements AsyncIterable<Buffer> {
  private readonly queued: Buffer[] = [];
  /** Bytes pushed and not yet taken by the writer. */
  queuedBytes = 0;
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  push(chunk: Buffer): void {
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    this.poke();
  }

  end(): void {
    this.ended = true;
    this.poke();
  }

  fail(error: Error): void {
    this.error = error;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.error) throw this.error;
      const next = this.queued.shift();
      if (next !== undefined) {
        this.queuedBytes -= next.length;
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** A SNAP larger than this is never planned for (the data directory refuses 2 GiB snapshots). */
const MAX_ESTIMATE_BYTES = 2 ** 31;
/** Nodes read before the image's size is estimated from them. */
const PLAN_SAMPLE_NODES = 256;

export class SnapAborted extends Error {
  constructor() {
    super('the SNAP stream was abandoned');
  }
}

export class SnapReceiver {
  readonly zxid: bigint;
  /** Chunks taken (fed to the loader and the file) so far, and their bytes. */
  chunks = 0;
  bytes = 0;
  private loader: SnapshotLoader | undefined;
  /** Why the eager parse stopped (the image is bad): finishParse() throws it. */
  private parseError: Error | undefined;
  private readonly feed = new ChunkFeed();
  /** The snapshot file, once renamed into place; settles only after commitFile() or abort(). */
  private readonly written: Promise<string>;
  private writeError: Error | undefined;
  /** finishParse or abort was called: nothing more is taken. */
  private done = false;
  private parsed = false;
  /** Wall time spent parsing so far (ms), for the log. */
  parseMs = 0;
  /** planMemory() is done (an estimate was given to the loader, or none will be). */
  private planned = false;
  /** The image's size as estimated for the loader's memory plan (-1: none was made). */
  estimatedBytes = -1;

  constructor(
    zxid: number,
    options: ZkStateOptions,
    dataDir: DataDir,
    private readonly monoMs: () => number,
  ) {
    this.zxid = BigInt(zxid);
    this.loader = new SnapshotLoader(options, { prefault: true });
    this.written = dataDir.writeSnapshot(this.zxid, this.feed);
    // Held until commitFile() awaits it; an abort's rejection is expected and dropped.
    this.written.catch((e: unknown) => {
      if (!(e instanceof SnapAborted)) this.writeError = e as Error;
    });
  }

  /** Chunk `seq` of the image (the next one, in order): parsed here, on the caller's turn, and queued for the file. */
  take(seq: number, chunk: Buffer): void {
    if (this.done) throw new Error('SnapReceiver: a chunk after the image was finished or dropped');
    if (seq !== this.chunks) throw new Error(`SnapReceiver: chunk ${seq} taken, ${this.chunks} expected`);
    this.chunks++;
    this.bytes += chunk.length;
    if (this.loader === undefined) return; // a bad image: finishParse() reports it
    const started = this.monoMs();
    this.feed.push(chunk);
    try {
      this.loader.push(chunk);
      if (!this.planned) this.planMemory();
    } catch (e) {
      // Nothing more is parsed or written.
      this.parseError = e as Error;
      this.loader.abort();
      this.loader = undefined;
      this.feed.fail(new SnapAborted());
    }
    this.parseMs += this.monoMs() - started;
  }

  /**
   * A SNAP's size is not known before it ends: the bytes per node of its first PLAN_SAMPLE_NODES
   * nodes (usually all in the first chunk), times the nodes its header announces, estimate it, so
   * the loader can fault the tree's memory in on another thread (prefault.ts; ~1 s of a million-
   * znode load on this VM is first-touch page faults). Only an optimisation: a wrong estimate
   * costs some of that thread's work and memory until the load ends, nothing else.
   */
  private planMemory(): void {
    const l = this.loader!;
    if (l.nodesLoaded < PLAN_SAMPLE_NODES) return;
    this.planned = true;
    if (l.nodesExpected < PREFAULT_MIN_NODES) return;
    this.estimatedBytes = Math.min(MAX_ESTIMATE_BYTES, Math.ceil((l.nodeBytesLoaded / l.nodesLoaded) * l.nodesExpected));
    l.expect(this.estimatedBytes);
  }

  /**
   * At install, once all `chunks` (`bytes` in all) of the image were taken: the state built.
   * Throws if the image does not parse, or is not the one taken; the temp file is then removed,
   * never renamed.
   */
  finishParse(chunks: number, bytes: number): ZkState {
    if (this.done) throw new Error('SnapReceiver: the image was finished or dropped');
    this.done = true;
    try {
      if (chunks !== this.chunks || bytes !== this.bytes) throw new Error(`SnapReceiver: installing ${chunks} chunks (${bytes} bytes), ${this.chunks} (${this.bytes} bytes) were taken`);
      if (this.parseError) throw this.parseError;
      const started = this.monoMs();
      const state = this.loader!.finish();
      this.parseMs += this.monoMs() - started;
      this.parsed = true;
      return state;
    } catch (e) {
      this.loader?.abort();
      this.feed.fail(new SnapAborted());
      throw e;
    } finally {
      this.loader = undefined;
    }
  }

  /** Bytes the file writer has yet to take (it falls behind when the disk is slower than the link). */
  get unwrittenBytes(): number {
    return this.feed.queuedBytes;
  }

  /** After finishParse: the file completed, fsynced and renamed into place (DataDir.writeSnapshot). */
  async commitFile(): Promise<string> {
    if (!this.parsed) throw new Error('SnapReceiver: commitFile without a successful finishParse');
    this.feed.end();
    return this.written.catch((e: unknown) => Promise.reject(this.writeError ?? (e as Error)));
  }

  /** The stream was abandoned: the parse is dropped and the temp file removed. Idempotent. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.loader?.abort();
    this.loader = undefined;
    this.feed.fail(new SnapAborted());
  }

  /** Settles once the temp file is gone (after abort) or in place (after finish). */
  settled(): Promise<void> {
    return this.written.then(
      () => undefined,
      () => undefined,
    );
  }
}
