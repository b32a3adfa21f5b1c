/**
 * zk-elect server vs Apache ZooKeeper 3.8, standalone, same machine, same run, same client
 * (the official C client through the npm `zookeeper` binding), fsync on for both.
 *
 *   npm run bench:server [-- --ops 3000 --seconds 4]
 *
 * For 100-byte create, setData and getData at 1, 16 and 128 requests in flight on one
 * connection: ops/s and p50/p99 latency; then each server's resident memory.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startZooKeeper, type ZkEnsemble } from '../test/support/apache-zookeeper.js';
import { startZkElectServer } from '../test/support/zk-elect-server.js';
import { fmt, progress, summarize } from './stats.js';

const { values } = parseArgs({ options: { ops: { type: 'string', default: '3000' }, seconds: { type: 'string', default: '4' }, nodes: { type: 'string', default: '1' } } });
const NODES = values.nodes === '3' ? 3 : 1;
const MAX_OPS = Number(values.ops);
const MAX_MS = Number(values.seconds) * 1000;
const PAYLOAD = Buffer.alloc(100, 'x');
const OPS = ['create', 'setData', 'getData'] as const;
const INFLIGHT = [1, 16, 128];

type Cb = (rc: number, ...rest: unknown[]) => void;
interface Native {
  on(e: string, f: () => void): void;
  init(o: object): void;
  close(): void;
  a_create(p: string, d: Buffer, f: number, cb: Cb): number;
  a_set(p: string, d: Buffer, v: number, cb: Cb): number;
  a_get(p: string, w: boolean, cb: Cb): number;
}
const ZK = createRequire(import.meta.url)('zookeeper') as new (o: object) => Native;

async function connect(connectString: string): Promise<Native> {
  const c = new ZK({ connect: connectString, timeout: 10_000, debug_level: 0, data_as_buffer: true });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no connection to ${connectString}`)), 10_000);
    c.on('connect', () => {
      clearTimeout(t);
      resolve();
    });
    c.init({});
  });
  return c;
}

function call(c: Native, op: (typeof OPS)[number], i: number, root: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb: Cb = (rc) => (rc === 0 ? resolve() : reject(new Error(`${op} failed: rc ${rc}`)));
    const path = `${root}/n${i}`;
    const rc = op === 'create' ? c.a_create(path, PAYLOAD, 0, cb) : op === 'setData' ? c.a_set(`${root}/n${i % 1000}`, PAYLOAD, -1, cb) : c.a_get(`${root}/n${i % 1000}`, false, cb);
    if (rc !== 0) reject(new Error(`${op} refused: rc ${rc}`));
  });
}

async function run(c: Native, op: (typeof OPS)[number], inflight: number, root: string) {
  const latencies: number[] = [];
  let issued = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (issued < MAX_OPS && performance.now() - t0 < MAX_MS) {
      const i = issued++;
      const s = performance.now();
      await call(c, op, i, root);
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const elapsed = performance.now() - t0;
  return { opsPerSec: (latencies.length / elapsed) * 1000, ...summarize(latencies) };
}

function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

type Row = { op: string; inflight: number; opsPerSec: number; p50: number; p99: number };

async function measure(name: string, zk: ZkEnsemble): Promise<{ rows: Row[]; rss: number }> {
  const c = await connect(zk.connectString);
  const rows: Row[] = [];
  let step = 0;
  for (const inflight of INFLIGHT) {
    const root = `/bench-${inflight}`;
    await new Promise<void>((r) => c.a_create(root, Buffer.alloc(0), 0, () => r()));
    for (const op of OPS) {
      const r = await run(c, op, inflight, root);
      rows.push({ op, inflight, opsPerSec: r.opsPerSec, p50: r.p50, p99: r.p99 });
      progress(name, ++step, INFLIGHT.length * OPS.length);
    }
  }
  const rss = rssMb(zk.members[0]?.pid);
  c.close();
  return { rows, rss };
}

const apache = await startZooKeeper({ nodes: NODES, controllable: true });
const ours = await startZkElectServer({ controllable: true, nodes: NODES });
try {
  // Alternate the order per run so neither always gets the warmer machine.
  const a = await measure('Apache ZooKeeper', apache);
  const z = await measure('zk-elect server', ours);
  console.log(`\n${NODES === 1 ? 'standalone' : '3-node clusters'}: 100-byte requests on one connection, fsync on for both (ops/s, latency ms)`);
  console.log('op        inflight |  Apache ops/s   p50    p99 |  zk-elect ops/s   p50    p99 | throughput ratio  p99 ratio');
  for (let i = 0; i < a.rows.length; i++) {
    const x = a.rows[i]!;
    const y = z.rows[i]!;
    console.log(
      `${x.op.padEnd(9)} ${String(x.inflight).padStart(8)} | ${x.opsPerSec.toFixed(0).padStart(13)} ${fmt(x.p50).padStart(5)} ${fmt(x.p99).padStart(6)} |` +
        ` ${y.opsPerSec.toFixed(0).padStart(15)} ${fmt(y.p50).padStart(5)} ${fmt(y.p99).padStart(6)} |` +
        ` ${(y.opsPerSec / x.opsPerSec).toFixed(2).padStart(16)} ${(y.p99 / x.p99).toFixed(2).padStart(10)}`,
    );
  }
  console.log(`\nresident memory after the run (first member): Apache ZooKeeper ${a.rss.toFixed(0)} MB, zk-elect server ${z.rss.toFixed(0)} MB`);
} finally {
  await apache.stop();
  await ours.stop();
}
