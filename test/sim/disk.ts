/**
 * In-memory "disk" of one simulated server. Honest durability: an appended entry is durable only
 * once the simulator completes its fsync; a crash loses everything not yet durable. Epoch writes,
 * truncation and snapshot installation are synchronous and durable, as the driver contract says.
 */
import type { LogEntry, ZabDurableState } from '../../src/server/zab/index.js';

export interface DiskEntry {
  readonly entry: LogEntry;
  durable: boolean;
}

export class SimDisk {
  acceptedEpoch = 0;
  currentEpoch = 0;
  snapshot: { zxid: number; applied: LogEntry[] } = { zxid: 0, applied: [] };
  log: DiskEntry[] = [];
  /** Bumped by truncate/install: fsync completions issued before are void. */
  gen = 0;

  append(entries: readonly LogEntry[]): void {
    for (const entry of entries) this.log.push({ entry, durable: false });
  }

  /** Complete an fsync up to zxid. */
  sync(upTo: number): void {
    for (const d of this.log) if (d.entry.zxid <= upTo) d.durable = true;
  }

  flushAll(): void {
    for (const d of this.log) d.durable = true;
    this.gen++;
  }

  truncateAfter(zxid: number): void {
    this.flushAll();
    this.log = this.log.filter((d) => d.entry.zxid <= zxid);
  }

  install(zxid: number, applied: LogEntry[], entries: readonly LogEntry[]): void {
    this.gen++;
    this.snapshot = { zxid, applied };
    this.log = entries.map((entry) => ({ entry, durable: true }));
  }

  /** A local snapshot of the applied state; purge the log up to it. */
  takeSnapshot(zxid: number, applied: LogEntry[]): void {
    this.snapshot = { zxid, applied };
    this.log = this.log.filter((d) => d.entry.zxid > zxid);
  }

  /** Whether every log entry with zxid <= given is durable (what an ACK claims). */
  durableThrough(zxid: number): boolean {
    return this.log.every((d) => d.durable || d.entry.zxid > zxid);
  }

  crash(): void {
    this.log = this.log.filter((d) => d.durable);
    this.gen++;
  }

  restore(): ZabDurableState {
    return {
      acceptedEpoch: this.acceptedEpoch,
      currentEpoch: this.currentEpoch,
      snapshotZxid: this.snapshot.zxid,
      log: this.log.filter((d) => d.durable && d.entry.zxid > this.snapshot.zxid).map((d) => d.entry),
    };
  }
}

/** Snapshot bytes of the model state machine: the applied entries, as JSON. */
export function encodeApplied(applied: readonly LogEntry[]): Buffer {
  return Buffer.from(JSON.stringify(applied.map((e) => [e.zxid, e.payload.toString('latin1')])));
}

export function decodeApplied(bytes: Buffer): LogEntry[] {
  const raw = JSON.parse(bytes.toString()) as [number, string][];
  return raw.map(([zxid, p]) => ({ zxid, payload: Buffer.from(p, 'latin1') }));
}
