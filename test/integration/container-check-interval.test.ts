/**
 * --container-check-interval (ZooKeeper's znode.container.checkIntervalMs): how often the
 * server deletes empty containers and expired TTL nodes. With the default (60 s) a 1 ms TTL
 * node outlives a second; with 50 ms it goes shortly after it expires. Real server processes,
 * bounded polling (no timed assertion beyond "still there a second later" against a minute).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI } from '../../src/launcher/cli-process.js';
import { fourLetterWord } from '../../src/launcher/four-letter-word.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { CreateMode, RawClient } from '../support/raw-client.js';
import { startZkElectServer } from '../support/zk-elect-server.js';

const OPTIONS = { nodes: 1, tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 } as const;

async function gone(c: RawClient, path: string, boundMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < boundMs) {
    if ((await c.exists(path)).errName === 'NONODE') return Date.now() - t0;
    await sleep(20);
  }
  throw new Error(`${path} still exists after ${boundMs} ms`);
}

describe('--container-check-interval', () => {
  let quick: ZkEnsemble | undefined;
  let standard: ZkEnsemble | undefined;
  before(async () => {
    [quick, standard] = await Promise.all([
      startZkElectServer({ ...OPTIONS, serverArgs: ['--extended-types', '--container-check-interval', '50'] }),
      startZkElectServer({ ...OPTIONS, serverArgs: ['--extended-types'] }),
    ]);
  }, { timeout: 60_000 });
  after(async () => {
    await Promise.all([quick?.stop(), standard?.stop()]);
  });

  test('conf shows the interval', async () => {
    assert.match(await fourLetterWord(quick!.connectString, 'conf', 5000), /^znode\.container\.checkIntervalMs=50$/m);
    assert.match(await fourLetterWord(standard!.connectString, 'conf', 5000), /^znode\.container\.checkIntervalMs=60000$/m);
  });

  test('a 1 ms TTL node and an emptied container go within a bounded wait at 50 ms; at the default a TTL node outlives a second', { timeout: 60_000 }, async () => {
    const q = await RawClient.connect(quick!.connectString);
    const s = await RawClient.connect(standard!.connectString);
    try {
      for (const c of [q, s]) assert.equal((await c.createTTL('/ttl', 'x', 1n)).errName, 'OK');
      const ttlMs = await gone(q, '/ttl', 10_000);
      assert.equal((await q.createContainer('/box')).errName, 'OK');
      assert.equal((await q.create('/box/item', 'x')).errName, 'OK');
      assert.equal((await q.delete('/box/item')).errName, 'OK');
      const boxMs = await gone(q, '/box', 10_000);
      process.stderr.write(`at a 50 ms check interval: TTL node gone after ${ttlMs} ms, emptied container after ${boxMs} ms\n`);
      await sleep(1000);
      assert.equal((await s.exists('/ttl')).errName, 'OK', 'with the default interval the expired TTL node is still there a second later');
    } finally {
      await Promise.all([q.close(), s.close()]);
    }
  });

  test('a bad interval is a usage error', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
      execFile(process.execPath, [CLI, 'server', '--data-dir', '/tmp/unused', '--container-check-interval', '0'], (err, _o, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr })));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--container-check-interval must be between 1 and/);
  });
});
