/**
 * A load-generating client process, forked by the benchmarks (bench/lib/pool.ts) so that the
 * client work runs beside, not inside, the process that times things. Commands arrive over
 * the IPC channel; each gets one reply. Writers use the official ZooKeeper C client (the npm
 * `zookeeper` binding), the same client for both servers; the reader uses our wire-protocol
 * test client (test/support/raw-client.ts), whose request timeout is long enough (120 s) to
 * time any stall instead of giving up on it.
 *
 * The process exits when its parent goes away.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawClient } from '../../test/support/raw-client.js';
import { fillPath, type DriverCommand, type FillResult, type OpsResult, type ReadSamples } from './workload.js';

type Cb = (rc: number, ...rest: unknown[]) => void;
interface Native {
  on(e: string, f: (...a: unknown[]) => void): void;
  init(o: object): void;
  close(): void;
  a_create(p: string, d: Buffer, f: number, cb: Cb): number;
  a_set(p: string, d: Buffer, v: number, cb: Cb): number;
  a_get(p: string, w: boolean, cb: Cb): number;
}
const ZK = createRequire(import.meta.url)('zookeeper') as new (o: object) => Native;

const ZOK = 0;
const ZNODEEXISTS = -110;

let zk: Native | undefined;
const wall = () => performance.timeOrigin + performance.now();

function connect(connectString: string, sessionTimeoutMs: number): Promise<void> {
  // response_counter_limit: the npm binding closes the session after 10 socket events in a row
  // that complete no reply (its default), which a 1 MiB reply arriving in pieces hits at once.
  const c = new ZK({ connect: connectString, timeout: sessionTimeoutMs, debug_level: Number(process.env['ZK_DEBUG'] ?? 0), data_as_buffer: true, response_counter_limit: 1_000_000 });
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no connection to ${connectString} within 30 s`)), 30_000);
    c.on('connect', () => {
      clearTimeout(t);
      zk = c;
      resolve();
    });
    c.init({});
  });
}

function client(): Native {
  if (!zk) throw new Error('not connected');
  return zk;
}

function once(op: 'create' | 'setData' | 'getData', path: string, data: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const c = client();
    const cb: Cb = (rc) => resolve(rc);
    const rc = op === 'create' ? c.a_create(path, data, 0, cb) : op === 'setData' ? c.a_set(path, data, -1, cb) : c.a_get(path, false, cb);
    if (rc !== ZOK) resolve(rc);
  });
}

/** A create that may have been applied before its connection dropped counts once (NODEEXISTS). */
async function createRetrying(path: string, data: Buffer): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const rc = await once('create', path, data);
    if (rc === ZOK || rc === ZNODEEXISTS) return true;
    await sleep(200);
  }
  return false;
}

async function fill(c: Extract<DriverCommand, { cmd: 'fill' }>): Promise<FillResult> {
  const data = Buffer.alloc(c.valueBytes, 'x');
  await createRetrying(c.prefix, Buffer.alloc(0)); // the fill's root (already there after the first fill)
  let next = c.from;
  let created = 0;
  let errors = 0;
  const t0 = performance.now();
  let lastReport = t0;
  const step = Math.max(1, Math.floor((c.to - c.from) / 200));
  const worker = async () => {
    while (next < c.to) {
      const i = next++;
      if (await createRetrying(fillPath(c.prefix, i, c.perParent), data)) created++;
      else errors++;
      const now = performance.now();
      if ((created + errors) % step === 0 || now - lastReport > 500) {
        lastReport = now;
        process.send!({ progress: c.from + created + errors });
      }
    }
  };
  await Promise.all(Array.from({ length: c.inflight }, worker));
  return { created, errors, elapsedMs: performance.now() - t0, lastPath: fillPath(c.prefix, c.to - 1, c.perParent) };
}

async function keys(c: Extract<DriverCommand, { cmd: 'keys' }>): Promise<{ created: number; firstError?: number }> {
  // Created empty, then set: a create's frame also carries the ACL, so the largest value a
  // setData takes would not fit in a create.
  const data = Buffer.alloc(c.valueBytes, 'k');
  await createRetrying(c.root, Buffer.alloc(0));
  let created = 0;
  let firstError: number | undefined;
  for (let i = 0; i < c.n; i++) {
    const path = `${c.root}/k${i}`;
    const rc = (await createRetrying(path, Buffer.alloc(0))) ? await once('setData', path, data) : -1;
    if (rc === ZOK) created++;
    else firstError ??= rc;
  }
  return { created, ...(firstError === undefined ? {} : { firstError }) };
}

async function ops(c: Extract<DriverCommand, { cmd: 'ops' }>): Promise<OpsResult> {
  const data = Buffer.alloc(c.valueBytes, 'v');
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: number | undefined;
  if (c.op === 'create') await createRetrying(c.root, Buffer.alloc(0));
  const start = performance.now();
  const worker = async () => {
    // A run that keeps failing (a refused frame closes the connection) stops after 50 errors.
    while (issued < c.maxOps && performance.now() - start < c.ms && errors < 50) {
      const i = issued++;
      const path = c.op === 'create' ? `${c.root}/n${i}` : `${c.root}/k${i % c.keys}`;
      const s = performance.now();
      const rc = await once(c.op, path, data);
      if (rc === ZOK) latencies.push(performance.now() - s);
      else {
        errors++;
        firstError ??= rc;
      }
    }
  };
  await Promise.all(Array.from({ length: c.inflight }, worker));
  return { count: latencies.length, errors, elapsedMs: performance.now() - start, latencies, ...(firstError === undefined ? {} : { firstError }) };
}

let reader: { stop: boolean; done: Promise<ReadSamples> } | undefined;

async function readLoop(c: Extract<DriverCommand, { cmd: 'read-start' }>, state: { stop: boolean }, started: () => void): Promise<ReadSamples> {
  const out: ReadSamples = { at: [], ms: [], errors: [] };
  const open = () => RawClient.connect(c.address, { timeoutMs: c.sessionTimeoutMs ?? 30_000, requestTimeoutMs: 120_000, handshakeTimeoutMs: 30_000 });
  let rc = await open();
  let first = true;
  const deadline = performance.now() + 60 * 60_000; // bounded: an hour at most
  while (!state.stop && performance.now() < deadline) {
    const at = wall();
    const s = performance.now();
    try {
      const r = await rc.getData(c.path);
      const ms = performance.now() - s;
      if (r.err === 0) {
        out.at.push(at);
        out.ms.push(ms);
      } else out.errors.push({ at, error: r.errName });
      if (r.errName === 'CONNECTIONLOSS' || rc.closed) rc = await open();
      if (rc.arrivals.length > 10_000) rc.arrivals.length = 0; // the test client keeps every reply
    } catch (e) {
      out.errors.push({ at, error: (e as Error).message });
      rc.destroy();
      rc = await open();
    }
    if (first) {
      first = false;
      started();
    }
    if (c.gapMs > 0) await sleep(c.gapMs);
  }
  await rc.close().catch(() => undefined);
  return out;
}

async function handle(c: DriverCommand): Promise<unknown> {
  switch (c.cmd) {
    case 'connect':
      await connect(c.connect, c.sessionTimeoutMs ?? 30_000);
      return {};
    case 'fill':
      return fill(c);
    case 'keys':
      return keys(c);
    case 'ops':
      return ops(c);
    case 'read-start': {
      const state = { stop: false };
      let started!: () => void;
      const first = new Promise<void>((r) => (started = r));
      const done = readLoop(c, state, started);
      reader = {
        get stop() {
          return state.stop;
        },
        set stop(v: boolean) {
          state.stop = v;
        },
        done,
      };
      await Promise.race([first, done]);
      return {};
    }
    case 'read-stop': {
      if (!reader) throw new Error('no reader running');
      reader.stop = true;
      const samples = await reader.done;
      reader = undefined;
      return samples;
    }
    case 'close':
      zk?.close();
      zk = undefined;
      setTimeout(() => process.exit(0), 50);
      return {};
  }
}

process.on('message', (m: { id: number; command: DriverCommand }) => {
  handle(m.command).then(
    (result) => process.send!({ id: m.id, ok: true, result }),
    (e: unknown) => process.send!({ id: m.id, ok: false, error: (e as Error).stack ?? String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
