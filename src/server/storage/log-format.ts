/**
 * On-disk format of the transaction log (all integers big-endian, as in ZooKeeper's jute).
 *
 * A log is a directory of segment files `log.<first zxid as 16 hex digits>`. Each segment:
 *
 *   segment header, 32 bytes
 *     0  u32  magic 0x5A454C47 ("ZELG": zk-elect log, deliberately not ZooKeeper's "ZKLG")
 *     4  u16  format version (1)
 *     6  u16  flags, must be 0
 *     8  u64  base: zxid of the first record (equals the file name)
 *    16  u64  prev: zxid of the last record of the log before this segment (0 for the first)
 *    24  u32  CRC-32C of bytes 0..24
 *    28  u32  reserved, must be 0
 *   then records, back to back, each
 *     0  u32  CRC-32C of bytes 4..16 of this record header and the payload
 *     4  u32  payload length in bytes
 *     8  u64  zxid
 *    16  ...  payload
 *
 * Why `prev`: zxids increase but need not be consecutive (a new epoch jumps), so a missing
 * segment cannot be seen from zxids alone. Each header names where the previous segment
 * ended; a chain that does not link up is a gap. The first segment's `prev` is the point from
 * which the log is complete (everything after it is here), which recovery checks against the
 * snapshot. A segment is created under a temp name and renamed into place with its header
 * already synced, so a segment never exists with a half-written header.
 *
 * There is no preallocation: a torn write can leave a partial record or zeros at the end of
 * the last segment, which the scan below recognises (zero bytes never form a valid record:
 * zxid 0 is below every real zxid and the CRC of zeros is not 0).
 */
import { crc32c } from './crc32c.js';
import { CorruptLogError } from './errors.js';
import type { FileHandle, FileSystem } from './file-system.js';
import { MAX_ZXID, readAt, zxidHex } from './fsutil.js';

export const SEGMENT_MAGIC = 0x5a454c47;
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 16;
/** How much of a segment the scanner reads per disk read. */
const WINDOW_BYTES = 1 << 20;

export const SEGMENT_NAME = /^log\.([0-9a-f]{16})$/;
export const SEGMENT_TEMP_NAME = /^log\.[0-9a-f]{16}\.tmp(\..*)?$/;
export const segmentName = (base: bigint): string => `log.${zxidHex(base)}`;

export interface SegmentHeader {
  base: bigint;
  prev: bigint;
}

export function encodeSegmentHeader(h: SegmentHeader): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  b.writeUInt32BE(SEGMENT_MAGIC, 0);
  b.writeUInt16BE(FORMAT_VERSION, 4);
  b.writeBigUInt64BE(h.base, 8);
  b.writeBigUInt64BE(h.prev, 16);
  b.writeUInt32BE(crc32c(b, 0, 0, 24), 24);
  return b;
}

export function decodeSegmentHeader(b: Buffer, file: string, expectedBase: bigint): SegmentHeader {
  if (b.readUInt32BE(0) !== SEGMENT_MAGIC) throw new CorruptLogError(file, 0, `bad magic 0x${b.readUInt32BE(0).toString(16)}, not a zk-elect log segment`);
  if (b.readUInt32BE(24) !== crc32c(b, 0, 0, 24)) throw new CorruptLogError(file, 24, 'segment header checksum mismatch');
  const version = b.readUInt16BE(4);
  if (version !== FORMAT_VERSION) throw new CorruptLogError(file, 4, `unsupported format version ${version} (this build reads ${FORMAT_VERSION})`);
  if (b.readUInt16BE(6) !== 0 || b.readUInt32BE(28) !== 0) throw new CorruptLogError(file, 6, 'unknown flags set in segment header');
  const base = b.readBigUInt64BE(8);
  const prev = b.readBigUInt64BE(16);
  if (base !== expectedBase) throw new CorruptLogError(file, 8, `header says first zxid 0x${base.toString(16)} but the file name says 0x${expectedBase.toString(16)}`);
  if (prev >= base || base > MAX_ZXID) throw new CorruptLogError(file, 16, `header zxids out of order (prev 0x${prev.toString(16)}, base 0x${base.toString(16)})`);
  return { base, prev };
}

export function encodeRecord(zxid: bigint, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  b.writeUInt32BE(payload.length, 4);
  b.writeBigUInt64BE(zxid, 8);
  payload.copy(b, RECORD_HEADER_BYTES);
  b.writeUInt32BE(crc32c(b, 0, 4, b.length), 0);
  return b;
}

/** A read-only, forward-moving cache over [0, end) of an open file. */
class Window {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly end: number,
  ) {}
  /** The bytes [pos, pos+n) if already cached, else undefined (caller then awaits `load`). */
  peek(pos: number, n: number): Buffer | undefined {
    return pos >= this.start && pos + n <= this.start + this.buf.length ? this.buf.subarray(pos - this.start, pos - this.start + n) : undefined;
  }
  async load(pos: number, n: number): Promise<Buffer> {
    this.buf = await readAt(this.fh, pos, Math.min(Math.max(n, WINDOW_BYTES), this.end - pos));
    this.start = pos;
    const v = this.peek(pos, n);
    if (!v) throw new Error(`file shrank while being read (wanted ${n} bytes at ${pos})`);
    return v;
  }
}

type Parsed = { ok: true; zxid: bigint; length: number; payload: Buffer } | { ok: false; fatal: boolean; reason: string };

/** Decodes the record at `pos`, checking only what the record itself can prove. */
async function parseRecord(w: Window, pos: number, maxRecordBytes: number): Promise<Parsed> {
  if (w.end - pos < RECORD_HEADER_BYTES) return { ok: false, fatal: false, reason: `incomplete record header (${w.end - pos} of ${RECORD_HEADER_BYTES} bytes)` };
  const h = w.peek(pos, RECORD_HEADER_BYTES) ?? (await w.load(pos, RECORD_HEADER_BYTES));
  const length = h.readUInt32BE(4);
  if (pos + RECORD_HEADER_BYTES + length > w.end) return { ok: false, fatal: false, reason: `record of ${length} bytes runs past the end of the file (${w.end})` };
  // An over-limit length is either garbage or a real record written under a larger limit;
  // only the second would pass its checksum, and it must refuse rather than be truncated.
  if (length > maxRecordBytes) {
    const real = await checksumMatches(w, pos, length);
    return { ok: false, fatal: real, reason: real ? `record of ${length} bytes exceeds maxRecordBytes ${maxRecordBytes}; reopen with a larger limit` : `record length ${length} exceeds maxRecordBytes and the checksum fails` };
  }
  const n = RECORD_HEADER_BYTES + length;
  const r = w.peek(pos, n) ?? (await w.load(pos, n));
  if (crc32c(r, 0, 4, n) !== r.readUInt32BE(0)) return { ok: false, fatal: false, reason: 'record checksum mismatch' };
  return { ok: true, zxid: r.readBigUInt64BE(8), length, payload: r.subarray(RECORD_HEADER_BYTES) };
}

async function checksumMatches(w: Window, pos: number, length: number): Promise<boolean> {
  const head = w.peek(pos, RECORD_HEADER_BYTES) ?? (await w.load(pos, RECORD_HEADER_BYTES));
  const want = head.readUInt32BE(0);
  let crc = crc32c(head, 0, 4, RECORD_HEADER_BYTES);
  for (let p = pos + RECORD_HEADER_BYTES, end = p + length; p < end; ) {
    const n = Math.min(WINDOW_BYTES, end - p);
    crc = crc32c(w.peek(p, n) ?? (await w.load(p, n)), crc);
    p += n;
  }
  return crc === want;
}

/** Offset of the first record after `from` that is complete, checksummed and newer than `after`. */
async function findValidRecord(w: Window, from: number, after: bigint, maxRecordBytes: number): Promise<number | undefined> {
  for (let q = from; q + RECORD_HEADER_BYTES <= w.end; q++) {
    const h = w.peek(q, RECORD_HEADER_BYTES) ?? (await w.load(q, RECORD_HEADER_BYTES));
    const length = h.readUInt32BE(4);
    const zxid = h.readBigUInt64BE(8);
    if (length > maxRecordBytes || q + RECORD_HEADER_BYTES + length > w.end || zxid <= after || zxid > MAX_ZXID) continue;
    const r = await parseRecord(w, q, maxRecordBytes);
    if (r.ok) return q;
  }
  return undefined;
}

export interface SegmentScan {
  header: SegmentHeader;
  size: number;
  /** Offset just after the last record kept (the file is cut here if `torn`). */
  validEnd: number;
  count: number;
  /** zxid of the last record kept, or `header.prev` when there is none. */
  lastZxid: bigint;
  torn?: { offset: number; bytes: number; reason: string };
}

export interface ScanOptions {
  fs: FileSystem;
  base: bigint;
  /** Only the final segment may end in a torn record. */
  final: boolean;
  maxRecordBytes: number;
  /** Stop before the first record with a zxid above this (used to find a truncation point). */
  upTo?: bigint;
  /** Called for each record; `payload` is a view into a reused buffer, copy it to keep it. */
  onRecord?: (zxid: bigint, payload: Buffer, offset: number) => void;
}

/**
 * Verifies one segment from start to end without modifying it. Damage is a torn tail only in
 * the final segment and only when no valid record follows it; anything else throws.
 */
export async function scanSegment(file: string, o: ScanOptions): Promise<SegmentScan> {
  const fh = await o.fs.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size < SEGMENT_HEADER_BYTES) throw new CorruptLogError(file, 0, `file is ${size} bytes, shorter than the ${SEGMENT_HEADER_BYTES}-byte segment header`);
    const w = new Window(fh, size);
    const header = decodeSegmentHeader(await w.load(0, SEGMENT_HEADER_BYTES), file, o.base);
    let pos = SEGMENT_HEADER_BYTES;
    let last = header.prev;
    let count = 0;
    while (pos < size) {
      const r = await parseRecord(w, pos, o.maxRecordBytes);
      if (r.ok) {
        if (count === 0 && r.zxid !== header.base) throw new CorruptLogError(file, pos, `first record has zxid 0x${r.zxid.toString(16)}, segment header says 0x${header.base.toString(16)}`);
        if (r.zxid <= last) throw new CorruptLogError(file, pos, `zxid goes backwards: 0x${r.zxid.toString(16)} after 0x${last.toString(16)}`);
        if (o.upTo !== undefined && r.zxid > o.upTo) break;
        o.onRecord?.(r.zxid, r.payload, pos);
        last = r.zxid;
        count++;
        pos += RECORD_HEADER_BYTES + r.length;
        continue;
      }
      if (r.fatal) throw new CorruptLogError(file, pos, r.reason);
      if (!o.final) throw new CorruptLogError(file, pos, `${r.reason}, in a segment that is not the last one (only the last can have a torn tail)`);
      const next = await findValidRecord(w, pos + 1, last, o.maxRecordBytes);
      if (next !== undefined) throw new CorruptLogError(file, pos, `${r.reason}, and a valid record follows at offset ${next}`);
      return { header, size, validEnd: pos, count, lastZxid: last, torn: { offset: pos, bytes: size - pos, reason: r.reason } };
    }
    return { header, size, validEnd: pos, count, lastZxid: last };
  } finally {
    await fh.close();
  }
}

/**
 * Yields the records of [header, end) with a zxid above `after`, payloads copied. Used to
 * read back a log that was verified when opened, so any damage now is a hard error.
 */
export async function* readSegment(
  fh: FileHandle,
  file: string,
  end: number,
  maxRecordBytes: number,
  after: bigint,
): AsyncGenerator<{ zxid: bigint; payload: Buffer }> {
  const w = new Window(fh, end);
  for (let pos = SEGMENT_HEADER_BYTES; pos < end; ) {
    const r = await parseRecord(w, pos, maxRecordBytes);
    if (!r.ok) throw new CorruptLogError(file, pos, `${r.reason} (the segment changed on disk after it was verified)`);
    if (r.zxid > after) yield { zxid: r.zxid, payload: Buffer.from(r.payload) };
    pos += RECORD_HEADER_BYTES + r.length;
  }
}
