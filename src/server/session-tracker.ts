/**
 * When sessions expire, as ZooKeeper's ExpiryQueue computes it: every touch moves the
 * session's deadline to `now + timeout` rounded UP to the next tick boundary, and expiry is
 * checked once per tick. Pure: the caller passes the clock.
 */
import { createHmac } from 'node:crypto';

interface Tracked {
  timeoutMs: number;
  expiresAtMs: number;
  closing: boolean;
}

export class SessionTracker {
  private readonly sessions = new Map<bigint, Tracked>();
  private nextId: bigint;

  constructor(
    private readonly tickMs: number,
    serverId: number,
    nowMs: number,
  ) {
    // Like ZooKeeper: the server id in the top byte, a time-derived counter below, so ids
    // from different servers (and restarts) do not collide.
    this.nextId = (BigInt(serverId) << 56n) | ((BigInt(Math.floor(nowMs)) << 24n) & 0x00ffffffffffffffn);
  }

  newSessionId(): bigint {
    const id = this.nextId;
    this.nextId += 1n;
    return id;
  }

  private roundUp(ms: number): number {
    return (Math.floor(ms / this.tickMs) + 1) * this.tickMs;
  }

  add(id: bigint, timeoutMs: number, nowMs: number): void {
    this.sessions.set(id, { timeoutMs, expiresAtMs: this.roundUp(nowMs + timeoutMs), closing: false });
    if (id >= this.nextId && id >> 56n === this.nextId >> 56n) this.nextId = id + 1n;
  }

  /** Returns false when the session is unknown or already closing. */
  touch(id: bigint, nowMs: number): boolean {
    const s = this.sessions.get(id);
    if (!s || s.closing) return false;
    const next = this.roundUp(nowMs + s.timeoutMs);
    if (next > s.expiresAtMs) s.expiresAtMs = next;
    return true;
  }

  has(id: bigint): boolean {
    return this.sessions.has(id);
  }

  isActive(id: bigint): boolean {
    const s = this.sessions.get(id);
    return s !== undefined && !s.closing;
  }

  timeoutOf(id: bigint): number | undefined {
    return this.sessions.get(id)?.timeoutMs;
  }

  /** Marks a session as closing (its closeSession is in flight): no further requests. */
  setClosing(id: bigint): void {
    const s = this.sessions.get(id);
    if (s) s.closing = true;
  }

  remove(id: bigint): void {
    this.sessions.delete(id);
  }

  /** Sessions whose deadline has passed and that are not already closing. */
  expired(nowMs: number): bigint[] {
    const out: bigint[] = [];
    for (const [id, s] of this.sessions) if (!s.closing && s.expiresAtMs <= nowMs) out.push(id);
    return out;
  }

  get size(): number {
    return this.sessions.size;
  }

  entries(): IterableIterator<[bigint, { timeoutMs: number; expiresAtMs: number }]> {
    return this.sessions.entries();
  }
}

const PASSWORD_KEY = 'zk-elect session password v1';

/**
 * Session passwords are derived from the id, so any server of a cluster (and a restarted
 * one) can check them without sharing state — the same design as ZooKeeper's superSecret.
 */
export function sessionPassword(id: bigint): Buffer {
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigInt64BE(BigInt.asIntN(64, id));
  return createHmac('sha256', PASSWORD_KEY).update(idBytes).digest().subarray(0, 16);
}
