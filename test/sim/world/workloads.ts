/**
 * What simulated clients do, through the real request path of the real servers:
 *   registers  compare-and-set on a few znodes, recorded as a history for the linearizability
 *              checker (a read is a sync followed by getData);
 *   sequence   sequential creates (every acknowledged one must survive on every server),
 *              an ephemeral of the session (it may vanish only with its session), and a data
 *              watch that must fire once, and before newer data can be read;
 * The election workload (the library's recipe) is in election-workload.ts.
 */
import { CreateMode, ErrorCode, EventType } from '../../../src/protocol/index.js';
import { Op, Res, type HistoryOp, type RegisterResult } from '../checkers/linearizability.js';
import { ClientMachine, loop } from './clients.js';
import type { Recorder } from './recorder.js';
import type { SimWorld } from './world.js';

const CODE: Record<number, 'NODEEXISTS' | 'BADVERSION' | 'NONODE' | undefined> = {
  [ErrorCode.NODEEXISTS]: 'NODEEXISTS',
  [ErrorCode.BADVERSION]: 'BADVERSION',
  [ErrorCode.NONODE]: 'NONODE',
};

/** A server's definite answer, or undefined (the op may or may not have happened). */
function definite(err: number, ok: () => RegisterResult): RegisterResult | undefined {
  if (err === ErrorCode.OK) return ok();
  const code = CODE[err];
  return code ? Res.err(code) : undefined;
}

export class RegisterWorkload {
  readonly history: HistoryOp[] = [];
  private nextId = 0;
  private readonly keys: string[];

  constructor(
    private readonly world: SimWorld,
    private readonly recorder: Recorder,
    readonly clients: number,
    keys: number,
  ) {
    this.keys = Array.from({ length: keys }, (_, i) => `/reg/k${i}`);
  }

  start(running: () => boolean): void {
    for (let c = 0; c < this.clients; c++) {
      const m = new ClientMachine(this.world, `cas${c}`, this.world.rng.int(6, 12) * this.world.tickMs, this.recorder);
      const versions = new Map<string, number>();
      let n = 0;
      void loop(m, running, [0, 30], async () => {
        const key = m.rng.pick(this.keys);
        const dice = m.rng.next();
        const value = `${m.name}-${n++}`;
        if (dice < 0.4) return this.read(m, key, versions);
        if (dice < 0.75) {
          const expected = versions.get(key) ?? -1;
          return this.record(m, key, Op.set(value, expected), async () => {
            const r = await m.client.setData(key, Buffer.from(value), expected);
            if (r.stat) versions.set(key, r.stat.version);
            return definite(r.err, () => Res.written(r.stat!.version));
          });
        }
        if (dice < 0.9) {
          return this.record(m, key, Op.create(value), async () => {
            const r = await m.client.create(key, Buffer.from(value), CreateMode.PERSISTENT);
            // /reg was created before any fault: its absence is lost data, not a register answer.
            if (r.err === ErrorCode.NONODE) this.recorder.fail(`${m.name}: create ${key} answered NONODE: its parent /reg is gone (server ${m.client.server})`);
            return r.err === ErrorCode.NONODE ? undefined : definite(r.err, Res.ok);
          });
        }
        const expected = versions.get(key) ?? -1;
        return this.record(m, key, Op.delete(expected), async () => definite((await m.client.delete(key, expected)).err, Res.ok));
      });
    }
  }

  private async read(m: ClientMachine, key: string, versions: Map<string, number>): Promise<void> {
    await this.record(m, key, Op.read(), async () => {
      const s = await m.client.sync(key);
      if (s.err !== ErrorCode.OK) return undefined;
      const r = await m.client.getData(key);
      if (r.err === ErrorCode.OK) versions.set(key, r.stat!.version);
      return definite(r.err, () => Res.data(r.data?.toString() ?? '', r.stat!.version));
    });
  }

  private async record(m: ClientMachine, key: string, op: HistoryOp['op'], run: () => Promise<RegisterResult | undefined>): Promise<void> {
    const h: HistoryOp = { id: this.nextId++, client: m.name, key, op, invokeMs: this.world.sched.now };
    this.history.push(h);
    const result = await run();
    if (result !== undefined) {
      h.result = result;
      h.completeMs = this.world.sched.now;
    }
  }
}

export class SequenceWorkload {
  /** Paths of acknowledged sequential creates: each must be on every server at the end. */
  readonly acked: string[] = [];
  private readonly machines: ClientMachine[] = [];

  constructor(
    private readonly world: SimWorld,
    private readonly recorder: Recorder,
    readonly clients: number,
  ) {}

  start(running: () => boolean): void {
    for (let c = 0; c < this.clients; c++) {
      const m = new ClientMachine(this.world, `seq${c}`, this.world.rng.int(4, 12) * this.world.tickMs, this.recorder);
      this.machines.push(m);
      void this.creates(m, running);
      void this.watcher(m, running);
    }
    const writer = new ClientMachine(this.world, 'writer', 10 * this.world.tickMs, this.recorder);
    let n = 0;
    void loop(writer, running, [20, 80], async () => {
      await writer.client.setData('/watched', Buffer.from(`w${n++}`), -1);
    });
  }

  private async creates(m: ClientMachine, running: () => boolean): Promise<void> {
    let ephemeralOf: bigint | undefined;
    let n = 0;
    await loop(m, running, [10, 60], async () => {
      const sid = m.client.sessionId;
      if (sid !== 0n && ephemeralOf !== sid && m.client.state === 'connected') {
        const e = await m.client.create(`/eph/${sid.toString(16)}`, null, CreateMode.EPHEMERAL);
        if (e.err === ErrorCode.OK || e.err === ErrorCode.NODEEXISTS) ephemeralOf = sid;
      }
      const r = await m.client.create('/seq/n-', Buffer.from(`${m.name}-${n++}`), CreateMode.PERSISTENT_SEQUENTIAL);
      if (r.err === ErrorCode.OK && r.path) this.acked.push(r.path);
      if (ephemeralOf === sid && sid !== 0n) {
        // Our own ephemeral must exist as long as our session does.
        const s = await m.client.sync(`/eph/${sid.toString(16)}`);
        const x = await m.client.exists(`/eph/${sid.toString(16)}`);
        if (s.err === ErrorCode.OK && x.err === ErrorCode.NONODE && m.client.sessionId === sid && m.client.state === 'connected') {
          this.recorder.fail(`${m.name}: the ephemeral of live session 0x${sid.toString(16)} is gone (server ${m.client.server})`);
        }
      }
    });
  }

  /**
   * A data watch on /watched: after registering it at version v, no read may show a version
   * above v before the notification arrives, and each registration fires at most once.
   */
  private async watcher(m: ClientMachine, running: () => boolean): Promise<void> {
    let armed: { version: number; session: bigint } | undefined;
    await loop(m, running, [5, 40], async () => {
      const sid = m.client.sessionId;
      if (armed && armed.session !== sid) armed = undefined; // a new session has no watches
      if (armed === undefined) {
        let fired = false;
        const registration = { version: -1, session: sid };
        const r = await m.client.getData('/watched', (e) => {
          if (e.type !== EventType.NodeDataChanged && e.type !== EventType.NodeDeleted) return;
          if (fired) this.recorder.fail(`${m.name}: one registration of a data watch on /watched fired twice`);
          fired = true;
          if (armed === registration) armed = undefined;
        });
        if (r.err === ErrorCode.OK && r.stat && !fired) {
          registration.version = r.stat.version;
          armed = registration;
        }
        return;
      }
      const watch = armed;
      const r = await m.client.getData('/watched');
      if (r.err === ErrorCode.OK && r.stat && armed === watch && r.stat.version > watch.version && m.client.sessionId === watch.session) {
        this.recorder.fail(`${m.name}: read version ${r.stat.version} of /watched before the watch set at version ${watch.version} fired (server ${m.client.server})`);
      }
    });
  }
}
