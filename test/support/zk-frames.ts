// ZooKeeper client-protocol framing, just enough for a fault-injecting proxy.
// Every message on a client connection is a 4-byte big-endian length followed
// by that many bytes. The splitter is kept free of sockets so that unit tests
// can feed it arbitrary split and coalesced chunks.

/** Upper bound for one frame; far above jute.maxbuffer (1 MiB default), so
 *  only garbage or a hostile peer trips it, and buffering stays bounded. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

// The harness speaks the same wire constants as everything else.
export { OpCode, Xid } from '../../src/protocol/constants.js';

export class FrameLengthError extends Error {
  constructor(
    readonly length: number,
    /** The offending 4 length bytes, so a caller can tell e.g. a four-letter word. */
    readonly header: Buffer,
  ) {
    super(`ZooKeeper frame length ${length} is outside 0..${MAX_FRAME_BYTES}`);
  }
}

/**
 * Incremental splitter. push() returns every frame completed by the chunk,
 * each INCLUDING its 4-byte length prefix, so a proxy can forward it verbatim.
 * Chunks are kept as a list and only joined when a frame is complete, so a
 * large frame arriving in many small chunks is copied once, not once per chunk.
 */
export class FrameSplitter {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.size;
  }

  /** @throws FrameLengthError when a length prefix is negative or too large. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const frames: Buffer[] = [];
    while (this.size >= 4) {
      const header = this.peek(4);
      const length = header.readInt32BE(0);
      if (length < 0 || length > this.maxFrameBytes) throw new FrameLengthError(length, header);
      if (this.size < 4 + length) break;
      frames.push(this.take(4 + length));
    }
    return frames;
  }

  /** Hands back (and forgets) whatever is buffered, e.g. to switch to raw relaying. */
  drain(): Buffer {
    const all = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    return all;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    return first.length >= n ? first.subarray(0, n) : Buffer.concat(this.chunks, this.size).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.size);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.size -= n;
    return out;
  }
}

/** Convenience for one-shot use: split a byte string that is known to be whole frames. */
export function splitFrames(bytes: Buffer, maxFrameBytes = MAX_FRAME_BYTES): { frames: Buffer[]; rest: number } {
  const splitter = new FrameSplitter(maxFrameBytes);
  const frames = splitter.push(bytes);
  return { frames, rest: splitter.buffered };
}

/** Request header of a post-handshake client frame (prefix included). */
export function readRequestHeader(frame: Buffer): { xid: number; opcode: number } | undefined {
  if (frame.length < 12) return undefined;
  return { xid: frame.readInt32BE(4), opcode: frame.readInt32BE(8) };
}

/** ReplyHeader of a post-handshake server frame (prefix included). */
export function readReplyHeader(frame: Buffer): { xid: number; zxid: bigint; err: number } | undefined {
  if (frame.length < 20) return undefined;
  return { xid: frame.readInt32BE(4), zxid: frame.readBigInt64BE(8), err: frame.readInt32BE(16) };
}

/** True for 4 lowercase ASCII letters: a four-letter-word command instead of a frame. */
export function looksLikeFourLetterWord(header: Buffer): boolean {
  return header.length === 4 && /^[a-z]{4}$/.test(header.toString('latin1'));
}

/** The path a post-handshake request starts with (create, delete, exists, getData, setData, getChildren...). */
export function readRequestPath(frame: Buffer): string | undefined {
  if (frame.length < 16) return undefined;
  const len = frame.readInt32BE(12);
  if (len < 0 || 16 + len > frame.length) return undefined;
  return frame.toString('utf8', 16, 16 + len);
}
