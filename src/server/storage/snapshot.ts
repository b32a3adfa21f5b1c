/**
 * Snapshots: one file per snapshot, `snapshot.<zxid as 16 hex digits>`, big-endian:
 *
 *    0  u32  magic 0x5A45534E ("ZESN": zk-elect snapshot)
 *    4  u16  format version (3; 1 and 2 are still read)
 *    6  u16  flags, must be 0
 *    8  u64  zxid (equals the file name)
 *   16  u64  payload length
 *   24  u32  CRC of the payload and then of bytes 0..24: zlib's CRC-32 in version 3, CRC-32C
 *            in version 2, and in version 1 CRC-32C of bytes 0..24 first
 *   28  u32  reserved, must be 0
 *   32  ...  payload; the file is exactly 32 + length bytes
 *
 * Written under a temp name, fsynced, renamed into place and the directory fsynced, so a
 * snapshot file is either whole or absent; a crash leaves at most a temp file, which readers
 * ignore and recovery removes. A damaged snapshot (bit rot, a bad disk) is skipped in favour
 * of the previous valid one and reported, because only the caller knows whether its log
 * covers the difference (DataDir.recover checks exactly that).
 */
import { constants as bufferConstants } from 'node:buffer';
import path from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32c } from './crc32c.js';
import { CorruptSnapshotError, describe } from './errors.js';
import { nodeFileSystem, type FileHandle, type FileSystem } from './file-system.js';
import { atomicWriteFile, isErrno, MAX_ZXID, readAt, readInto, silentLogger, TempFiles, zxidHex, type StorageLogger } from './fsutil.js';

const MAGIC = 0x5a45534e;
/**
 * Version 3 checksums with zlib's CRC-32, which Node computes natively (36 ms for a 188 MB
 * snapshot here, against 400-800 ms for the CRC-32C written in TypeScript, all of it on the
 * event loop at every snapshot and every restart). CRC-32C's better Hamming distance is a
 * property of short messages (the log's records keep it); over megabytes both are 32-bit
 * checks. Version 2 checksums the payload first with CRC-32C, version 1 the header first.
 */
const VERSION = 3;
/** The checksum of each version, chainable: crc(b, crc(a, 0)) = crc(a ++ b, 0). */
const CRC_OF_VERSION: Readonly<Record<number, (buf: Uint8Array, seed: number) => number>> = {
  1: (buf, seed) => crc32c(buf, seed),
  2: (buf, seed) => crc32c(buf, seed),
  3: (buf, seed) => zlibCrc32(buf, seed),
};
const HEADER_BYTES = 32;
const NAME = /^snapshot\.([0-9a-f]{16})$/;
const TEMP_NAME = /^snapshot\.[0-9a-f]{16}\.tmp\./;
/** Default ceiling on a snapshot read back into memory; at most what a Buffer can hold. */
const DEFAULT_MAX_SNAPSHOT_BYTES = Math.min(2 ** 31, bufferConstants.MAX_LENGTH);

export interface SnapshotInfo {
  file: string;
  zxid: bigint;
}
export interface Snapshot extends SnapshotInfo {
  payload: Buffer;
}
export interface SkippedSnapshot extends SnapshotInfo {
  reason: string;
}
export interface SnapshotWriteOptions {
  /** Default the real disk (nodeFileSystem). */
  fs?: FileSystem;
  /**
   * Names the temp file and marks it in progress. Share one with the loadSnapshots and
   * purgeSnapshots calls that may run meanwhile, or their cleanup may remove the temp file
   * of a write still running (DataDir does this).
   */
  temps?: TempFiles;
}
export interface SnapshotReadOptions extends SnapshotWriteOptions {
  logger?: StorageLogger;
  /** Larger snapshots are refused as invalid. Default 2 GiB. */
  maxSnapshotBytes?: number;
}

/** The payload of a snapshot: one buffer, or chunks in order (e.g. a SnapshotReader's slices). */
export type SnapshotPayload = Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;

/**
 * Writes `snapshot.<zxid>` durably and atomically; returns its path. A chunked payload is
 * streamed to disk (the header, which holds its length and checksum, is written last).
 */
export async function writeSnapshot(dir: string, zxid: bigint, payload: SnapshotPayload, opts: SnapshotWriteOptions = {}): Promise<string> {
  if (typeof zxid !== 'bigint' || zxid < 0n || zxid > MAX_ZXID) throw new RangeError(`snapshot zxid out of range: ${String(zxid)}`);
  const fs = opts.fs ?? nodeFileSystem;
  await fs.mkdir(dir, { recursive: true });
  let length = 0;
  let crc = 0;
  async function* body(): AsyncGenerator<Buffer> {
    for await (const c of Buffer.isBuffer(payload) ? [payload] : payload) {
      length += c.length;
      crc = zlibCrc32(c, crc);
      yield c;
    }
  }
  const header = (): Buffer => {
    const h = Buffer.alloc(HEADER_BYTES);
    h.writeUInt32BE(MAGIC, 0);
    h.writeUInt16BE(VERSION, 4);
    h.writeBigUInt64BE(zxid, 8);
    h.writeBigUInt64BE(BigInt(length), 16);
    h.writeUInt32BE(zlibCrc32(h.subarray(0, 24), crc), 24);
    return h;
  };
  const file = path.join(dir, `snapshot.${zxidHex(zxid)}`);
  await atomicWriteFile(file, body(), { fs, temps: opts.temps ?? TempFiles.for(fs), headerBytes: HEADER_BYTES, header });
  return file;
}

/** The snapshot files in `dir`, newest (highest zxid) first. Temp files are not listed. */
export async function listSnapshots(dir: string, opts: { fs?: FileSystem } = {}): Promise<SnapshotInfo[]> {
  let names: string[];
  try {
    names = await (opts.fs ?? nodeFileSystem).readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const out: SnapshotInfo[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (m) out.push({ file: path.join(dir, name), zxid: BigInt(`0x${m[1]!}`) });
  }
  return out.sort((a, b) => (a.zxid > b.zxid ? -1 : a.zxid < b.zxid ? 1 : 0));
}

interface CheckedHeader {
  readonly header: Buffer;
  readonly version: number;
  readonly length: number;
}

/** Reads and checks the header of an open snapshot file against its name and size. */
async function checkHeader(fh: FileHandle, info: SnapshotInfo, maxBytes: number): Promise<CheckedHeader> {
  const { file } = info;
  const size = (await fh.stat()).size;
  if (size < HEADER_BYTES) throw new CorruptSnapshotError(file, 0, `file is ${size} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const h = await readAt(fh, 0, HEADER_BYTES);
  if (h.readUInt32BE(0) !== MAGIC) throw new CorruptSnapshotError(file, 0, `bad magic 0x${h.readUInt32BE(0).toString(16)}`);
  const version = h.readUInt16BE(4);
  if (CRC_OF_VERSION[version] === undefined) throw new CorruptSnapshotError(file, 4, `unsupported format version ${version}`);
  if (h.readUInt16BE(6) !== 0 || h.readUInt32BE(28) !== 0) throw new CorruptSnapshotError(file, 6, 'unknown flags set');
  if (h.readBigUInt64BE(8) !== info.zxid) throw new CorruptSnapshotError(file, 8, `header zxid 0x${h.readBigUInt64BE(8).toString(16)} does not match the file name`);
  const length = h.readBigUInt64BE(16);
  if (length > BigInt(maxBytes)) throw new CorruptSnapshotError(file, 16, `payload length ${length} exceeds maxSnapshotBytes ${maxBytes}`);
  if (BigInt(size) !== BigInt(HEADER_BYTES) + length) throw new CorruptSnapshotError(file, Math.min(size, HEADER_BYTES + Number(length)), `file is ${size} bytes but the header says ${HEADER_BYTES} + ${length}`);
  return { header: h, version, length: Number(length) };
}

/**
 * Checks a payload against its header, chunk by chunk: `update` each chunk in order, then
 * `matches()`. Version 1 starts from the header, the others end with it.
 */
class PayloadCheck {
  private readonly crcOf: (buf: Uint8Array, seed: number) => number;
  private crc: number;
  constructor(private readonly c: CheckedHeader) {
    this.crcOf = CRC_OF_VERSION[c.version]!;
    this.crc = c.version === 1 ? this.crcOf(c.header.subarray(0, 24), 0) : 0;
  }
  update(chunk: Uint8Array): void {
    this.crc = this.crcOf(chunk, this.crc);
  }
  matches(): boolean {
    const crc = this.c.version === 1 ? this.crc : this.crcOf(this.c.header.subarray(0, 24), this.crc);
    return crc === this.c.header.readUInt32BE(24);
  }
}

/** Reads and verifies one snapshot file; throws CorruptSnapshotError naming the offset. */
export async function readSnapshotFile(info: SnapshotInfo, opts: Pick<SnapshotReadOptions, 'fs' | 'maxSnapshotBytes'> = {}): Promise<Buffer> {
  const { file } = info;
  const fh = await (opts.fs ?? nodeFileSystem).open(file, 'r');
  try {
    const c = await checkHeader(fh, info, opts.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES);
    const payload = await readAt(fh, HEADER_BYTES, c.length);
    if (payload.length !== c.length) throw new CorruptSnapshotError(file, HEADER_BYTES + payload.length, 'file shrank while being read');
    const check = new PayloadCheck(c);
    check.update(payload);
    if (!check.matches()) throw new CorruptSnapshotError(file, 24, 'checksum mismatch');
    return payload;
  } finally {
    await fh.close();
  }
}

/** Bytes read per step when verifying a snapshot in place. */
const VERIFY_CHUNK_BYTES = 1 << 20;

/**
 * Verifies one snapshot file as readSnapshotFile does, without holding it in memory: the
 * payload is read and checksummed 1 MiB at a time, each read a turn of the event loop. At a
 * million znodes a whole-file read and checksum blocked the server for ~400 ms per file.
 */
export async function verifySnapshotFile(info: SnapshotInfo, opts: Pick<SnapshotReadOptions, 'fs' | 'maxSnapshotBytes'> = {}): Promise<void> {
  const { file } = info;
  const fh = await (opts.fs ?? nodeFileSystem).open(file, 'r');
  try {
    const c = await checkHeader(fh, info, opts.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES);
    const check = new PayloadCheck(c);
    for (let at = 0; at < c.length; ) {
      const chunk = await readAt(fh, HEADER_BYTES + at, Math.min(VERIFY_CHUNK_BYTES, c.length - at));
      if (chunk.length === 0) throw new CorruptSnapshotError(file, HEADER_BYTES + at, 'file shrank while being read');
      check.update(chunk);
      at += chunk.length;
    }
    if (!check.matches()) throw new CorruptSnapshotError(file, 24, 'checksum mismatch');
  } finally {
    await fh.close();
  }
}

/** Removes temp files left by crashed writers (not those `temps` is still writing). */
async function removeTemps(dir: string, o: { fs: FileSystem; temps: TempFiles | undefined; logger: StorageLogger }): Promise<void> {
  let names: string[];
  try {
    names = await o.fs.readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    if (!TEMP_NAME.test(name) || o.temps?.isLive(file)) continue;
    o.logger.info('snapshot: removing a temp file left by a crash', { file });
    await o.fs.unlink(file).catch(() => undefined);
  }
}

/** Takes a snapshot's payload chunk by chunk, in order, and makes something of it (a tree). */
export interface SnapshotSink<T> {
  /**
   * The next bytes of the payload, not yet known to be intact: act on them only at finish().
   * The chunk's memory is reused once push returns: copy whatever must be kept.
   */
  push(chunk: Buffer): void;
  /** The whole payload was pushed and its checksum matched. */
  finish(): T;
  /** The payload's length, told before the first push. */
  expect?(payloadBytes: number): void;
  /** The load failed (damage, or push threw): finish() will not be called. */
  abort?(): void;
}

/** Bytes per read when streaming a snapshot into a sink. */
const STREAM_CHUNK_BYTES = 4 << 20;

/**
 * Reads one snapshot file into `sink` a chunk at a time, checksumming as it goes, with the
 * next read in flight while the sink takes the current chunk: the read runs on libuv's thread
 * pool while the sink (a tree being rebuilt) runs on the event loop, and the file is never
 * held whole. Two buffers take turns: fresh memory costs a page fault per 4 KiB on first
 * touch (~8 us each on this VM, ~0.4 s over a 188 MB snapshot), reused memory nothing.
 * finish() is called only if the checksum matched; a mismatch, or a sink that throws, fails
 * the file with CorruptSnapshotError.
 */
export async function streamSnapshotFile<T>(info: SnapshotInfo, sink: SnapshotSink<T>, opts: Pick<SnapshotReadOptions, 'fs' | 'maxSnapshotBytes'> = {}): Promise<T> {
  const { file } = info;
  const fh = await (opts.fs ?? nodeFileSystem).open(file, 'r');
  let inFlight: Promise<Buffer> | undefined;
  let finished = false;
  try {
    const c = await checkHeader(fh, info, opts.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES);
    sink.expect?.(c.length);
    const check = new PayloadCheck(c);
    let readTo = 0;
    const buffers = [Buffer.allocUnsafeSlow(Math.min(STREAM_CHUNK_BYTES, c.length)), Buffer.allocUnsafeSlow(Math.min(STREAM_CHUNK_BYTES, Math.max(0, c.length - STREAM_CHUNK_BYTES)))];
    let turn = 0;
    const readNext = (): Promise<Buffer> | undefined => {
      const from = readTo;
      const n = Math.min(STREAM_CHUNK_BYTES, c.length - from);
      if (n <= 0) return undefined;
      readTo += n;
      const into = buffers[turn++ & 1]!;
      return readInto(fh, into.subarray(0, n), HEADER_BYTES + from, n).then((b) => {
        if (b.length !== n) throw new CorruptSnapshotError(file, HEADER_BYTES + from + b.length, 'file shrank while being read');
        return b;
      });
    };
    inFlight = readNext();
    let pushed = 0;
    while (inFlight !== undefined) {
      const chunk = await inFlight;
      inFlight = readNext();
      check.update(chunk);
      try {
        sink.push(chunk);
      } catch (err) {
        throw new CorruptSnapshotError(file, HEADER_BYTES + pushed, `its payload could not be loaded: ${describe(err)}`);
      }
      pushed += chunk.length;
    }
    if (!check.matches()) throw new CorruptSnapshotError(file, 24, 'checksum mismatch');
    try {
      finished = true;
      return sink.finish();
    } catch (err) {
      throw new CorruptSnapshotError(file, HEADER_BYTES + pushed, `its payload could not be loaded: ${describe(err)}`);
    }
  } finally {
    if (!finished) sink.abort?.();
    // Never close the file under a read still running.
    await inFlight?.catch(() => undefined);
    await fh.close();
  }
}

/**
 * The newest valid snapshot, plus every newer one that was skipped as invalid (with why).
 * With a `sink`, each file is streamed into a fresh sink (streamSnapshotFile) and `payload`
 * is what the sink made; a file the sink cannot load counts as invalid like a damaged one.
 * Without, `payload` is the file's bytes. Call only while holding the data directory
 * (DataDir's lock): it removes crash debris.
 */
export async function loadSnapshots(dir: string, opts?: SnapshotReadOptions): Promise<{ latest?: Snapshot; skipped: SkippedSnapshot[] }>;
export async function loadSnapshots<T>(
  dir: string,
  opts: SnapshotReadOptions & { sink: (info: SnapshotInfo) => SnapshotSink<T> },
): Promise<{ latest?: SnapshotInfo & { payload: T }; skipped: SkippedSnapshot[] }>;
export async function loadSnapshots<T>(
  dir: string,
  opts: SnapshotReadOptions & { sink?: (info: SnapshotInfo) => SnapshotSink<T> } = {},
): Promise<{ latest?: SnapshotInfo & { payload: T | Buffer }; skipped: SkippedSnapshot[] }> {
  const logger = opts.logger ?? silentLogger;
  const fs = opts.fs ?? nodeFileSystem;
  await removeTemps(dir, { fs, temps: opts.temps, logger });
  const skipped: SkippedSnapshot[] = [];
  const read = { fs, maxSnapshotBytes: opts.maxSnapshotBytes };
  for (const info of await listSnapshots(dir, { fs })) {
    try {
      const payload = opts.sink ? await streamSnapshotFile(info, opts.sink(info), read) : await readSnapshotFile(info, read);
      return { latest: { ...info, payload }, skipped };
    } catch (err) {
      const reason = describe(err);
      logger.warn('snapshot: skipping an invalid snapshot, falling back to the previous one', { file: info.file, reason });
      skipped.push({ ...info, reason });
    }
  }
  return { skipped };
}

/**
 * The newest valid snapshot, or undefined if there is none. `skipped` lists newer snapshots
 * that were invalid: the caller must check its log covers everything after `zxid` up to at
 * least the highest skipped zxid, and refuse otherwise.
 */
export async function readLatestSnapshot(dir: string, opts: SnapshotReadOptions = {}): Promise<(Snapshot & { skipped: SkippedSnapshot[] }) | undefined> {
  const { latest, skipped } = await loadSnapshots(dir, opts);
  return latest && { ...latest, skipped };
}

/**
 * Keeps the `keep` newest valid snapshots and removes every snapshot older than the oldest
 * of them. Invalid snapshots newer than that are left for inspection. Removes nothing when
 * fewer than `keep` valid snapshots exist.
 */
export async function purgeSnapshots(
  dir: string,
  keep: number,
  opts: SnapshotReadOptions & { verified?: VerifiedSnapshots } = {},
): Promise<{ kept: SnapshotInfo[]; removed: string[] }> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be an integer >= 1, got ${keep}`);
  const fs = opts.fs ?? nodeFileSystem;
  await removeTemps(dir, { fs, temps: opts.temps, logger: opts.logger ?? silentLogger });
  const all = await listSnapshots(dir, { fs });
  const kept: SnapshotInfo[] = [];
  let i = 0;
  for (; i < all.length && kept.length < keep; i++) {
    const info = all[i]!;
    // An older snapshot may only go once `keep` newer ones are known whole: recovery may need it.
    const ok =
      (await opts.verified?.has(info, fs)) ||
      (await verifySnapshotFile(info, { fs, maxSnapshotBytes: opts.maxSnapshotBytes }).then(
        async () => {
          await opts.verified?.add(info, fs);
          return true;
        },
        () => false,
      ));
    if (ok) kept.push(info);
  }
  if (kept.length < keep) return { kept, removed: [] };
  const removed: string[] = [];
  for (const old of all.slice(i)) {
    await fs.unlink(old.file);
    removed.push(old.file);
  }
  return { kept, removed };
}

/**
 * Snapshot files this process wrote or verified whole, by name and size: purging after every
 * snapshot need not read the kept ones again (three whole files at every snapshot, before).
 * A file whose size changed is verified again.
 */
export class VerifiedSnapshots {
  private readonly sizes = new Map<string, number>();

  async add(info: SnapshotInfo, fs: FileSystem = nodeFileSystem): Promise<void> {
    this.sizes.set(info.file, await sizeOf(info.file, fs));
  }

  async has(info: SnapshotInfo, fs: FileSystem = nodeFileSystem): Promise<boolean> {
    const known = this.sizes.get(info.file);
    if (known === undefined) return false;
    const now = await sizeOf(info.file, fs).catch(() => -1);
    if (now === known) return true;
    this.sizes.delete(info.file);
    return false;
  }
}

async function sizeOf(file: string, fs: FileSystem): Promise<number> {
  return (await fs.stat(file)).size;
}
