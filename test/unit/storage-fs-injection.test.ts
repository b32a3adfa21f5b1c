/**
 * Storage reaches the disk only through the FileSystem it is given: the simulator's power-loss
 * model is worthless if any write or sync slips past it to the real disk.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataDir, nodeFileSystem, type FileHandle, type FileSystem } from '../../src/server/storage/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'zk-storage-fsinj-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** nodeFileSystem, recording every call (paths relative to `root`, so two runs compare equal). */
function recording(root: string): { fs: FileSystem; trace: string[]; count(op: string): number; created: Set<string> } {
  const trace: string[] = [];
  const created = new Set<string>();
  const rel = (p: string): string => path.relative(root, p) || '.';
  const wrapHandle = (fh: FileHandle, p: string): FileHandle => {
    const note = (op: string): void => void trace.push(`${op} ${rel(p)}`);
    return {
      read: (...a) => (note('fh.read'), fh.read(...a)),
      write: (...a) => (note('fh.write'), fh.write(...a)),
      truncate: (n) => (note('fh.truncate'), fh.truncate(n)),
      datasync: () => (note('fh.datasync'), fh.datasync()),
      sync: () => (note('fh.sync'), fh.sync()),
      stat: () => (note('fh.stat'), fh.stat()),
      close: () => (note('fh.close'), fh.close()),
    };
  };
  const fs: FileSystem = {
    async open(p, flags) {
      trace.push(`open:${flags} ${rel(p)}`);
      if (flags === 'w' || flags === 'wx') created.add(p);
      return wrapHandle(await nodeFileSystem.open(p, flags), p);
    },
    readFile: (p) => (trace.push(`readFile ${rel(p)}`), nodeFileSystem.readFile(p)),
    readdir: (p) => (trace.push(`readdir ${rel(p)}`), nodeFileSystem.readdir(p)),
    mkdir: (p, o) => (trace.push(`mkdir ${rel(p)}`), created.add(p), nodeFileSystem.mkdir(p, o)),
    rename: (a, b) => (trace.push(`rename ${rel(a)} ${rel(b)}`), created.add(b), nodeFileSystem.rename(a, b)),
    unlink: (p) => (trace.push(`unlink ${rel(p)}`), nodeFileSystem.unlink(p)),
    link: (a, b) => (trace.push(`link ${rel(a)} ${rel(b)}`), created.add(b), nodeFileSystem.link(a, b)),
    realpath: (p) => (trace.push(`realpath ${rel(p)}`), nodeFileSystem.realpath(p)),
    stat: (p) => (trace.push(`stat ${rel(p)}`), nodeFileSystem.stat(p)),
  };
  const count = (op: string): number => trace.filter((t) => t.startsWith(`${op} `)).length;
  return { fs, trace, count, created };
}

function memoryLock(): { lock: (dir: string) => Promise<{ release(): Promise<void> }>; held: Set<string> } {
  const held = new Set<string>();
  return {
    held,
    lock: async (dir) => {
      if (held.has(dir)) throw new Error(`${dir} is locked`);
      held.add(dir);
      return { release: async () => void held.delete(dir) };
    },
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
  }
  return out;
}

/** Every kind of storage operation DataDir offers, twice over so there is something to purge. */
async function workload(dir: string, fs: FileSystem, lock: ReturnType<typeof memoryLock>['lock']): Promise<void> {
  const dd = await DataDir.open(dir, { fs, lock, log: { maxSegmentBytes: 400 } });
  const { log } = await dd.recover();
  for (let z = 1n; z <= 40n; z++) log.append(z, Buffer.from(`txn ${z}`));
  await log.flush();
  await dd.writeSnapshot(20n, Buffer.from('s20'));
  await dd.writeSnapshot(35n, Buffer.from('s35'));
  const purged = await dd.purge(1);
  assert.equal(purged.snapshotsRemoved, 1);
  assert.ok(purged.segmentsRemoved > 0);
  await dd.writeEpoch('acceptedEpoch', 7n);
  await dd.writeEpoch('currentEpoch', 6n);
  assert.equal(await dd.readEpoch('acceptedEpoch'), 7n);
  log.append(41n, Buffer.from('txn 41'));
  log.append(42n, Buffer.from('txn 42'));
  await log.flush();
  await log.truncateAfter(41n);
  const read: bigint[] = [];
  for await (const r of log.readFrom(38n)) read.push(r.zxid);
  assert.deepEqual(read, [39n, 40n, 41n]);
  log.append(42n, Buffer.from('txn 42 again'));
  await dd.close(); // flushes the second 42

  const again = await DataDir.open(dir, { fs, lock, log: { maxSegmentBytes: 400 } });
  const r = await again.recover();
  assert.equal(r.snapshot?.zxid, 35n);
  assert.deepEqual(
    r.records.map((x) => x.zxid),
    Array.from({ length: 7 }, (_, i) => 36n + BigInt(i)),
  );
  assert.deepEqual(r.records.at(-1)?.payload, Buffer.from('txn 42 again'));
  assert.equal(await again.readEpoch('currentEpoch'), 6n);
  await again.close();
}

describe('storage over an injected FileSystem', () => {
  test('recover, append+flush, snapshot, purge, epochs and close all go through it', async () => {
    const dir = await tempDir();
    const rec = recording(dir);
    const { lock, held } = memoryLock();
    await workload(dir, rec.fs, lock);
    assert.equal(held.size, 0, 'close released the lock');

    for (const op of ['open:w', 'open:wx', 'open:r', 'open:r+', 'readdir', 'readFile', 'mkdir', 'rename', 'unlink', 'fh.write', 'fh.read', 'fh.datasync', 'fh.sync', 'fh.truncate', 'fh.close']) {
      assert.ok(rec.count(op) > 0, `no ${op} call went through the injected fs`);
    }
    // Every segment write is followed by a datasync of that file, every directory change by a
    // directory sync, all seen by the wrapper.
    assert.ok(rec.trace.some((t) => /^fh\.datasync log\/log\.[0-9a-f]{16}$/.test(t)));
    assert.ok(rec.trace.some((t) => t === 'fh.sync log'));
    assert.ok(rec.trace.some((t) => t === 'fh.sync snap'));
    assert.ok(rec.trace.some((t) => t === 'fh.sync .'));
    // An injected fs gets temp names without a pid (pids differ between runs of one seed).
    assert.ok(rec.trace.some((t) => /^open:wx acceptedEpoch\.tmp\.\d+$/.test(t)), rec.trace.filter((t) => t.includes('.tmp')).join('\n'));
    assert.ok(rec.trace.some((t) => /^open:wx snap\/snapshot\.[0-9a-f]{16}\.tmp\.\d+$/.test(t)));

    // Nothing on disk was made behind the wrapper's back (the in-memory lock leaves no LOCK).
    for (const p of await filesUnder(dir)) assert.ok(rec.created.has(p), `${path.relative(dir, p)} was created without the injected fs`);
    assert.ok((await readFile(path.join(dir, 'acceptedEpoch'), 'latin1')).startsWith('zk-elect-epoch 1 7 '));
  });

  test('two runs make identical calls, file names included', async () => {
    const traces: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const dir = await tempDir();
      const rec = recording(dir);
      await workload(dir, rec.fs, memoryLock().lock);
      traces.push(rec.trace);
    }
    assert.deepEqual(traces[1], traces[0]);
  });

  test('a custom fs without a custom lock is refused before anything is touched', async () => {
    const dir = path.join(await tempDir(), 'never-made');
    const rec = recording(dir);
    await assert.rejects(DataDir.open(dir, { fs: rec.fs }), /custom fs needs a custom lock/);
    assert.deepEqual(rec.trace, []);
  });
});

describe('storage sources', () => {
  const storageDir = fileURLToPath(new URL('../../src/server/storage/', import.meta.url));
  const importsNodeFs = /\bfrom\s+['"](?:node:)?fs(?:\/promises)?['"]|\b(?:import|require)\(\s*['"](?:node:)?fs(?:\/promises)?['"]\s*\)/;

  test('only file-system.ts and lock.ts import node:fs', async () => {
    const names = (await readdir(storageDir)).filter((n) => n.endsWith('.ts'));
    assert.ok(names.length > 5, `found only ${names.join(', ')}`);
    // The pattern must recognise the imports it exists to forbid.
    assert.match(await readFile(path.join(storageDir, 'file-system.ts'), 'utf8'), importsNodeFs);
    assert.match(await readFile(path.join(storageDir, 'lock.ts'), 'utf8'), importsNodeFs);
    const offenders: string[] = [];
    for (const name of names) {
      if (name === 'file-system.ts' || name === 'lock.ts') continue;
      if (importsNodeFs.test(await readFile(path.join(storageDir, name), 'utf8'))) offenders.push(name);
    }
    assert.deepEqual(offenders, []);
  });
});
