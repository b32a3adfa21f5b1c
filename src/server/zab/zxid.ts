/**
 * zxid = (epoch << 32) | counter, as in ZooKeeper's ZxidUtils. The core keeps zxids as JS numbers
 * (exact up to 2^53), so epochs are bounded by MAX_EPOCH (2^21 - 1): about two million leader
 * changes, far beyond any real ensemble. The wire codec carries epoch and counter as two u32s.
 *
 * Counter 0 is never a proposal: `makeZxid(e, 0)` is the "start of epoch e" marker. Counter
 * 0xffffffff is never handed out either (ZOOKEEPER-1277): the leader forces a new election, and so
 * a new epoch, before its counter would wrap into the epoch bits.
 */
export const TWO_32 = 0x1_0000_0000;
export const MAX_EPOCH = 0x1f_ffff;
export const MAX_COUNTER = 0xffff_ffff;

export function makeZxid(epoch: number, counter: number): number {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new RangeError(`epoch ${epoch} out of range`);
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) throw new RangeError(`counter ${counter} out of range`);
  return epoch * TWO_32 + counter;
}

export function zxidEpoch(zxid: number): number {
  return Math.floor(zxid / TWO_32);
}

export function zxidCounter(zxid: number): number {
  return zxid % TWO_32;
}

export function isValidZxid(zxid: number): boolean {
  return Number.isInteger(zxid) && zxid >= 0 && zxidEpoch(zxid) <= MAX_EPOCH;
}

/**
 * Whether `next` may directly follow `prev` in a log. Within an epoch counters are consecutive (a
 * leader proposes e:1, e:2, ...); a new epoch starts at counter 1. Because a follower only gets
 * an epoch's entries after syncing to that epoch's leader, any two logs that both hold an entry of
 * epoch e agree on everything before it; this check is what lets a follower detect a lost or
 * reordered proposal instead of silently logging a history with a hole (compare ZOOKEEPER-4925).
 */
export function isNextZxid(prev: number, next: number): boolean {
  const pe = zxidEpoch(prev);
  const ne = zxidEpoch(next);
  if (ne === pe) return zxidCounter(next) === zxidCounter(prev) + 1;
  return ne > pe && zxidCounter(next) === 1;
}

export function formatZxid(zxid: number): string {
  return `${zxidEpoch(zxid).toString(16)}:${zxidCounter(zxid).toString(16)}`;
}

/** For drivers whose storage layer uses bigint zxids (src/server/storage). */
export function zxidToBigInt(zxid: number): bigint {
  return (BigInt(zxidEpoch(zxid)) << 32n) | BigInt(zxidCounter(zxid));
}

export function zxidFromBigInt(z: bigint): number {
  const epoch = Number(z >> 32n);
  const counter = Number(z & 0xffff_ffffn);
  return makeZxid(epoch, counter);
}
