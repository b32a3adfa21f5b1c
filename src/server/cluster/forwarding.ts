/**
 * What followers and the leader tell each other on top of ZAB's opaque REQUEST/OPAQUE
 * messages: forwarded writes (prepped on the leader, with the origin's session, cxid and
 * auth ids), session touches (the leader alone decides expiry), and sync round trips.
 *
 * Encoded as JSON with bigints and Buffers tagged, which keeps the format obvious; the
 * peer link bounds the size.
 */
import type { Id } from '../../protocol/records.js';
import type { WriteRequest } from '../tree/types.js';

export type Forwarded =
  | { k: 'write'; sessionId: bigint; cxid: number; authIds: Id[]; request: WriteRequest }
  | { k: 'touch'; sessionIds: bigint[] }
  | { k: 'sync'; nonce: number };

export type LeaderNote = { k: 'synced'; nonce: number; zxid: number };

export function encodeNote(v: Forwarded | LeaderNote): Buffer {
  return Buffer.from(
    JSON.stringify(v, function (this: unknown, _key, value: unknown) {
      if (typeof value === 'bigint') return { $big: value.toString() };
      if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
        return { $buf: Buffer.from((value as { data: number[] }).data).toString('base64') };
      }
      return value;
    }),
  );
}

export function decodeNote<T extends Forwarded | LeaderNote>(bytes: Buffer): T {
  return JSON.parse(bytes.toString('utf8'), (_key, value: unknown) => {
    if (value && typeof value === 'object') {
      const o = value as { $big?: string; $buf?: string };
      if (typeof o.$big === 'string') return BigInt(o.$big);
      if (typeof o.$buf === 'string') return Buffer.from(o.$buf, 'base64');
    }
    return value;
  }) as T;
}
