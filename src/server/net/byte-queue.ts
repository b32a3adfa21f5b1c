/**
 * Bytes received and not yet framed, kept as the reads delivered them. `take(n)` hands the next
 * n bytes out as a view of one read when they lie within it, else joins them once (a copy). The
 * peer links joined every read onto what was pending before, so a SNAP chunk (256 KiB, several
 * reads) was copied again at every read: at a million znodes more than a second of copying on
 * the follower.
 */
export class ByteQueue {
  private readonly parts: Buffer[] = [];
  bytes = 0;

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.bytes += chunk.length;
  }

  /** The next 4 bytes as a big-endian u32 (at least 4 must be queued); nothing is removed. */
  peekUInt32BE(): number {
    if (this.bytes < 4) throw new RangeError(`peek of 4 bytes with ${this.bytes} queued`);
    const head = this.parts[0]!;
    return head.length >= 4 ? head.readUInt32BE(0) : this.join(4).readUInt32BE(0);
  }

  /** The next n bytes (n <= bytes), removed. */
  take(n: number): Buffer {
    if (!(n >= 0 && n <= this.bytes)) throw new RangeError(`take of ${n} bytes with ${this.bytes} queued`);
    if (n === 0) return Buffer.alloc(0);
    const head = this.parts[0]!;
    let out: Buffer;
    if (head.length >= n) {
      out = head.subarray(0, n);
      if (head.length === n) this.parts.shift();
      else this.parts[0] = head.subarray(n);
    } else {
      out = this.join(n);
      let left = n;
      while (left > 0) {
        const p = this.parts[0]!;
        if (p.length <= left) {
          this.parts.shift();
          left -= p.length;
        } else {
          this.parts[0] = p.subarray(left);
          left = 0;
        }
      }
    }
    this.bytes -= n;
    return out;
  }

  /** A copy of the next n bytes, which span several reads (nothing is removed). */
  private join(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (const p of this.parts) {
      if (at >= n) break;
      at += p.copy(out, at, 0, Math.min(p.length, n - at));
    }
    return out;
  }
}
