/**
 * Which sessions are alive, as the server that decides expiry (a standalone server, or the
 * cluster leader) sees them. Pure: the caller passes monotonic readings (ZOOKEEPER-1366: a
 * wall-clock step must not expire every session at once).
 *
 * A session expires `timeoutMs` after its last touch, exactly, not rounded up to a tick as
 * ZooKeeper's ExpiryQueue does. In a cluster each session has an owner, the server its client
 * is connected to (ZOOKEEPER-417's "session moved"): the leader takes touches and writes only
 * from the owner, and before expiring a session another server owns it asks that server (see
 * SessionManager). `touch(id, at)` never moves a deadline back, so "hold until" is a touch at a
 * future time: how a new owner, or a new leader, keeps a session alive while an old owner might
 * still be answering its client.
 */
interface Tracked {
  timeoutMs: number;
  /** Monotonic ms: the session expires at lastTouch + timeoutMs. */
  lastTouch: number;
  /** Server id of the owner; undefined when unknown (after a leader change) or standalone. */
  owner: number | undefined;
  closing: boolean;
}

export class SessionTracker {
  private readonly sessions = new Map<bigint, Tracked>();
  private nextId: bigint;

  /**
   * `now` is the clock every session deadline is measured on (monotonic); `wallMs` only seeds
   * the id space, nothing is timed with it.
   */
  constructor(
    serverId: number,
    wallMs: number,
    readonly now: () => number,
  ) {
    // Like ZooKeeper: the server id in the top byte, a time-derived counter below, so ids
    // from different servers (and restarts) do not collide.
    this.nextId = (BigInt(serverId) << 56n) | ((BigInt(Math.floor(wallMs)) << 24n) & 0x00ffffffffffffffn);
  }

  newSessionId(): bigint {
    const id = this.nextId;
    this.nextId += 1n;
    return id;
  }

  /** Starts (or restarts) tracking; the deadline is `nowMono + timeoutMs` or later. */
  add(id: bigint, timeoutMs: number, nowMono: number, owner?: number): void {
    const old = this.sessions.get(id);
    this.sessions.set(id, { timeoutMs, lastTouch: Math.max(nowMono, old?.lastTouch ?? -Infinity), owner: owner ?? old?.owner, closing: false });
    if (id >= this.nextId && id >> 56n === this.nextId >> 56n) this.nextId = id + 1n;
  }

  /** Returns false when the session is unknown or already closing. */
  touch(id: bigint, atMono: number): boolean {
    const s = this.sessions.get(id);
    if (!s || s.closing) return false;
    if (atMono > s.lastTouch) s.lastTouch = atMono;
    return true;
  }

  ownerOf(id: bigint): number | undefined {
    return this.sessions.get(id)?.owner;
  }

  /** The session's client now talks to `owner`. */
  setOwner(id: bigint, owner: number | undefined): void {
    const s = this.sessions.get(id);
    if (s) s.owner = owner;
  }

  setTimeout(id: bigint, timeoutMs: number): void {
    const s = this.sessions.get(id);
    if (s) s.timeoutMs = timeoutMs;
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

  /** A closeSession that was prepared but will never commit (leadership moved): usable again. */
  clearClosing(): void {
    for (const s of this.sessions.values()) s.closing = false;
  }

  remove(id: bigint): void {
    this.sessions.delete(id);
  }

  /** Sessions whose deadline has passed and that are not already closing. */
  due(nowMono: number): bigint[] {
    const out: bigint[] = [];
    for (const [id, s] of this.sessions) if (!s.closing && s.lastTouch + s.timeoutMs <= nowMono) out.push(id);
    return out;
  }

  /** Monotonic time of the session's deadline. */
  deadlineOf(id: bigint): number | undefined {
    const s = this.sessions.get(id);
    return s && s.lastTouch + s.timeoutMs;
  }

  get size(): number {
    return this.sessions.size;
  }

  ids(): IterableIterator<bigint> {
    return this.sessions.keys();
  }
}
