/**
 * What followers and the leader tell each other on top of ZAB's opaque REQUEST/OPAQUE
 * messages:
 *   follower -> leader: forwarded writes (prepped on the leader, with the origin's session,
 *     cxid and auth ids), session touches, sync round trips, revalidation of a session a
 *     client reattaches here, and answers to the leader's idle queries;
 *   leader -> follower: sync answers, revalidation answers, idle queries, and `hold` (stop
 *     reading clients' writes while the leader's proposals are at their limit).
 *
 * Encoded as JSON with bigints and Buffers tagged, which keeps the format obvious; the
 * peer link bounds the size.
 *
 * A follower's notes form one ordered stream per following session (`epoch` and `stream`, the
 * session number the leader gave the connection, name it; `seq` counts from 0; session numbers
 * restart with every leader process, hence the epoch): the leader applies them in
 * order and exactly once. TCP already gives that within a connection; the check keeps a
 * duplicated, reordered or half-lost stream from ever applying a write twice or out of order
 * (the leader resets the link instead, as a broken TCP stream would be).
 */
import type { Id } from '../../protocol/records.js';
import type { WriteRequest } from '../tree/types.js';

export type Forwarded =
  | { k: 'write'; sessionId: bigint; cxid: number; authIds: Id[]; request: WriteRequest }
  /** `idleMs[i]`: how long before sending the session was last active here (so the leader's
   * deadline starts at that activity, within a network delay, not at the next tick's batch). */
  | { k: 'touch'; sessionIds: bigint[]; idleMs?: number[] }
  | { k: 'sync'; nonce: number }
  | { k: 'revalidate'; nonce: number; sessionId: bigint; timeoutMs: number }
  /** `idleMs` null: the session is unknown here (idle forever). */
  | { k: 'idle'; nonce: number; sessionId: bigint; idleMs: number | null };

export type LeaderNote =
  | { k: 'synced'; nonce: number; zxid: number }
  /** Backpressure: stop (on) or resume reading the clients that have writes in flight. A leader
   * renews `on` every tick while it lasts; a follower lets go after two ticks without it. */
  | { k: 'hold'; on: boolean }
  | { k: 'revalidated'; nonce: number; live: boolean }
  | { k: 'idleQuery'; nonce: number; sessionId: bigint; timeoutMs: number };

export interface Sequenced {
  epoch: number;
  stream: number;
  seq: number;
  note: Forwarded;
}

export function encodeNote(v: Forwarded | LeaderNote | Sequenced): Buffer {
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

export function decodeNote<T extends Forwarded | LeaderNote | Sequenced>(bytes: Buffer): T {
  return JSON.parse(bytes.toString('utf8'), (_key, value: unknown) => {
    if (value && typeof value === 'object') {
      const o = value as { $big?: string; $buf?: string };
      if (typeof o.$big === 'string') return BigInt(o.$big);
      if (typeof o.$buf === 'string') return Buffer.from(o.$buf, 'base64');
    }
    return value;
  }) as T;
}
