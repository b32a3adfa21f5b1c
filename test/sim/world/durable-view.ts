/**
 * What a server's disk would keep through a power cut, read straight from the simulated file
 * system: the zxids of the log records and snapshots that are durable. Used to check the
 * promises a server makes on the wire (an ACK says "durable up to here") against its disk.
 */
import { crc32c } from '../../../src/server/storage/crc32c.js';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, SEGMENT_NAME } from '../../../src/server/storage/log-format.js';
import type { SimFileSystem } from '../io/sim-fs.js';

const SNAPSHOT_NAME = /^snapshot\.([0-9a-f]{16})$/;

/** zxids of the valid records in the durable part of each log segment (up to a torn tail). */
export function durableLogZxids(fs: SimFileSystem, dataDir = '/data'): Set<number> {
  const out = new Set<number>();
  for (const file of fs.listDurableFiles()) {
    const name = file.slice(file.lastIndexOf('/') + 1);
    if (!file.startsWith(`${dataDir}/log/`) || !SEGMENT_NAME.test(name)) continue;
    const b = fs.readDurable(file);
    if (!b) continue;
    for (let pos = SEGMENT_HEADER_BYTES; pos + RECORD_HEADER_BYTES <= b.length; ) {
      const len = b.readUInt32BE(pos + 4);
      const end = pos + RECORD_HEADER_BYTES + len;
      if (end > b.length || b.readUInt32BE(pos) !== crc32c(b, 0, pos + 4, end)) break;
      out.add(Number(b.readBigUInt64BE(pos + 8)));
      pos = end;
    }
  }
  return out;
}

/** zxid of the newest durable snapshot, 0 if none (snapshots are synced before they are named). */
export function durableSnapshotZxid(fs: SimFileSystem, dataDir = '/data'): number {
  let best = 0;
  for (const file of fs.listDurableFiles()) {
    if (!file.startsWith(`${dataDir}/snap/`)) continue;
    const m = SNAPSHOT_NAME.exec(file.slice(file.lastIndexOf('/') + 1));
    if (m) best = Math.max(best, Number(BigInt(`0x${m[1]!}`)));
  }
  return best;
}

/** Whether the txn at `zxid` would survive a power cut now (in the log, or covered by a snapshot). */
export function durableThrough(fs: SimFileSystem, zxid: number): boolean {
  return zxid === 0 || zxid <= durableSnapshotZxid(fs) || durableLogZxids(fs).has(zxid);
}
