/**
 * What the wire transport (zk-elect's own client, `transport: 'wire'`) does beyond the election
 * suites, which run on it unchanged (`npm run test:wire`): a chroot applied as the C client
 * applies it, refused credentials ending the handle, an unreachable server named in the
 * connect timeout's message, and a process that exits on its own once its sessions are
 * closed. Against real Apache ZooKeeper and zk-elect's server (in process).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { mathRandom, type ClientEvent } from '../../src/client/types.js';
import { WireClient } from '../../src/client/zk-client.js';
import { LeaderElection } from '../../src/election/election.js';
import type { WatchEvent } from '../../src/election/zk-types.js';
import { ConnectTimeoutError, InvalidArgumentError } from '../../src/election/errors.js';
import { resolveTransport, ZkSession } from '../../src/election/session.js';
import { wireHandle } from '../../src/election/wire-handle.js';
import { ErrorCode } from '../../src/protocol/index.js';
import { nodeNetwork } from '../../src/server/net/network.js';
import { CliProcess, eventually } from '../../src/launcher/cli-process.js';
import { standaloneServers } from '../support/zk-elect-server.js';
import { uniquePath } from '../support/zk.js';

const OPTIONS = { nodes: 1, tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 } as const;

interface Server {
  connectString: string;
  stop(): Promise<unknown>;
}

const SERVERS = standaloneServers(OPTIONS);

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

for (const server of SERVERS) {
  describe(`wire transport against ${server.name}`, () => {
    let zk: Server;
    before(async () => {
      zk = await server.start();
    });
    after(async () => {
      await zk?.stop();
    });

    test('a chroot is applied to every path, and stripped from created paths and watch events', async () => {
      const root = uniquePath('wire-chroot');
      const plain = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000, transport: 'wire' });
      const rooted = [0, 1].map(() => ZkSession.connect({ connect: `${zk.connectString}${root}`, sessionTimeoutMs: 4000, transport: 'wire' }));
      const [a, b] = await Promise.all(rooted);
      try {
        for (const p of ['/zk-elect-test', root]) await plain.create(p, Buffer.alloc(0), 'persistent').catch((e: { codeName?: string }) => assert.equal(e.codeName, 'NODEEXISTS'));
        // Created paths and watch events come back as the rooted session named them.
        const made = await a!.create('/seq-', Buffer.alloc(0), 'persistent-sequential');
        assert.match(made, /^\/seq-\d{10}$/);
        let fire!: (e: WatchEvent) => void;
        const event = new Promise<WatchEvent>((resolve) => (fire = resolve));
        assert.equal(await a!.exists('/watched', fire), null); // the watch stands once this is answered
        await plain.create(`${root}/watched`, Buffer.alloc(0), 'persistent');
        assert.deepEqual(await event, { type: 'created', path: '/watched' });
        const first = new LeaderElection(a!, { path: '/election', id: 'first' });
        const second = new LeaderElection(b!, { path: '/election', id: 'second' });
        await first.join();
        const leader = await first.waitForLeadership({ timeoutMs: 10_000 });
        assert.equal(leader.path.startsWith('/election/'), true, `the leader's path as the rooted session sees it: ${leader.path}`);
        // The node really lives under the chroot on the server.
        assert.notEqual(await plain.exists(`${root}${leader.path}`), null);
        await second.join();
        // The successor's watch event names the rooted path; a wrong strip would never wake it.
        const elected = new Promise((resolve) => second.once('elected', resolve));
        await first.resign();
        await elected;
        assert.equal(second.isLeader, true);
        await first.close();
        await second.close();
      } finally {
        await a!.close();
        await b!.close();
        await plain.close();
      }
    });

    test('the CLI runs on it: --transport wire (and ZK_ELECT_TRANSPORT=wire)', async () => {
      const p = uniquePath('wire-cli');
      const args = (id: string) => ['join', '--json', '-c', zk.connectString, '-p', p, '--id', id, '--log-level', 'info'];
      const a = new CliProcess([...args('cli-a'), '--transport', 'wire']);
      let b: CliProcess | undefined;
      try {
        await a.waitForEvent('elected', 20_000);
        b = new CliProcess(args('cli-b'), { ZK_ELECT_TRANSPORT: 'wire' }); // only now, so it follows
        await b.waitForEvent('following', 20_000);
        for (const [name, c] of [['a', a], ['b', b]] as const) assert.match(c.stderr, /"transport":"wire"/, `${name}'s log names its transport`);
        a.signal('SIGINT'); // a graceful leave: its node goes with closeSession, b leads
        await b.waitForEvent('elected', 20_000);
      } finally {
        a.signal('SIGKILL');
        b?.signal('SIGKILL');
        await Promise.all([a.exited, b?.exited]);
      }
    });

    test('refused credentials end the handle with AUTHFAILED; nothing else is disturbed', async () => {
      const events: ClientEvent[] = [];
      const [host, port] = zk.connectString.split(',')[0]!.split(':');
      const client = new WireClient({
        network: nodeNetwork,
        clock: systemClock,
        rng: mathRandom,
        servers: [`${host}:${port}`],
        sessionTimeoutMs: 4000,
        // No server knows this scheme: ZooKeeper answers AUTHFAILED and closes the connection.
        auth: [{ scheme: 'no-such-scheme', auth: Buffer.from('x') }],
        onEvent: (e) => events.push(e),
      });
      client.start();
      await eventually(() => client.state === 'closed', 10_000, 'the client never closed after the refused credentials');
      const closed = events.find((e) => e.type === 'state' && e.state === 'closed');
      assert.equal(closed?.type === 'state' ? closed.reason : undefined, 'auth-failed');
      const r = await client.exists('/');
      assert.equal(r.err, ErrorCode.SESSIONEXPIRED, 'a closed client answers every call itself');
      // The server still serves everyone else.
      const other = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000, transport: 'wire' });
      assert.notEqual(await other.exists('/'), null);
      await other.close();
    });
  });
}

describe('wire transport without a server', () => {
  test('an unreachable server: a bounded wait, then a message naming the address and the reason', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    await assert.rejects(
      ZkSession.connect({ connect: `127.0.0.1:${port}`, connectTimeoutMs: 1500, sessionTimeoutMs: 4000, transport: 'wire' }),
      (e: unknown) => {
        assert.ok(e instanceof ConnectTimeoutError, String(e));
        assert.match(e.message, new RegExp(`could not connect to ZooKeeper at 127\\.0\\.0\\.1:${port} within 1500 ms \\(connection to 127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED`));
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  });

  test('a process exits by itself once its sessions are closed, and fails loudly when it cannot connect', async () => {
    const port = await closedPort();
    const session = new URL('../../src/election/session.ts', import.meta.url).href;
    // Connects (to nothing: the connect timeout ends it) and must then exit with the error,
    // not hang on a keep-alive and not end with "unsettled top-level await".
    const script = `const { ZkSession } = await import(${JSON.stringify(session)});
try { await ZkSession.connect({ connect: '127.0.0.1:${port}', connectTimeoutMs: 800, transport: 'wire' }); }
catch (e) { console.error(e.message); process.exitCode = 3; }`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 3, `exit ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
    assert.match(r.stderr, /could not connect to ZooKeeper at 127\.0\.0\.1:\d+ within 800 ms/);
  });

  test('a transport name that does not exist is refused with the choices', () => {
    assert.throws(() => resolveTransport('carrier-pigeon' as never), (e: unknown) => e instanceof InvalidArgumentError && /native, wire/.test(e.message));
    assert.equal(resolveTransport('wire'), wireHandle);
  });
});
