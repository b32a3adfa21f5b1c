/**
 * Election ACLs against real Apache ZooKeeper and zk-elect's server (in process, so this file
 * needs no build: `npm run sim:mutants` runs it against mutated sources): with `auth`, the
 * election path and every candidate node get an ACL that only that identity may change, and
 * anyone may read. A session without the credentials can still see the election (the
 * observer), but can neither delete the leader's node nor join, and is told so. The CLI's
 * --auth is tested in election-acl-cli.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { digestId } from '../../src/election/auth.js';
import { LeaderElection } from '../../src/election/election.js';
import { NotAuthorizedError } from '../../src/election/errors.js';
import { joinPath, SEAT_MARKER_NODE } from '../../src/election/names.js';
import { LeaderObserver } from '../../src/election/observer.js';
import { ZkSession } from '../../src/election/session.js';
import { eventually } from '../../src/launcher/cli-process.js';
import { standaloneServers } from '../support/zk-elect-server.js';
import { Perm, RawClient } from '../support/raw-client.js';
import { uniquePath } from '../support/zk.js';

const OPTIONS = { nodes: 1, tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 } as const;
const ALICE = 'digest:alice:alice-pw';
const ALICE_ID = digestId({ scheme: 'digest', user: 'alice', password: 'alice-pw' });
const EXPECTED_ACL = [
  { perms: Perm.ALL, id: { scheme: 'digest', id: ALICE_ID } },
  { perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } },
];

interface Server {
  connectString: string;
  stop(): Promise<unknown>;
}

const SERVERS = standaloneServers(OPTIONS);

for (const server of SERVERS) {
  describe(`election ACLs against ${server.name}`, () => {
    let zk: Server;
    const closers: Array<() => Promise<unknown>> = [];
    before(async () => {
      zk = await server.start();
    }, { timeout: 90_000 });
    after(async () => {
      for (const c of closers.reverse()) await c().catch(() => undefined);
      await zk?.stop();
    });
    const raw = async () => {
      const c = await RawClient.connect(zk.connectString);
      closers.push(() => c.close());
      return c;
    };
    const session = async (auth?: string) => {
      const s = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000, ...(auth ? { auth } : {}) });
      closers.push(() => s.close());
      return s;
    };

    test('an authenticated candidate protects the path and its node; strangers may read but not delete or join', { timeout: 60_000 }, async () => {
      const path = uniquePath('acl');
      const leader = new LeaderElection(await session(ALICE), { path, id: 'alice-1' });
      closers.push(() => leader.close());
      await leader.join();
      const info = await leader.waitForLeadership({ timeoutMs: 10_000 });

      const stranger = await raw();
      const pathAcl = await stranger.getACL(path);
      assert.equal(pathAcl.errName, 'OK');
      assert.deepEqual(pathAcl.body?.acl, EXPECTED_ACL.map((a) => (a.id.scheme === 'digest' ? { ...a, id: { ...a.id, id: 'alice:x' } } : a)), 'digest ids are masked for a reader without ADMIN');
      const nodeAcl = await stranger.getACL(info.path);
      assert.equal(nodeAcl.body?.acl.length, 2);
      assert.equal(nodeAcl.body?.stat.version, 0, 'the candidate data was not changed');

      // Reading works for anyone.
      assert.equal((await stranger.getChildren(path)).errName, 'OK');
      assert.equal((await stranger.getData(info.path)).body?.data?.toString(), 'alice-1');
      // Changing does not.
      assert.equal((await stranger.delete(info.path)).errName, 'NOAUTH', 'a stranger cannot delete the leader\'s node');
      assert.equal((await stranger.create(`${path}/_c_intruder-__lock__`, 'x', 3)).errName, 'NOAUTH', 'nor create a candidate');
      assert.equal((await stranger.setData(info.path, 'mallory')).errName, 'NOAUTH');
      assert.equal((await stranger.setACL(path, [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }])).errName, 'NOAUTH');
      assert.equal(leader.isLeader, true, 'still the leader');

      // The owner's own identity sees the full ACL.
      const owner = await raw();
      await owner.auth('digest', 'alice:alice-pw');
      assert.deepEqual((await owner.getACL(path)).body?.acl, EXPECTED_ACL);
      assert.deepEqual((await owner.getACL(info.path)).body?.acl, EXPECTED_ACL);

      // An observer without credentials follows the election.
      const observer = new LeaderObserver(await session(), path);
      closers.push(() => observer.close());
      await observer.start();
      await eventually(() => observer.leader?.id === 'alice-1', 10_000, 'the observer sees alice-1 lead');

      // A second candidate with the same identity joins behind the leader and takes over.
      const second = new LeaderElection(await session(ALICE), { path, id: 'alice-2' });
      closers.push(() => second.close());
      await second.join();
      assert.equal(second.role, 'follower');
      await leader.resign();
      const next = await second.waitForLeadership({ timeoutMs: 10_000 });
      assert.equal(next.id, 'alice-2');
      assert.deepEqual((await owner.getACL(next.path)).body?.acl, EXPECTED_ACL);
    });

    test('a named handoff under auth: the seat and the seat marker carry the election ACL too', { timeout: 60_000 }, async () => {
      const path = uniquePath('acl-handoff');
      const a = new LeaderElection(await session(ALICE), { path, id: 'alice-a' });
      closers.push(() => a.close());
      await a.join();
      await a.waitForLeadership({ timeoutMs: 10_000 });
      const b = new LeaderElection(await session(ALICE), { path, id: 'alice-b' });
      closers.push(() => b.close());
      await b.join();
      const c = new LeaderElection(await session(ALICE), { path, id: 'alice-c' });
      closers.push(() => c.close());
      await c.join();
      await a.resign({ to: 'alice-c' });
      await c.waitForLeadership({ timeoutMs: 10_000 });

      // Every node the handoff left behind (c's seat, the seat marker) and every candidate node:
      // only alice may change them. World-open, a stranger could rewrite the marker that fences tokens.
      const owner = await raw();
      await owner.auth('digest', 'alice:alice-pw');
      const stranger = await raw();
      const children = (await owner.getChildren(path)).body?.children ?? [];
      assert.ok(children.includes(SEAT_MARKER_NODE), `the seat marker exists: ${children.join(', ')}`);
      assert.ok(children.length >= 4, `three candidates, a seat and the marker: ${children.join(', ')}`);
      for (const child of children) {
        assert.deepEqual((await owner.getACL(joinPath(path, child))).body?.acl, EXPECTED_ACL, `ACL of ${child}`);
        assert.equal((await stranger.setData(joinPath(path, child), 'mallory')).errName, 'NOAUTH', `a stranger cannot write ${child}`);
      }
      assert.equal(c.isLeader, true);
    });

    test('a candidate without credentials, or with another identity, cannot join: NotAuthorizedError, no node left', { timeout: 60_000 }, async () => {
      const path = uniquePath('acl-deny');
      const owner = new LeaderElection(await session(ALICE), { path, id: 'alice' });
      closers.push(() => owner.close());
      await owner.join();
      for (const auth of [undefined, 'digest:bob:bob-pw']) {
        const intruder = new LeaderElection(await session(auth), { path, id: 'intruder' });
        closers.push(() => intruder.close());
        await assert.rejects(intruder.join(), (e: unknown) => {
          assert.ok(e instanceof NotAuthorizedError, String(e));
          assert.match(e.message, new RegExp(`not allowed to join the election at ${path}: its ACL does not let this session \\(${auth ? 'digest user "bob"' : 'no credentials'}\\) create candidates`));
          return true;
        });
        assert.equal(intruder.role, 'idle');
      }
      assert.deepEqual((await owner.candidates()).map((c) => c.id), ['alice']);
    });
  });
}
