/**
 * zk-elect server durability with real processes: kill -9 at random moments under write
 * load, restart, and every acknowledged write is there; a corrupt log is a clear refusal.
 */
import assert from 'node:assert/strict';
import { openSync, readdirSync, readSync, statSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ZooKeeperError } from '../../src/election/errors.js';
import { ZkSession } from '../../src/election/session.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { sleep } from '../../src/launcher/cli-process.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { mulberry32 as prng } from '../support/prng.js';


const payloadFor = (i: number) => Buffer.from(`value-${i}-${'x'.repeat(i % 200)}`);

describe('zk-elect server durability', () => {
  let zk: ZkEnsemble;
  const seed = Number(process.env.DURABILITY_SEED ?? 20261122);

  before(async () => {
    zk = await startZkElectServer({ controllable: true, serverArgs: ['--snap-count', '150'] });
  });
  after(async () => {
    await zk?.stop();
  });

  test(`kill -9 under write load never loses an acknowledged write (seed ${seed})`, async (t) => {
    const random = prng(seed);
    const member = zk.members[0]!;
    const acked = new Set<number>();
    let next = 0;
    for (let round = 0; round < 6; round++) {
      const session = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000, connectTimeoutMs: 10_000 });
      if (round === 0) await session.create('/durable', Buffer.alloc(0), 'persistent');
      let stop = false;
      // 16 writers in flight; a write counts as acknowledged only once its reply arrived.
      const writers = Array.from({ length: 16 }, async () => {
        while (!stop) {
          const i = next++;
          try {
            await session.create(`/durable/n${String(i).padStart(7, '0')}`, payloadFor(i), 'persistent');
            acked.add(i);
          } catch {
            return; // the server died under us: outcome unknown, not acknowledged
          }
        }
      });
      await sleep(150 + Math.floor(random() * 500));
      await member.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      await session.close();
      await member.start();
    }
    t.diagnostic(`${acked.size} acknowledged writes across 6 kill -9 rounds`);
    assert.ok(acked.size > 100, `only ${acked.size} writes were acknowledged; the test proves little`);
    const check = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000 });
    try {
      const present = new Set((await check.getChildren('/durable')).map((n) => Number(n.slice(1))));
      const missing = [...acked].filter((i) => !present.has(i));
      assert.deepEqual(missing, [], `acknowledged writes missing after recovery (seed ${seed})`);
      for (const i of [...acked].slice(0, 200)) {
        const { data } = await check.getData(`/durable/n${String(i).padStart(7, '0')}`);
        assert.deepEqual(data, payloadFor(i));
      }
      // It keeps serving writes after all those crashes.
      await check.create('/durable/after', Buffer.from('ok'), 'persistent');
      assert.equal((await check.getData('/durable/after')).data.toString(), 'ok');
    } finally {
      await check.close();
    }
  });

  test('a corrupt transaction log is a clear refusal to start, and the file is left as it was', async () => {
    const member = zk.members[0]!;
    const s = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000 });
    for (let i = 0; i < 50; i++) await s.create(`/corrupt-me-${i}`, Buffer.from('data'), 'persistent').catch((e) => {
      if (!(e instanceof ZooKeeperError)) throw e;
    });
    await s.close();
    await member.kill('SIGTERM');
    const logDir = path.join(member.dir!, 'data', 'log');
    const segments = readdirSync(logDir).filter((n) => /^log\.[0-9a-f]{16}$/.test(n)).sort();
    const target = path.join(logDir, segments.at(-1)!);
    const size = statSync(target).size;
    assert.ok(size > 2000, `segment ${target} is only ${size} bytes`);
    // Flip one byte in the middle: valid records follow it, so this is not a torn tail.
    const fd = openSync(target, 'r+');
    const at = Math.floor(size / 2);
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    const before = statSync(target).size;
    await assert.rejects(member.start(), (e: Error) => {
      assert.match(e.message, /corrupt|CRC|checksum/i);
      assert.ok(e.message.includes(segments.at(-1)!), `the error names the file: ${e.message.slice(0, 500)}`);
      return true;
    });
    assert.equal(statSync(target).size, before, 'the refused log was not truncated');
  });
});
