/**
 * Follower: the SNAP the core is receiving (its PendingSnap), parsed and written to disk while
 * its chunks arrive, so that at NEWLEADER only what came last is left to do (issue 9: parsing
 * and writing 188 MB after the whole transfer took longer than the transfer).
 *
 * The core keeps the chunks it accepted in `pending.chunks`, the same array (and the same
 * Buffers) that its `installSnapshot` action carries later; the write path calls `catchUp()`
 * after every step, and each chunk accepted since is fed to a SnapshotLoader and queued for the
 * snapshot's temp file. A stream the core abandons (a chunk missing, another image, becoming
 * LOOKING) is no longer its pendingSnap: the write path then calls `abort()`, which drops the
 * parse and removes the temp file.
 *
 * Durability is unchanged: the file is written under a temp name (DataDir.writeSnapshot) and is
 * fsynced and renamed into place only by `finish()`, at install, after the whole image parsed.
 * A crash before that leaves a temp file, which recovery removes, beside the old state.
 */
import type { PendingSnap } from '../zab/follower.js';
import type { DataDir } from '../storage/data-dir.js';
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

export class SnapAborted extends Error {
  constructor() {
    super('the SNAP stream was abandoned');
  }
}

export class SnapReceiver {
  readonly zxid: bigint;
  /** Chunks of `pending` fed to the loader and the file so far. */
  private fed = 0;
  private loader: SnapshotLoader | undefined;
  /** Why the eager parse stopped (the image is bad): finish() throws it. */
  private parseError: Error | undefined;
  private readonly feed = new ChunkFeed();
  /** The snapshot file, once renamed into place; settles only after finish() or abort(). */
  private readonly written: Promise<string>;
  private writeError: Error | undefined;
  /** finishParse or abort was called: nothing more is fed. */
  private done = false;
  private parsed = false;
  /** Wall time spent parsing so far (ms), for the log. */
  parseMs = 0;

  constructor(
    readonly pending: PendingSnap,
    options: ZkStateOptions,
    dataDir: DataDir,
    private readonly monoMs: () => number,
  ) {
    this.zxid = BigInt(pending.zxid);
    this.loader = new SnapshotLoader(options);
    this.written = dataDir.writeSnapshot(this.zxid, this.feed);
    // Held until finish() awaits it; an abort's rejection is expected and dropped.
    this.written.catch((e: unknown) => {
      if (!(e instanceof SnapAborted)) this.writeError = e as Error;
    });
  }

  /** Feeds what the core accepted since the last call (parsed here, on the caller's turn). */
  catchUp(): void {
    if (this.done) return;
    const chunks = this.pending.chunks;
    const started = this.monoMs();
    while (this.fed < chunks.length && this.loader !== undefined) {
      const c = chunks[this.fed++]!;
      this.feed.push(c);
      try {
        this.loader.push(c);
      } catch (e) {
        // A bad image: nothing more is parsed or written; finish() reports it.
        this.parseError = e as Error;
        this.loader = undefined;
        this.feed.fail(new SnapAborted());
      }
    }
    this.parseMs += this.monoMs() - started;
  }

  /**
   * At install (`chunks` must be this stream's, all of them): the rest parsed and the state
   * built. Throws if the image does not parse; the temp file is then removed, never renamed.
   */
  finishParse(chunks: readonly Buffer[]): ZkState {
    if (chunks !== this.pending.chunks) throw new Error('SnapReceiver: chunks of another stream');
    this.catchUp();
    this.done = true;
    try {
      if (this.parseError) throw this.parseError;
      const started = this.monoMs();
      const state = this.loader!.finish();
      this.parseMs += this.monoMs() - started;
      this.parsed = true;
      return state;
    } catch (e) {
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
