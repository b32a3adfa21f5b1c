/**
 * The simulator's in-memory file system: POSIX-ish semantics of each call, the power-cut model
 * (what survives, what may be lost or torn; each outcome shown to occur over many seeds),
 * injected faults, determinism, and the real transaction log running on it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as macrotask } from 'node:timers/promises';
import { CorruptLogError, TxnLog } from '../../src/server/storage/txn-log.js';
import { randomFsWorkload, txnLogCrashRun } from '../sim/io/fs-workloads.js';
import { rig, syncDir, writeFile } from '../sim/io/test-kit.js';

test('open flags, positional reads and writes, truncate, stat, close', async () => {
  const { fs, go } = rig(1);
  await go(async () => {
    await assert.rejects(fs.open('/a', 'r'), { code: 'ENOENT', message: "ENOENT: no such file or directory, open '/a'" });
    await assert.rejects(fs.open('/a', 'r+'), { code: 'ENOENT' });
    await assert.rejects(fs.open('/no/a', 'w'), { code: 'ENOENT' });
    const w = await fs.open('/a', 'wx');
    assert.deepEqual(await w.write(Buffer.from('hello world'), 0, 11, 0), { bytesWritten: 11 });
    await w.write(Buffer.from('--XY--'), 2, 2, 20); // past the end: a hole of zeros
    assert.equal((await w.stat()).size, 22);
    await assert.rejects(w.read(Buffer.alloc(4), 0, 4, 0), { code: 'EBADF' }); // 'wx' is write-only
    await assert.rejects(fs.open('/a', 'wx'), { code: 'EEXIST' });
    const rw = await fs.open('/a', 'r+');
    const buf = Buffer.alloc(30);
    assert.deepEqual(await rw.read(buf, 0, 30, 0), { bytesRead: 22 });
    assert.deepEqual(buf.subarray(0, 22), Buffer.concat([Buffer.from('hello world'), Buffer.alloc(9), Buffer.from('XY')]));
    assert.deepEqual(await rw.read(buf, 0, 4, 100), { bytesRead: 0 });
    await rw.truncate(5);
    assert.equal((await fs.readFile('/a')).toString(), 'hello');
    const r = await fs.open('/a', 'r');
    await assert.rejects(r.write(Buffer.from('x'), 0, 1, 0), { code: 'EBADF' });
    await assert.rejects(r.truncate(0), { code: 'EBADF' });
    await (await fs.open('/a', 'w')).close(); // 'w' truncates an existing file
    assert.equal((await fs.stat('/a')).size, 0);
    assert.ok((await fs.stat('/a')).isFile());
    assert.ok((await fs.stat('/')).isDirectory());
    await r.close();
    await r.close(); // twice is harmless, as in Node
    await assert.rejects(r.stat(), { code: 'EBADF' });
    await assert.rejects(fs.open('/', 'r+'), { code: 'EISDIR' });
    await assert.rejects(fs.readFile('/'), { code: 'EISDIR' });
    const d = await fs.open('/', 'r');
    await assert.rejects(d.read(buf, 0, 1, 0), { code: 'EISDIR' });
    await d.sync();
  });
});

test('directories, rename, link, unlink, realpath', async () => {
  const { fs, go } = rig(2);
  await go(async () => {
    await fs.mkdir('/x/y/z', { recursive: true });
    await fs.mkdir('/x/y', { recursive: true }); // existing: fine
    assert.deepEqual(await fs.readdir('/x'), ['y']);
    await assert.rejects(fs.readdir('/nope'), { code: 'ENOENT' });
    await writeFile(fs, '/x/f', 'one');
    await assert.rejects(fs.readdir('/x/f'), { code: 'ENOTDIR' });
    await assert.rejects(fs.open('/x/f/g', 'w'), { code: 'ENOTDIR' });
    await assert.rejects(fs.mkdir('/x/f', { recursive: true }), { code: 'EEXIST' });
    await assert.rejects(fs.mkdir('/x/f/g', { recursive: true }), { code: 'ENOTDIR' });
    await writeFile(fs, '/x/g', 'two');
    await fs.rename('/x/g', '/x/f'); // replaces the target
    assert.equal((await fs.readFile('/x/f')).toString(), 'two');
    assert.deepEqual((await fs.readdir('/x')).sort(), ['f', 'y']);
    await fs.rename('/x/f', '/x/y/z/f'); // across directories
    assert.deepEqual(await fs.readdir('/x/y/z'), ['f']);
    await assert.rejects(fs.rename('/x/nope', '/x/a'), { code: 'ENOENT' });
    await assert.rejects(fs.rename('/x', '/x/y/w'), { code: 'EINVAL' });
    await assert.rejects(fs.rename('/x/y/z/f', '/x/y'), { code: 'EISDIR' });
    await fs.link('/x/y/z/f', '/x/h');
    await assert.rejects(fs.link('/x/y/z/f', '/x/h'), { code: 'EEXIST' });
    await assert.rejects(fs.link('/x/nope', '/x/i'), { code: 'ENOENT' });
    await fs.unlink('/x/y/z/f');
    assert.equal((await fs.readFile('/x/h')).toString(), 'two'); // the other name remains
    await assert.rejects(fs.unlink('/x/y/z/f'), { code: 'ENOENT' });
    await assert.rejects(fs.unlink('/x/y'), { code: 'EISDIR' });
    // An unlinked file stays readable through a handle opened before.
    const fh = await fs.open('/x/h', 'r');
    await fs.unlink('/x/h');
    const buf = Buffer.alloc(3);
    await fh.read(buf, 0, 3, 0);
    assert.equal(buf.toString(), 'two');
    assert.equal(await fs.realpath('/x//y/./z/../z/'), '/x/y/z');
    await assert.rejects(fs.realpath('/x/q'), { code: 'ENOENT' });
    assert.deepEqual(fs.listFiles(), []);
  });
});

test('calls settle only from scheduled callbacks; one handle completes in issue order', async () => {
  const { fs, loop, go } = rig(3, { latencyMs: { min: 0, max: 50 } });
  let settled = false;
  void fs.stat('/').then(() => (settled = true));
  await macrotask();
  assert.equal(settled, false);
  assert.equal(loop.pending, 1);
  await loop.drain();
  assert.equal(settled, true);
  await go(async () => {
    const fh = await fs.open('/f', 'w');
    const done: number[] = [];
    const ops = Array.from({ length: 20 }, (_, i) => fh.write(Buffer.from([i]), 0, 1, i).then(() => done.push(i)));
    await Promise.all(ops);
    assert.deepEqual(done, [...Array(20).keys()]);
  });
});

test('synced data and synced names survive every crash; old handles are dead', async () => {
  for (let seed = 1; seed <= 100; seed++) {
    const { fs, loop, go } = rig(seed);
    const old = await go(async () => {
      await fs.mkdir('/d', { recursive: true });
      await syncDir(fs, '/');
      const fh = await writeFile(fs, '/d/f', 'base', { sync: true, keepOpen: true });
      await syncDir(fs, '/d');
      await fh.write(Buffer.from('+more'), 0, 5, 4);
      await writeFile(fs, '/d/g', 'unsynced name');
      return fh;
    });
    loop.dropAll();
    fs.crash();
    const f = fs.readVolatile('/d/f');
    assert.ok(f && f.subarray(0, 4).toString() === 'base', `seed ${seed}: ${f?.toString()}`);
    assert.deepEqual(fs.readDurable('/d/f'), f);
    await go(async () => {
      await assert.rejects(old.write(Buffer.from('x'), 0, 1, 0), { code: 'EBADF' });
      await assert.rejects(old.close(), { code: 'EBADF' });
    });
  }
});

test('unsynced writes: lost, kept, kept in part, torn at a byte or a sector, or a zero tail; never invented', async () => {
  const seen = new Set<string>();
  const chunks = ['a', 'b', 'c'].map((c) => Buffer.alloc(700, c));
  const all = Buffer.concat(chunks);
  for (let seed = 1; seed <= 400; seed++) {
    const { fs, go } = rig(seed);
    await go(async () => {
      const fh = await writeFile(fs, '/f', Buffer.alloc(1000, 'z'), { sync: true, keepOpen: true });
      await syncDir(fs, '/');
      for (let i = 0; i < 3; i++) await fh.write(chunks[i]!, 0, 700, 1000 + 700 * i);
    });
    fs.crash();
    const f = fs.readVolatile('/f')!;
    assert.deepEqual(f.subarray(0, 1000), Buffer.alloc(1000, 'z'), `seed ${seed}`);
    const tail = f.subarray(1000);
    let m = 0;
    while (m < tail.length && m < all.length && tail[m] === all[m]) m++;
    assert.ok(tail.length <= all.length && tail.subarray(m).every((b) => b === 0), `seed ${seed}: bytes that were never written`);
    if (tail.length > m) seen.add('zero tail');
    else if (m === 0) seen.add('all lost');
    else if (m === all.length) seen.add('all kept');
    else if (m % 700 === 0) seen.add('whole writes kept');
    else seen.add((1000 + m) % 512 === 0 ? 'torn at a sector' : 'torn at a byte');
  }
  assert.deepEqual([...seen].sort(), ['all kept', 'all lost', 'torn at a byte', 'torn at a sector', 'whole writes kept', 'zero tail']);
});

test('opt-in scatter: a later unsynced sector can survive without an earlier one', async () => {
  let gap = false;
  for (let seed = 1; seed <= 30 && !gap; seed++) {
    const { fs, go } = rig(seed, { crash: { scatterProbability: 1 } });
    await go(async () => {
      const fh = await writeFile(fs, '/f', Buffer.alloc(2048, 'o'), { sync: true, keepOpen: true });
      await syncDir(fs, '/');
      await fh.write(Buffer.alloc(2048, 'n'), 0, 2048, 0);
    });
    fs.crash();
    const sectors = [0, 1, 2, 3].map((i) => String.fromCharCode(fs.readVolatile('/f')![i * 512]!));
    gap ||= sectors.join('').includes('on');
  }
  assert.ok(gap);
});

test('a new name needs its directory synced: a synced temp renamed into place can vanish', async () => {
  const outcomes = new Set<string>();
  for (let seed = 1; seed <= 60; seed++) {
    for (const dirSync of [false, true]) {
      const { fs, go } = rig(seed);
      await go(async () => {
        await writeFile(fs, '/final', 'old', { sync: true });
        await writeFile(fs, '/fresh', 'data', { sync: true });
        await syncDir(fs, '/');
        await writeFile(fs, '/final.tmp', 'new', { sync: true });
        await fs.rename('/final.tmp', '/final');
        await writeFile(fs, '/created', 'synced data', { sync: true });
        if (dirSync) await syncDir(fs, '/');
      });
      fs.crash();
      const final = fs.readVolatile('/final')?.toString();
      const created = fs.readVolatile('/created')?.toString();
      assert.equal(fs.readVolatile('/fresh')?.toString(), 'data');
      if (dirSync) {
        assert.deepEqual([final, created], ['new', 'synced data'], `seed ${seed}`);
        assert.deepEqual(fs.listFiles(), ['/created', '/final', '/fresh']);
      } else {
        assert.ok(final === 'old' || final === 'new', `seed ${seed}: ${final}`);
        assert.ok(created === undefined || created === 'synced data');
        outcomes.add(`final ${final}, created ${created === undefined ? 'lost' : 'kept'}`);
      }
    }
  }
  for (const o of ['final old, created lost', 'final new, created kept']) assert.ok(outcomes.has(o), [...outcomes].join('; '));
});

test('a rename between directories is atomic at a crash; syncing either side makes it durable', async () => {
  const seen = new Set<string>();
  for (let seed = 1; seed <= 60; seed++) {
    for (const sync of ['', '/a', '/b']) {
      const { fs, go } = rig(seed);
      await go(async () => {
        await fs.mkdir('/a', { recursive: true });
        await fs.mkdir('/b', { recursive: true });
        await writeFile(fs, '/a/x', 'x', { sync: true });
        for (const d of ['/a', '/b', '/']) await syncDir(fs, d);
        await fs.rename('/a/x', '/b/x');
        if (sync) await syncDir(fs, sync);
      });
      fs.crash();
      const where = fs.listFiles().join(',');
      assert.ok(where === '/a/x' || where === '/b/x', `seed ${seed}: ${where}`);
      if (sync) assert.equal(where, '/b/x');
      else seen.add(where);
    }
  }
  assert.deepEqual([...seen].sort(), ['/a/x', '/b/x']);
});

test('a directory made by mkdir survives only once its parent was synced', async () => {
  const seen = new Set<boolean>();
  for (let seed = 1; seed <= 40; seed++) {
    const { fs, go } = rig(seed);
    await go(async () => {
      await fs.mkdir('/p/q', { recursive: true });
      await writeFile(fs, '/p/q/f', 'f', { sync: true });
      await syncDir(fs, '/p/q');
      await syncDir(fs, '/p');
    });
    fs.crash();
    seen.add(fs.readVolatile('/p/q/f') !== undefined);
  }
  assert.deepEqual([...seen].sort(), [false, true]);
});

test('fsyncgate: writes pending at a failed sync never become durable, though they stay readable', async () => {
  const { fs, go } = rig(7);
  await go(async () => {
    const fh = await writeFile(fs, '/f', 'AAAA', { sync: true, keepOpen: true });
    await syncDir(fs, '/');
    await fh.write(Buffer.from('BBBB'), 0, 4, 4);
    fs.failNextSync('/f');
    await assert.rejects(fh.datasync(), { code: 'EIO', syscall: 'fsync' });
    await fh.write(Buffer.from('CCCC'), 0, 4, 8);
    await fh.datasync();
    assert.equal(fs.readVolatile('/f')?.toString(), 'AAAABBBBCCCC');
    assert.equal(fs.readDurable('/f')?.toString(), 'AAAA\0\0\0\0CCCC');
    // Faults match by path or predicate, and a bare one hits the next sync of anything.
    fs.failNextSync((p) => p.endsWith('.log'), 'ENOSPC');
    await fh.sync();
    const log = await writeFile(fs, '/x.log', 'x', { keepOpen: true });
    await assert.rejects(log.sync(), { code: 'ENOSPC' });
    fs.failNextSync();
    await assert.rejects(syncDir(fs, '/'), { code: 'EIO' });
  });
  assert.equal(fs.counters.failedSyncs, 3);
  fs.crash();
  assert.equal(fs.readVolatile('/f')?.toString(), 'AAAA\0\0\0\0CCCC');
});

test('ENOSPC: one short write, then the error; overwrites and freed space still work', async () => {
  const { fs, go } = rig(8);
  fs.setSpaceLimitBytes(100);
  await go(async () => {
    const fh = await fs.open('/f', 'w');
    assert.equal((await fh.write(Buffer.alloc(80, 1), 0, 80, 0)).bytesWritten, 80);
    assert.equal((await fh.write(Buffer.alloc(50, 2), 0, 50, 80)).bytesWritten, 20);
    await assert.rejects(fh.write(Buffer.alloc(30, 3), 0, 30, 100), { code: 'ENOSPC' });
    assert.equal((await fh.write(Buffer.alloc(10, 4), 0, 10, 0)).bytesWritten, 10);
    await assert.rejects(writeFile(fs, '/g', 'x'), { code: 'ENOSPC' });
    assert.equal(fs.usedBytes(), 100);
    // An unlinked file holds its space until its last handle closes.
    await fs.unlink('/f');
    await assert.rejects(writeFile(fs, '/g', 'x'), { code: 'ENOSPC' });
    await fh.close();
    await writeFile(fs, '/g', Buffer.alloc(100));
    fs.setSpaceLimitBytes(undefined);
    await writeFile(fs, '/h', Buffer.alloc(1000));
  });
  assert.equal(fs.usedBytes(), 1100);
});

test('flipBit: one bit of the stored file changes, on disk and in what is read', async () => {
  const { fs, go } = rig(9);
  await go(async () => {
    await writeFile(fs, '/f', Buffer.alloc(64, 0x55), { sync: true });
    await syncDir(fs, '/');
  });
  for (const at of [undefined, 7]) {
    const before = fs.readVolatile('/f')!;
    const { offset, bit } = fs.flipBit('/f', at);
    if (at !== undefined) assert.equal(offset, at);
    const after = fs.readVolatile('/f')!;
    assert.deepEqual(fs.readDurable('/f'), after);
    const diff = [...after].map((b, i) => b ^ before[i]!);
    assert.deepEqual(diff, diff.map((_, i) => (i === offset ? 1 << bit : 0)));
  }
  const flipped = fs.readVolatile('/f');
  fs.crash();
  assert.deepEqual(fs.readVolatile('/f'), flipped);
  assert.throws(() => fs.flipBit('/nope'), { code: 'ENOENT' });
});

test('determinism: the same seed gives the same run, other seeds other runs', async () => {
  const runs = [];
  for (const seed of [1, 2, 3, 1, 2, 3]) runs.push(await randomFsWorkload(seed));
  assert.deepEqual(runs.slice(3), runs.slice(0, 3));
  assert.equal(new Set(runs).size, 3);
});

test('TxnLog on SimFileSystem: after each crash every flushed record is there and nothing else', async () => {
  let lostUnflushed = 0;
  let cutShort = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const { observations, errors } = await txnLogCrashRun(seed);
    assert.deepEqual(errors, [], `seed ${seed}`);
    for (const [i, o] of observations.entries()) {
      const why = `seed ${seed}, reopening ${i + 1}: confirmed ${o.confirmed}, appended ${o.appended.length}, recovered ${o.recovered.length}`;
      assert.ok(o.recovered.length >= o.confirmed, why);
      assert.deepEqual(o.recovered, o.appended.slice(0, o.recovered.length), why);
      if (o.recovered.length < o.appended.length) lostUnflushed++;
      if (!o.finished) cutShort++;
    }
  }
  assert.ok(lostUnflushed > 50 && cutShort > 100, `lost ${lostUnflushed}, cut short ${cutShort}`);
});

test('TxnLog on SimFileSystem: a flipped bit in a synced record makes open refuse', async () => {
  const { fs, go } = rig(11);
  await go(async () => {
    await fs.mkdir('/log', { recursive: true });
    await syncDir(fs, '/');
    const { log } = await TxnLog.open('/log', { fs });
    for (let z = 1n; z <= 5n; z++) log.append(z, Buffer.from(`payload ${z}`));
    await log.close();
  });
  const [segment] = fs.listFiles();
  // Inside the first record's payload: a valid record follows, so this cannot pass for a torn tail.
  fs.flipBit(segment!, 32 + 16 + 3);
  fs.crash();
  await go(() => assert.rejects(TxnLog.open('/log', { fs }), CorruptLogError));
});

test('holdSyncs: a held sync neither completes nor makes data durable; release completes held syncs in order; a crash voids them', async () => {
  const { fs, loop, go } = rig(41);
  const [a, b] = await go(async () => {
    await fs.mkdir('/log', { recursive: true });
    await syncDir(fs, '/');
    const a = await writeFile(fs, '/log/a', 'A1', { sync: true, keepOpen: true });
    const b = await writeFile(fs, '/b', 'B1', { sync: true, keepOpen: true });
    await syncDir(fs, '/log');
    return [a, b];
  });
  fs.holdSyncs(true, (p) => p.startsWith('/log/'));
  const done: string[] = [];
  await go(async () => {
    await a.write(Buffer.from('A2'), 0, 2, 2);
    await b.write(Buffer.from('B2'), 0, 2, 2);
  });
  void a.datasync().then(() => done.push('a1'));
  void a.sync().then(() => done.push('a2'));
  await loop.run(b.datasync().then(() => done.push('b')));
  await loop.drain();
  assert.deepEqual(done, ['b'], 'a path the predicate rejects is not held');
  assert.equal(fs.heldSyncs, 2);
  assert.equal(fs.readDurable('/log/a')?.toString(), 'A1', 'held: not durable');
  fs.holdSyncs(false);
  await loop.drain();
  assert.deepEqual(done, ['b', 'a1', 'a2']);
  assert.equal(fs.readDurable('/log/a')?.toString(), 'A1A2');
  // Held across a crash: the dead process's sync never completes, and its data may be lost.
  fs.holdSyncs(true);
  let settled = false;
  await loop.run(a.write(Buffer.from('A3'), 0, 2, 4));
  void a.datasync().finally(() => (settled = true));
  await loop.drain();
  loop.dropAll();
  fs.crash();
  fs.holdSyncs(false);
  await loop.drain();
  assert.equal(settled, false);
  assert.equal(fs.heldSyncs, 0);
  assert.ok(fs.readDurable('/log/a')?.subarray(0, 4).toString() === 'A1A2', 'what was synced before stays');
});
