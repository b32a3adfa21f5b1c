/**
 * Follows an election without taking part: reports the ordered candidates and the leader
 * whenever the set of candidates changes. It watches the children of the election path,
 * which is right for an observer (one watch per observer); candidates never do this.
 */
import { EventEmitter } from 'node:events';
import { readCandidates, type LeaderInfo } from './candidates.js';
import { ConnectionLossError, OperationTimeoutError, SessionExpiredError, ZooKeeperError } from './errors.js';
import { validatePath } from './names.js';
import type { ZkSession } from './session.js';
import { ZkCode } from './zk-types.js';

export interface ObserverEvents {
  /** Any change of the candidate list (including the first read). */
  candidates: [list: LeaderInfo[]];
  /** The leader changed (undefined: nobody stands). */
  leader: [leader: LeaderInfo | undefined, previous: LeaderInfo | undefined];
  error: [error: Error];
}

export class LeaderObserver extends EventEmitter<ObserverEvents> implements AsyncDisposable {
  readonly path: string;
  private current: LeaderInfo | undefined;
  private list: LeaderInfo[] = [];
  private closed = false;
  private dirty = false;
  private running: Promise<void> | undefined;
  private readonly detach: Array<() => void> = [];

  constructor(
    readonly session: ZkSession,
    path = '/election',
  ) {
    super();
    this.path = validatePath(path);
    const kick = () => void this.kick();
    for (const ev of ['restored', 'renewed'] as const) {
      session.on(ev, kick);
      this.detach.push(() => session.off(ev, kick));
    }
  }

  get leader(): LeaderInfo | undefined {
    return this.current;
  }

  get candidates(): readonly LeaderInfo[] {
    return this.list;
  }

  /** Starts following; resolves after the first read. */
  async start(): Promise<this> {
    await this.kick();
    return this;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.detach.splice(0)) off();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private kick(): Promise<void> {
    this.dirty = true;
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    while (this.dirty && !this.closed && !this.session.isClosed) {
      this.dirty = false;
      try {
        await this.read();
      } catch (e) {
        if (e instanceof SessionExpiredError || e instanceof ConnectionLossError || e instanceof OperationTimeoutError) return;
        if (this.listenerCount('error') > 0) this.emit('error', e as Error);
        return;
      }
    }
  }

  private async read(): Promise<void> {
    const watcher = () => {
      if (!this.closed) void this.kick();
    };
    try {
      await this.session.getChildren(this.path, watcher);
    } catch (e) {
      if (!(e instanceof ZooKeeperError && e.code === ZkCode.NONODE)) throw e;
      // No election yet: watch for the path to appear.
      if ((await this.session.exists(this.path, watcher)) !== null) this.dirty = true;
    }
    const list = await readCandidates(this.session, this.path);
    if (this.closed) return;
    this.list = list;
    this.emit('candidates', list);
    const next = list[0];
    if (next?.node !== this.current?.node) {
      const previous = this.current;
      this.current = next;
      this.emit('leader', next, previous);
    }
  }
}
