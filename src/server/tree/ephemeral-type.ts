/** org.apache.zookeeper.server.EphemeralType and CreateMode helpers. */

export const CONTAINER_EPHEMERAL_OWNER = -(1n << 63n); // Long.MIN_VALUE
const EXTENDED_MASK = -(1n << 56n); // 0xff00000000000000 as a signed long
const RESERVED_BITS_MASK = 0x00ffff0000000000n;
const RESERVED_BITS_SHIFT = 40n;
const EXTENDED_BIT_TTL = 0n;
/** EXTENDED_FEATURE_VALUE_MASK = 0x000000ffffffffff: the largest TTL in ms (~34 years). */
export const TTL_MAX = 0x000000ffffffffffn;

export type EphemeralKind = 'VOID' | 'NORMAL' | 'CONTAINER' | 'TTL';

/** EphemeralType.get; `extended` is zookeeper.extendedTypesEnabled. */
export function ephemeralType(owner: bigint, extended: boolean): EphemeralKind {
  if (extended && (owner & EXTENDED_MASK) === EXTENDED_MASK) {
    const bit = (owner & RESERVED_BITS_MASK) >> RESERVED_BITS_SHIFT;
    if (bit === EXTENDED_BIT_TTL) return 'TTL';
    throw new RangeError(`Invalid ephemeralOwner. [${owner.toString(16)}]`);
  }
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'CONTAINER';
  return owner === 0n ? 'VOID' : 'NORMAL';
}

export function isValidTtl(ttl: bigint): boolean {
  return ttl > 0n && ttl <= TTL_MAX;
}

/** EphemeralType.TTL.toEphemeralOwner: EXTENDED_MASK | ttl (a negative long). */
export function ttlToEphemeralOwner(ttl: bigint): bigint {
  if (!isValidTtl(ttl)) throw new RangeError(`ttl must be positive and cannot be larger than: ${TTL_MAX}`);
  return BigInt.asIntN(64, EXTENDED_MASK | ttl);
}

/** EphemeralType.TTL.getValue. */
export function ttlOfEphemeralOwner(owner: bigint): bigint {
  return owner & TTL_MAX;
}

export interface CreateModeInfo {
  flag: number;
  ephemeral: boolean;
  sequential: boolean;
  container: boolean;
  ttl: boolean;
}

/** CreateMode.fromFlag; null for an unknown flag (→ BADARGUMENTS). */
export function createModeOf(flag: number): CreateModeInfo | null {
  switch (flag) {
    case 0: return { flag, ephemeral: false, sequential: false, container: false, ttl: false };
    case 1: return { flag, ephemeral: true, sequential: false, container: false, ttl: false };
    case 2: return { flag, ephemeral: false, sequential: true, container: false, ttl: false };
    case 3: return { flag, ephemeral: true, sequential: true, container: false, ttl: false };
    case 4: return { flag, ephemeral: false, sequential: false, container: true, ttl: false };
    case 5: return { flag, ephemeral: false, sequential: false, container: false, ttl: true };
    case 6: return { flag, ephemeral: false, sequential: true, container: false, ttl: true };
    default: return null;
  }
}
