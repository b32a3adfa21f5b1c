/**
 * kill -9 at random moments: a child process appends and flushes as fast as it can, printing
 * each zxid range only after flush() resolved. The parent SIGKILLs it, reopens the files and
 * checks that every acknowledged zxid is there with its payload and nothing else is.
 *
 * Seeded: set STORAGE_CRASH_SEED to replay a run (the seed is printed as a test diagnostic).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DataDir, TxnLog, type LogRecord } from '../../src/server/storage/index.js';
import { mulberry32 } from '../support/prng.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const storageUrl = pathToFileURL(path.join(repoRoot, 'src/server/storage/index.ts')).href;
const SEED = Number(process.env.STORAGE_CRASH_SEED ?? Date.now() % 1_000_000);


/** Payload as a function of the zxid (sizes 0..~3 KiB, one in 100 about 40 KiB); shared with the child via toString(). */
function payloadFor(zxid: bigint): Buffer {
  const z = Number(zxid);
  const size = z % 100 === 0 ? 40_000 + (z % 997) : (z * 7919) % 3000;
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (z * 131 + i * 7) & 0xff;
  return b;
}
const snapPayload = (zxid: bigint): Buffer => Buffer.from(`snapshot state at ${zxid}`);

const CHILD = `
import { TxnLog, DataDir } from ${JSON.stringify(storageUrl)};
const payloadFor = ${payloadFor.toString()};
const [mode, dir, seedText] = process.argv.slice(2);
${mulberry32.toString()}
const rand = mulberry32(Number(seedText));
const out = (line) => process.stdout.write(line + '\\n'); // synchronous on Linux pipes
const logOpts = { maxSegmentBytes: 64 * 1024 };
let log, dd;
if (mode === 'log') ({ log } = await TxnLog.open(dir, logOpts));
else { dd = await DataDir.open(dir, { log: logOpts }); ({ log } = await dd.recover()); }
let next = log.lastZxid + 1n;
let acks = 0;
let snapshotAt = 5 + Math.floor(rand() * 30);
out('ready');
async function writer() {
  for (;;) {
    const n = 1 + Math.floor(rand() * 8);
    out('app ' + next + ' ' + (next + BigInt(n) - 1n));
    const first = next;
    for (let i = 0; i < n; i++) { log.append(next, payloadFor(next)); next++; }
    const last = next - 1n;
    await log.flush();
    out('ack ' + first + ' ' + last);
    if (dd && ++acks === snapshotAt) {
      const z = log.durableZxid;
      await dd.writeSnapshot(z, Buffer.from('snapshot state at ' + z));
      out('snap ' + z);
      await dd.purge(1);
    }
    if (rand() < 0.3) await new Promise((r) => setTimeout(r, 1));
  }
}
await Promise.all([writer(), writer(), writer(), writer()]);
`;

interface Round {
  acked: Array<[bigint, bigint]>;
  maxAppended: bigint;
}

async function runChild(script: string, mode: string, dir: string, seed: number, killAfterMs: number): Promise<Round> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, mode, dir, String(seed)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit');
  // Starting tsx takes a second or two; on a machine loaded by other work it took over 10 s.
  const deadline = Date.now() + 30_000;
  while (!out.includes('ready\n')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`child did not start: ${err}`);
    }
    await sleep(5);
  }
  await sleep(killAfterMs);
  child.kill('SIGKILL');
  const [code, signal] = (await exited) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL', `child exited on its own (code ${code}): ${err}`);
  const round: Round = { acked: [], maxAppended: 0n };
  for (const line of out.split('\n').slice(0, -1)) {
    const [kind, a, b] = line.split(' ');
    if (kind === 'app' && BigInt(b!) > round.maxAppended) round.maxAppended = BigInt(b!);
    if (kind === 'ack') round.acked.push([BigInt(a!), BigInt(b!)]);
  }
  return round;
}

/** Every record was appended, in order without holes from `from`, with its own payload. */
/** Counts what recovery reported, to show which paths the kills exercised. */
function counter(): { warn(msg: string): void; info(msg: string): void; seen: Map<string, number> } {
  const seen = new Map<string, number>();
  const add = (msg: string): void => void seen.set(msg, (seen.get(msg) ?? 0) + 1);
  return { seen, warn: add, info: add };
}

function checkRecords(records: LogRecord[], from: bigint, maxAppended: bigint, ctx: string): void {
  records.forEach((r, i) => {
    assert.equal(r.zxid, from + BigInt(i), `${ctx}: hole or reorder at ${r.zxid}`);
    assert.ok(r.zxid <= maxAppended, `${ctx}: zxid ${r.zxid} was never appended`);
    assert.ok(r.payload.equals(payloadFor(r.zxid)), `${ctx}: wrong payload for ${r.zxid}`);
  });
}

describe('storage under kill -9', { timeout: 120_000 }, () => {
  let work: string;
  let script: string;
  const rand = mulberry32(SEED);
  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'zk-storage-crash-'));
    script = path.join(work, 'child.mjs');
    await writeFile(script, CHILD);
  });
  after(() => rm(work, { recursive: true, force: true }));

  test('txn log: every acknowledged zxid survives, nothing unappended appears', async (t) => {
    t.diagnostic(`seed ${SEED}`);
    const dir = path.join(work, 'log');
    let maxAppended = 0n;
    const acked: Array<[bigint, bigint]> = [];
    const logger = counter();
    for (let round = 0; round < 12; round++) {
      const ctx = `seed ${SEED} round ${round}`;
      const r = await runChild(script, 'log', dir, Math.floor(rand() * 2 ** 31), 50 + Math.floor(rand() * 350));
      if (r.maxAppended > maxAppended) maxAppended = r.maxAppended;
      acked.push(...r.acked);
      // SIGKILL cannot tear a write the kernel already took; a power cut can. Simulate that
      // now and then: a partial record (random bytes or zeros) after the last one.
      if (rand() < 0.4) {
        const last = (await readdir(dir)).filter((n) => /^log\.[0-9a-f]{16}$/.test(n)).sort().at(-1)!;
        const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
        await appendFile(path.join(dir, last), rand() < 0.5 ? junk : Buffer.alloc(junk.length));
      }
      const { log, records } = await TxnLog.open(dir, { maxSegmentBytes: 64 * 1024, logger });
      checkRecords(records, 1n, maxAppended, ctx);
      const last = log.lastZxid;
      for (const [a, b] of acked) assert.ok(b <= last, `${ctx}: acknowledged ${a}..${b} lost (log ends at ${last})`);
      t.diagnostic(`round ${round}: ${r.acked.length} acks, log ends at ${last}, ${log.stats().segments} segments`);
      await log.close();
    }
    t.diagnostic(`recovery reported: ${JSON.stringify([...logger.seen])}`);
    assert.ok(acked.length > 12, 'the child acknowledged too little to mean anything');
  });

  test('data dir with a snapshot and purge mid-way: snapshot + log cover every acknowledged zxid', async (t) => {
    const dir = path.join(work, 'datadir');
    let maxAppended = 0n;
    const acked: Array<[bigint, bigint]> = [];
    let snapshots = 0;
    const logger = counter();
    for (let round = 0; round < 4; round++) {
      const ctx = `seed ${SEED} datadir round ${round}`;
      const r = await runChild(script, 'snap', dir, Math.floor(rand() * 2 ** 31), 150 + Math.floor(rand() * 250));
      if (r.maxAppended > maxAppended) maxAppended = r.maxAppended;
      acked.push(...r.acked);
      const dd = await DataDir.open(dir, { log: { maxSegmentBytes: 64 * 1024 }, logger }); // takes over the dead child's lock
      try {
        const { snapshot, records, log } = await dd.recover();
        const base = snapshot?.zxid ?? 0n;
        if (snapshot) {
          snapshots++;
          assert.ok(snapshot.payload.equals(snapPayload(base)), `${ctx}: snapshot payload`);
          assert.ok(base <= maxAppended, `${ctx}: snapshot beyond anything appended`);
        }
        checkRecords(records, base + 1n, maxAppended, ctx);
        for (const [a, b] of acked) assert.ok(b <= log.lastZxid, `${ctx}: acknowledged ${a}..${b} lost`);
        t.diagnostic(`round ${round}: snapshot ${base}, ${records.length} records after it, log ends at ${log.lastZxid}`);
      } finally {
        await dd.close();
      }
    }
    t.diagnostic(`recovery reported: ${JSON.stringify([...logger.seen])}`);
    assert.ok(snapshots > 0, 'no round got as far as writing a snapshot');
  });
});
