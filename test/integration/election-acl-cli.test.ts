/**
 * The CLI's --auth (and ZK_ELECT_AUTH) against real Apache ZooKeeper and a zk-elect server
 * process: an election protected by its owner's ACL can be read by `status` without
 * credentials, while `join` without them (or with another identity) exits 1 and says why.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { LeaderElection } from '../../src/election/election.js';
import { ZkSession } from '../../src/election/session.js';
import { CLI } from '../../src/launcher/cli-process.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { startZooKeeper } from '../support/apache-zookeeper.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { uniquePath } from '../support/zk.js';

const OPTIONS = { nodes: 1, tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 } as const;
const ALICE = 'digest:alice:alice-pw';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }));
  });

const SERVERS: Array<{ name: string; start: () => Promise<ZkEnsemble> }> = [
  { name: 'Apache ZooKeeper', start: () => startZooKeeper({ ...OPTIONS, controllable: true }) },
  { name: 'zk-elect server', start: () => startZkElectServer(OPTIONS) },
];

for (const server of SERVERS) {
  describe(`zk-elect --auth against ${server.name}`, () => {
    let zk: ZkEnsemble;
    const closers: Array<() => Promise<unknown>> = [];
    before(async () => {
      zk = await server.start();
    }, { timeout: 90_000 });
    after(async () => {
      for (const c of closers.reverse()) await c().catch(() => undefined);
      await zk?.stop();
    });
    const session = async (auth?: string) => {
      const s = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000, ...(auth ? { auth } : {}) });
      closers.push(() => s.close());
      return s;
    };

    test('CLI: status works without credentials; join without them exits 1 saying why; a bad --auth exits 2', { timeout: 90_000 }, async () => {
      const path = uniquePath('acl-cli');
      const owner = new LeaderElection(await session(ALICE), { path, id: 'alice' });
      closers.push(() => owner.close());
      await owner.join();
      await owner.waitForLeadership({ timeoutMs: 10_000 });
      const status = await cli(['status', '--json', '-c', zk.connectString, '-p', path]);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).leader.id, 'alice');
      const denied = await cli(['join', '-c', zk.connectString, '-p', path, '--id', 'mallory']);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /not allowed to join the election at .*: its ACL does not let this session \(no credentials\) create candidates; give the credentials of its owner/);
      const wrong = await cli(['join', '-c', zk.connectString, '-p', path, '--id', 'bob', '--auth', 'digest:bob:pw']);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /\(digest user "bob"\)/);
      const bad = await cli(['join', '-c', zk.connectString, '-p', path, '--auth', 'sasl:bob']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /auth must be digest:USER:PASSWORD/);
      assert.deepEqual((await owner.candidates()).map((c) => c.id), ['alice']);
    });

    test('CLI: join --auth (and ZK_ELECT_AUTH) joins the protected election as its owner', { timeout: 90_000 }, async () => {
      const path = uniquePath('acl-cli-owner');
      const owner = new LeaderElection(await session(ALICE), { path, id: 'alice' });
      closers.push(() => owner.close());
      await owner.join();
      await owner.waitForLeadership({ timeoutMs: 10_000 });
      // `status` lists it while a second identity-holder waits; the env var keeps the password out of ps.
      const child = execFile(process.execPath, [CLI, 'join', '--json', '-c', zk.connectString, '-p', path, '--id', 'alice-cli'], { env: { ...process.env, ZK_ELECT_AUTH: ALICE } });
      closers.push(async () => {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 20_000;
      while (!/"event":"following"/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.match(out, /"event":"following"/, 'the CLI candidate joined behind the leader');
      assert.deepEqual((await owner.candidates()).map((c) => c.id), ['alice', 'alice-cli']);
    });
  });
}
