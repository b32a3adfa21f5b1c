/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), written here so the storage layer
 * has no dependency (Node 20 has no built-in CRC). Castagnoli rather than the zlib CRC-32
 * because its Hamming distance is better at the record sizes a log holds, which is why
 * iSCSI, ext4 metadata and most storage formats chose it.
 *
 * Slice-by-8 tables: eight bytes per step instead of one, so verifying a 64 MiB segment on
 * open costs tens of milliseconds rather than hundreds.
 */

const POLY = 0x82f63b78;

/** TABLES[k * 256 + b]: the CRC of byte b followed by k zero bytes. */
const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + i]!;
      t[k * 256 + i] = ((prev >>> 8) ^ t[prev & 0xff]!) >>> 0;
    }
  }
  return t;
})();

/**
 * Extends `crc` (a finished CRC-32C, 0 for "nothing yet") over buf[start, end).
 * Chaining update(update(0, a), b) equals update(0, a ++ b), so callers can checksum a
 * header and a payload that live in different buffers without concatenating them.
 */
export function crc32c(buf: Uint8Array, crc = 0, start = 0, end = buf.length): number {
  const t = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  // Eight bytes at a time while at least eight remain.
  for (; i + 8 <= end; i += 8) {
    const a = (c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    const b = (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24)) >>> 0;
    c =
      t[7 * 256 + (a & 0xff)]! ^
      t[6 * 256 + ((a >>> 8) & 0xff)]! ^
      t[5 * 256 + ((a >>> 16) & 0xff)]! ^
      t[4 * 256 + (a >>> 24)]! ^
      t[3 * 256 + (b & 0xff)]! ^
      t[2 * 256 + ((b >>> 8) & 0xff)]! ^
      t[256 + ((b >>> 16) & 0xff)]! ^
      t[b >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
