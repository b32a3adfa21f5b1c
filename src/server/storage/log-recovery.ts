/**
 * Reading a log directory at open: verify every segment, link the chain of segments, and
 * work out what must be repaired, all without writing anything, so that a refusal leaves the
 * directory exactly as it was found (an operator can then copy it off and inspect it).
 */
import path from 'node:path';
import { CorruptLogError, LogRangeError } from './errors.js';
import type { FileSystem } from './file-system.js';
import type { StorageLogger } from './fsutil.js';
import { SEGMENT_NAME, SEGMENT_TEMP_NAME, scanSegment } from './log-format.js';

export interface LogRecord {
  zxid: bigint;
  payload: Buffer;
}

/** What the log knows about one segment file. */
export interface Segment {
  file: string;
  base: bigint;
  /** zxid of the last record before this segment (the header's `prev`). */
  prev: bigint;
  /** zxid of the last record in it, or `prev` when it is empty. */
  last: bigint;
  count: number;
  size: number;
}

export interface LoadedLog {
  segments: Segment[];
  records: LogRecord[];
  /** The final segment ends in a torn record: cut it at `offset`. */
  torn?: { file: string; offset: number; bytes: number; reason: string };
  /** Leftover temp files from a crash while creating a segment. */
  temps: string[];
  /** Empty segments that are not the last (left by a crash while replacing an empty segment). */
  emptyNonFinal: Segment[];
}

export async function loadLogDir(dir: string, opts: { fs: FileSystem; maxRecordBytes: number; afterZxid?: bigint; logger: StorageLogger }): Promise<LoadedLog> {
  const found: Array<{ name: string; base: bigint }> = [];
  const temps: string[] = [];
  for (const name of await opts.fs.readdir(dir)) {
    const m = SEGMENT_NAME.exec(name);
    if (m) found.push({ name, base: BigInt(`0x${m[1]!}`) });
    else if (SEGMENT_TEMP_NAME.test(name)) temps.push(path.join(dir, name));
    else opts.logger.warn('txn log: ignoring a file that is not a log segment', { file: path.join(dir, name) });
  }
  found.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));

  const after = opts.afterZxid;
  const records: LogRecord[] = [];
  const segments: Segment[] = [];
  let torn: LoadedLog['torn'];
  for (let i = 0; i < found.length; i++) {
    const { name, base } = found[i]!;
    const file = path.join(dir, name);
    const scan = await scanSegment(file, {
      fs: opts.fs,
      base,
      final: i === found.length - 1,
      maxRecordBytes: opts.maxRecordBytes,
      onRecord: (zxid, payload) => {
        if (after === undefined || zxid > after) records.push({ zxid, payload: Buffer.from(payload) });
      },
    });
    const before = segments.at(-1);
    if (before && scan.header.prev !== before.last) {
      throw new CorruptLogError(
        file,
        16,
        `segment says the log before it ends at zxid 0x${scan.header.prev.toString(16)}, but ${before.file} ends at 0x${before.last.toString(16)}: a segment is missing or was cut short`,
      );
    }
    segments.push({ file, base, prev: scan.header.prev, last: scan.lastZxid, count: scan.count, size: scan.validEnd });
    if (scan.torn) torn = { file, ...scan.torn };
  }
  const first = segments[0];
  if (after !== undefined && first && after < first.prev) {
    throw new LogRangeError(dir, `records after zxid 0x${after.toString(16)} were asked for, but the log only holds those after 0x${first.prev.toString(16)} (older segments were purged)`);
  }
  const emptyNonFinal = segments.slice(0, -1).filter((s) => s.count === 0);
  return { segments, records, torn, temps, emptyNonFinal };
}
