import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { PeerTransport } from '../../src/server/net/peer-transport.js';
import { nodeNetwork } from '../../src/server/net/network.js';
import { systemClock } from '../../src/server/node/clock.js';
import { parseClusterConfig, ClusterConfigError } from '../../src/server/cluster/cluster-config.js';

const quiet = { warn: () => undefined, debug: () => undefined };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

test('three peers exchange messages over real loopback sockets, and reconnect after a restart', async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const peers = new Map(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
  const make = (id: number) => new PeerTransport({ myId: id, listenHost: '127.0.0.1', listenPort: ports[id - 1]!, peers, maxMessageBytes: 1 << 20, maxQueuedBytes: 8 << 20, log: quiet }, { network: nodeNetwork, clock: systemClock });
  const nodes = [make(1), make(2), make(3)];
  const got: Array<[number, number, string]> = [];
  nodes.forEach((n, i) => n.on('message', (from, p) => got.push([i + 1, from, p.toString()])));
  await Promise.all(nodes.map((n) => n.start()));
  const until = async (cond: () => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await until(() => nodes.every((n, i) => [1, 2, 3].filter((p) => p !== i + 1).every((p) => n.isConnected(p))));
  assert.equal(nodes[0]!.send(2, Buffer.from('hello 2')), true);
  assert.equal(nodes[2]!.send(1, Buffer.from('hello 1')), true);
  await until(() => got.length === 2);
  assert.deepEqual(got.sort(), [[1, 3, 'hello 1'], [2, 1, 'hello 2']]);

  await nodes[1]!.stop();
  await until(() => !nodes[0]!.isConnected(2));
  assert.equal(nodes[0]!.send(2, Buffer.from('lost')), false, 'a message to a down peer is dropped, not queued');
  const again = make(2);
  again.on('message', (from, p) => got.push([2, from, p.toString()]));
  await again.start();
  await until(() => nodes[0]!.isConnected(2), 5000);
  nodes[0]!.send(2, Buffer.from('back'));
  await until(() => got.some((g) => g[2] === 'back'));

  // Messages of several reads each (a SNAP chunk is 256 KiB), back to back, arrive whole and in order.
  const big = [300_000, 5, 1 << 19, 70_000].map((n, i) => Buffer.alloc(n, 0x41 + i));
  const bigGot: Buffer[] = [];
  nodes[2]!.on('message', (from, p) => {
    if (from === 1 && p.length > 1) bigGot.push(Buffer.from(p));
  });
  for (const b of big) assert.equal(nodes[0]!.send(3, b), true);
  await until(() => bigGot.length === big.length, 5000);
  bigGot.forEach((b, i) => assert.ok(b.equals(big[i]!), `message ${i} of ${big[i]!.length} bytes`));

  // A reset by one side is seen by both: each reports the other down, then both redial.
  const events: string[] = [];
  nodes[0]!.on('down', (p) => events.push(`1 lost ${p}`));
  nodes[2]!.on('down', (p) => events.push(`3 lost ${p}`));
  nodes[2]!.reset(1);
  await until(() => events.includes('1 lost 3') && events.includes('3 lost 1'));
  await until(() => nodes[0]!.isConnected(3) && nodes[2]!.isConnected(1), 5000);
  nodes[0]!.send(3, Buffer.from('after reset'));
  await until(() => got.some((g) => g[2] === 'after reset' && g[0] === 3));
  await Promise.all([nodes[0]!.stop(), again.stop(), nodes[2]!.stop()]);
});

test('cluster config: valid files parse, bad ones name the problem', () => {
  const ok = parseClusterConfig(JSON.stringify({ dataDir: '/d', servers: [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', clientPort: 2180 + id, quorumPort: 2880 + id, electionPort: 3880 + id })) }));
  assert.equal(ok.servers.length, 3);
  assert.equal(ok.tickMs, 2000);
  assert.throws(() => parseClusterConfig('{'), /not valid JSON/);
  assert.throws(() => parseClusterConfig(JSON.stringify({ dataDir: '/d', servers: [] })), ClusterConfigError);
  assert.throws(
    () => parseClusterConfig(JSON.stringify({ dataDir: '/d', servers: [1, 2].map((id) => ({ id, host: 'h', clientPort: 1, quorumPort: 2, electionPort: 3 })) })),
    /1, 3, 5 or 7 servers/,
  );
  assert.throws(
    () => parseClusterConfig(JSON.stringify({ dataDir: '/d', servers: [{ id: 1, host: 'h', clientPort: 0, quorumPort: 2, electionPort: 3 }] })),
    /clientPort must be a port/,
  );
});
