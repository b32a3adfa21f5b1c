/**
 * A C-client watcher that calls zoo_wget_children while zookeeper_close is in flight (the
 * situation of ZooKeeper's own C test testHangingClient, test/support/c-client/close-race.c,
 * built here against Debian's libzookeeper-mt), against real Apache ZooKeeper 3.8 and
 * zk-elect's server side by side.
 *
 * What it shows: the codes the watcher gets are ZOK (the server answered before the close),
 * ZCLOSING (the close tore down the connection with the request outstanding) and, now and
 * then, ZMARSHALLINGERROR. That last one never comes from a server: zookeeper_close sets
 * close_requested first, so a request issued after that is refused by the client's own
 * add_completion (ZINVALIDSTATE), which zoo_awget_children's nonblocking_send turns into
 * ZMARSHALLINGERROR. Apache shows it too (measured here: 10 of 200 rounds standalone, 5-7 of
 * 100 on each member of a 3-node ensemble, about as often as on zk-elect), so
 * testHangingClient's `zrc == ZOK || zrc == ZCLOSING` is a flaky assertion on Apache as well.
 * Requests never reach a server behind the closeSession (the client refuses them first), so
 * no server-sent code may appear: not SESSIONEXPIRED, not CONNECTIONLOSS.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { trackDir } from '../../src/launcher/reaper.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { startZooKeeper } from '../support/apache-zookeeper.js';
import { startZkElectServer } from '../support/zk-elect-server.js';

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'support', 'c-client', 'close-race.c');
const OPTIONS = { nodes: 1, tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 } as const;
const ROUNDS = 60;
/** ZOK, ZCLOSING (-116), and the client-made ZMARSHALLINGERROR (-5). */
const ALLOWED = new Set(['0', '-116', '-5']);

interface Outcome {
  rounds: number;
  watcherCalls: number;
  codes: Record<string, number>;
}

function build(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-close-race-'));
  trackDir(dir);
  const bin = path.join(dir, 'close-race');
  try {
    execFileSync('gcc', ['-O1', '-Wall', '-o', bin, SOURCE, '-lzookeeper_mt'], { stdio: 'pipe', timeout: 60_000 });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? (e as Error).message;
    throw new Error(`cannot build the C-client program (needs gcc and the multi-threaded C client: apt-get install libzookeeper-mt-dev): ${stderr}`);
  }
  return bin;
}

function run(bin: string, address: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(bin, [address, String(ROUNDS)], { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`close-race against ${address} failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as Outcome);
    });
  });
}

describe('C client: zoo_wget_children from a watcher while zookeeper_close is in flight', () => {
  let bin: string;
  let apache: ZkEnsemble | undefined;
  let ours: ZkEnsemble | undefined;
  before(async () => {
    bin = build();
    [apache, ours] = await Promise.all([startZooKeeper({ ...OPTIONS, controllable: true }), startZkElectServer(OPTIONS)]);
  }, { timeout: 120_000 });
  after(async () => {
    await Promise.all([apache?.stop(), ours?.stop()]);
  });

  test(`${ROUNDS} rounds on each server: only ZOK, ZCLOSING or the client's own ZMARSHALLINGERROR`, { timeout: 300_000 }, async () => {
    const a = await run(bin, apache!.connectString);
    const o = await run(bin, ours!.connectString);
    process.stderr.write(`close-race codes (count per code): Apache ${JSON.stringify(a.codes)}, zk-elect ${JSON.stringify(o.codes)}\n`);
    for (const [name, r] of [['Apache', a], ['zk-elect', o]] as const) {
      // The watcher fires on the create of the child, and on its delete unless the close
      // stops the completion thread before that event is handled (the client's race too).
      assert.ok(r.watcherCalls >= ROUNDS && r.watcherCalls <= 2 * ROUNDS, `${name}: ${r.watcherCalls} watcher calls`);
      assert.deepEqual(Object.keys(r.codes).filter((c) => !ALLOWED.has(c)), [], `${name}: codes other than ZOK/ZCLOSING/ZMARSHALLINGERROR`);
      // The re-arm after the create nearly always runs on a live session, but not always: it runs
      // on the completion thread while the main thread goes on to delete and close, and the close
      // can overtake it (Apache, once in 60 rounds in a CI run: {"0":59,"-5":13,"-116":48}). A
      // server that lost or never fired the watch would give (almost) no ZOK at all.
      assert.ok((r.codes['0'] ?? 0) >= ROUNDS / 2, `${name}: ZOK in at least half of the rounds, got ${JSON.stringify(r.codes)}`);
    }
  });
});
