/**
 * The TLS parts that need no server: the cluster file's tls section, the TLS file checks
 * (certificates made with openssl), and the peer links' announcement frames (real loopback).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClusterConfigError, loadClusterConfig, parseClusterConfig, quorumTlsFiles } from '../../src/server/cluster/cluster-config.js';
import { nodeNetwork } from '../../src/server/net/network.js';
import { PeerTransport } from '../../src/server/net/peer-transport.js';
import { systemClock } from '../../src/server/node/clock.js';
import { loadTlsFiles, TlsFileError } from '../../src/tls-files.js';
import { hasOpenssl, makeTestPki, type TestPki } from '../support/tls-certs.js';

const servers = [1, 2, 3].map((id) => ({ id, host: '127.0.0.1', clientPort: 2180 + id, quorumPort: 2890 + id, electionPort: 3890 + id }));
const file = (o: object) => JSON.stringify({ dataDir: '/d', servers, ...o });

test('the cluster file\'s tls section: a CA always, a certificate pair for every server, nothing else', () => {
  const bad: Array<[object, RegExp]> = [
    [{ tls: { cert: 'c.pem', key: 'k.pem' } }, /tls\.ca is required/],
    [{ tls: { ca: 'ca.pem', cert: 'c.pem' } }, /tls\.cert and tls\.key go together/],
    [{ tls: { ca: 'ca.pem' } }, /servers 1, 2, 3 have no TLS certificate/],
    [{ tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem', verify: 'no' } }, /tls\.verify is not a TLS setting/],
    [{ tls: { ca: '', cert: 'c.pem', key: 'k.pem' } }, /tls\.ca must be a file name/],
    [{ tls: 'on' }, /tls must be an object/],
  ];
  for (const [o, why] of bad) assert.throws(() => parseClusterConfig(file(o)), (e: unknown) => e instanceof ClusterConfigError && why.test((e as Error).message), JSON.stringify(o));
  assert.throws(
    () => parseClusterConfig(JSON.stringify({ dataDir: '/d', tls: { ca: 'ca.pem', cert: 'c', key: 'k' }, servers: [{ ...servers[0], tls: { cert: 'a', key: 'b', ca: 'x' } }, servers[1], servers[2]] })),
    /servers\[0\]\.tls names this server's "cert" and "key"/,
  );
  // Own pairs for some, the shared pair for the rest.
  const own = parseClusterConfig(JSON.stringify({ dataDir: '/d', tls: { ca: 'ca.pem', cert: 'shared.pem', key: 'shared-key.pem' }, servers: [{ ...servers[0], tls: { cert: 'one.pem', key: 'one-key.pem' } }, servers[1], servers[2]] }));
  assert.deepEqual(quorumTlsFiles(own, 1), { ca: 'ca.pem', cert: 'one.pem', key: 'one-key.pem' });
  assert.deepEqual(quorumTlsFiles(own, 2), { ca: 'ca.pem', cert: 'shared.pem', key: 'shared-key.pem' });
  assert.equal(quorumTlsFiles(parseClusterConfig(file({})), 1), undefined);
});

test('file names in the cluster file are relative to it', () => {
  const dir = fs.mkdtempSync('/tmp/zk-elect-tls-config-');
  try {
    const f = path.join(dir, 'cluster.json');
    fs.writeFileSync(f, file({ tls: { ca: 'pki/ca.pem', cert: '/abs/c.pem', key: 'k.pem' } }));
    assert.deepEqual(loadClusterConfig(f).tls, { ca: path.join(dir, 'pki/ca.pem'), cert: '/abs/c.pem', key: path.join(dir, 'k.pem') });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

let pki: TestPki | undefined;
before(() => {
  if (hasOpenssl()) pki = makeTestPki();
});
after(() => pki?.remove());

test('TLS files are checked when loaded', { skip: hasOpenssl() ? false : 'openssl is not installed' }, () => {
  const p = pki!;
  const ok = loadTlsFiles({ ca: p.ca, cert: p.server.cert, key: p.server.key }, { requireIdentity: true, requireCa: true });
  assert.ok(ok.cert && ok.key && ok.ca);
  const fails: Array<[Parameters<typeof loadTlsFiles>, RegExp]> = [
    [[{ cert: p.server.cert }], /go together/],
    [[{ ca: p.ca }, { requireIdentity: true }], /needs a certificate and its key/],
    [[{ cert: p.server.cert, key: p.server.key }, { requireCa: true }], /needs a CA file/],
    [[{ cert: p.server.cert, key: p.other.key }], /other-key\.pem does not belong to the certificate in .*server\.pem/],
    [[{ cert: p.expired.cert, key: p.expired.key }], /expired on Jan  2 00:00:00 2020 GMT/],
    [[{ cert: p.server.key, key: p.server.key }], /server-key\.pem holds no PEM certificate/],
    [[{ ca: path.join(p.dir, 'missing.pem') }], /cannot read the TLS CA file .*missing\.pem: ENOENT/],
  ];
  for (const [args, why] of fails) assert.throws(() => loadTlsFiles(...args), (e: unknown) => e instanceof TlsFileError && why.test((e as Error).message), why.source);
  // Not yet valid: checked against the time given.
  assert.throws(() => loadTlsFiles({ cert: p.server.cert, key: p.server.key }, { nowMs: Date.parse('2001-01-01') }), /is not valid before/);
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('announcements reach the peer before the messages sent after them, and again when they change', async () => {
  const ports = [await freePort(), await freePort()];
  const peers = new Map(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
  let mine = Buffer.from('first');
  const quiet = { warn: () => undefined, debug: () => undefined };
  const make = (id: number) =>
    new PeerTransport(
      { myId: id, listenHost: '127.0.0.1', listenPort: ports[id - 1]!, peers, maxMessageBytes: 1 << 20, maxQueuedBytes: 8 << 20, log: quiet, announcement: () => mine },
      { network: nodeNetwork, clock: systemClock },
    );
  const [a, b] = [make(1), make(2)];
  const seen: string[] = [];
  b.on('announced', (from, bytes) => seen.push(`announced ${from} ${bytes}`));
  b.on('message', (from, bytes) => seen.push(`message ${from} ${bytes}`));
  await Promise.all([a.start(), b.start()]);
  try {
    const end = Date.now() + 5000;
    while (!a.isConnected(2)) {
      assert.ok(Date.now() < end, 'no link');
      await new Promise((r) => setTimeout(r, 10));
    }
    a.send(2, Buffer.from('m1'));
    mine = Buffer.from('second');
    a.announce();
    a.send(2, Buffer.from('m2'));
    while (seen.length < 4) {
      assert.ok(Date.now() < end, `saw only ${seen.join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(seen, ['announced 1 first', 'message 1 m1', 'announced 1 second', 'message 1 m2']);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
