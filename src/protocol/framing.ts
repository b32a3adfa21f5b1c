/**
 * Splits a TCP byte stream into ZooKeeper frames: a big-endian int32 length, then that many
 * bytes. Chunks may split or coalesce frames arbitrarily.
 *
 * Like ZooKeeper's NIOServerCnxn, the very first 4 bytes of a connection may instead be a
 * four-letter admin word ("ruok", "srvr", ...): ZooKeeper reads them as the int32 length
 * and checks it against the known word codes. All such codes are far above any sane
 * maxFrame, so they cannot be confused with a real ConnectRequest. After a word the
 * connection carries nothing more for us (the server answers and closes), except for
 * "stmk", which is followed by an 8-byte trace mask.
 *
 * A length below 0 or above maxFrame is a ProtocolError (the server closes the connection);
 * it is detected as soon as the 4 length bytes arrive, so memory stays bounded by
 * maxFrame + one chunk. Telnet's interrupt (0xfff4fffd), which ZooKeeper also treats
 * as a command that closes the connection, falls out here as a negative length.
 */
import { DEFAULT_MAX_FRAME, FOUR_LETTER_WORDS, type FourLetterWord } from './constants.js';
import { ProtocolError } from './jute.js';

export type Frame =
  /** One frame's payload, without the length prefix. It may share memory with the pushed chunk. */
  | { kind: 'frame'; payload: Buffer }
  /** `traceMask` is present only for "stmk". */
  | { kind: 'fourLetter'; word: FourLetterWord; traceMask?: bigint };

export interface FrameDecoderOptions {
  /** Largest accepted frame payload; defaults to DEFAULT_MAX_FRAME (jute.maxbuffer). */
  maxFrame?: number;
  /** Look for a four-letter word at the start (server side); default true. */
  fourLetterWords?: boolean;
}

const wordByCode = new Map<number, FourLetterWord>(
  FOUR_LETTER_WORDS.map((word) => [Buffer.from(word, 'latin1').readInt32BE(0), word]),
);

/** The word whose 4 bytes, read as a big-endian int32, equal `code`, if any. */
export function fourLetterWordOf(code: number): FourLetterWord | undefined {
  return wordByCode.get(code);
}

type State = 'start' | 'frames' | 'traceMask' | 'done';

export class FrameDecoder {
  private readonly maxFrame: number;
  private state: State;
  private failure: ProtocolError | undefined;
  /** A length prefix (or stmk's 8-byte mask) being assembled across chunks. */
  private readonly head = Buffer.alloc(8);
  private headFilled = 0;
  /** The payload of a frame whose length is known, being filled across chunks. */
  private body: Buffer | null = null;
  private bodyFilled = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.state = options.fourLetterWords === false ? 'frames' : 'start';
  }

  /** Bytes received but not yet returned as part of a frame (length prefix included). */
  get buffered(): number {
    return this.body ? 4 + this.bodyFilled : this.headFilled;
  }

  /** True once a four-letter word was returned: everything pushed afterwards is discarded. */
  get finished(): boolean {
    return this.state === 'done';
  }

  /**
   * Feeds one chunk and returns the frames it completed, in order. Throws ProtocolError on a
   * bad length (frames completed earlier in the same chunk are dropped with it: the
   * connection is going away). After an error every later call throws the same error.
   *
   * A frame lying wholly inside one chunk is returned as a view of it; one spanning chunks
   * is copied into a buffer allocated once its length is known and validated, so a slow
   * sender of tiny chunks costs no more memory than the frame itself.
   */
  push(chunk: Buffer): Frame[] {
    if (this.failure) throw this.failure;
    const out: Frame[] = [];
    let off = 0;
    while (this.state !== 'done') {
      if (this.body) {
        const n = Math.min(chunk.length - off, this.body.length - this.bodyFilled);
        chunk.copy(this.body, this.bodyFilled, off, off + n);
        this.bodyFilled += n;
        off += n;
        if (this.bodyFilled < this.body.length) break;
        out.push({ kind: 'frame', payload: this.body });
        this.body = null;
        this.bodyFilled = 0;
        continue;
      }
      const need = this.state === 'traceMask' ? 8 : 4;
      const n = Math.min(need - this.headFilled, chunk.length - off);
      chunk.copy(this.head, this.headFilled, off, off + n);
      this.headFilled += n;
      off += n;
      if (this.headFilled < need) break;
      this.headFilled = 0;
      if (this.state === 'traceMask') {
        out.push({ kind: 'fourLetter', word: 'stmk', traceMask: this.head.readBigInt64BE(0) });
        this.state = 'done';
        break;
      }
      const len = this.head.readInt32BE(0);
      if (this.state === 'start') {
        const word = wordByCode.get(len);
        if (word === 'stmk') {
          this.state = 'traceMask';
          continue;
        }
        if (word !== undefined) {
          out.push({ kind: 'fourLetter', word });
          this.state = 'done';
          break;
        }
        this.state = 'frames';
      }
      if (len < 0) this.fail('negative-frame-length', `frame length ${len}`);
      if (len > this.maxFrame) this.fail('frame-too-large', `frame length ${len} exceeds ${this.maxFrame}`);
      if (chunk.length - off >= len) {
        out.push({ kind: 'frame', payload: chunk.subarray(off, off + len) });
        off += len;
      } else {
        this.body = Buffer.allocUnsafe(len);
      }
    }
    return out;
  }

  private fail(reason: 'negative-frame-length' | 'frame-too-large', message: string): never {
    this.failure = new ProtocolError(reason, message);
    throw this.failure;
  }
}
