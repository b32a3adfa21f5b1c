/**
 * The core's in-memory view of its txn log: entries after `base` (the zxid of the latest snapshot
 * the log was compacted to). It mirrors the driver's log exactly: every mutation here is paired
 * with an appendLog / truncateLog / installSnapshot action, or follows a snapshotInstalled input.
 */
import { invariant } from './errors.js';
import type { LogEntry } from './types.js';
import { formatZxid, isNextZxid } from './zxid.js';

export class MemLog {
  private entries: LogEntry[] = [];
  private baseZxid: number;

  constructor(base: number, entries: readonly LogEntry[]) {
    this.baseZxid = base;
    for (const e of entries) this.append(e);
  }

  get base(): number {
    return this.baseZxid;
  }

  get lastZxid(): number {
    const last = this.entries[this.entries.length - 1];
    return last === undefined ? this.baseZxid : last.zxid;
  }

  get length(): number {
    return this.entries.length;
  }

  /** Index of zxid in entries, or -1. */
  private indexOf(zxid: number): number {
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const z = (this.entries[mid] as LogEntry).zxid;
      if (z === zxid) return mid;
      if (z < zxid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Index of the first entry with zxid > given. */
  private upperBound(zxid: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.entries[mid] as LogEntry).zxid <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether zxid is the base or an entry of this log. */
  has(zxid: number): boolean {
    return zxid === this.baseZxid || this.indexOf(zxid) >= 0;
  }

  get(zxid: number): LogEntry | undefined {
    const i = this.indexOf(zxid);
    return i < 0 ? undefined : this.entries[i];
  }

  /** Largest zxid <= given among base and entries; undefined if zxid < base. */
  floor(zxid: number): number | undefined {
    if (zxid < this.baseZxid) return undefined;
    const i = this.upperBound(zxid);
    return i === 0 ? this.baseZxid : (this.entries[i - 1] as LogEntry).zxid;
  }

  /** Entries with after < zxid <= upTo. */
  range(after: number, upTo: number = Number.MAX_SAFE_INTEGER): LogEntry[] {
    invariant(after >= this.baseZxid, () => `range after ${formatZxid(after)} reaches below base ${formatZxid(this.baseZxid)}`);
    return this.entries.slice(this.upperBound(after), this.upperBound(upTo));
  }

  /** Whether `zxid` may be appended (see isNextZxid). */
  canAppend(zxid: number): boolean {
    return isNextZxid(this.lastZxid, zxid);
  }

  append(e: LogEntry): void {
    invariant(this.canAppend(e.zxid), () => `append ${formatZxid(e.zxid)} does not follow ${formatZxid(this.lastZxid)}`);
    this.entries.push(e);
  }

  /** Drop entries with zxid > after. */
  truncateAfter(after: number): void {
    invariant(after >= this.baseZxid, () => `truncate to ${formatZxid(after)} below base ${formatZxid(this.baseZxid)}`);
    this.entries.length = this.upperBound(after);
  }

  /** Forget entries <= zxid (they are in a snapshot now). */
  compact(zxid: number): void {
    if (zxid <= this.baseZxid) return;
    const i = this.upperBound(zxid);
    this.entries = this.entries.slice(i);
    this.baseZxid = zxid;
  }

  /** Replace everything by a snapshot at zxid. */
  reset(zxid: number): void {
    this.entries = [];
    this.baseZxid = zxid;
  }
}
