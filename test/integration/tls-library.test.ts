/**
 * TLS from the library (loopback tunnels over node:tls, since the C client has none), against
 * a real `zk-elect server` whose secure port requires client certificates: `zk-elect join`
 * and `status` elect and report a leader over TLS, `game` plays over TLS, a session's close
 * still reaches the server through its tunnel (its ephemeral goes at once), and a wrong CA
 * fails within the connect timeout with a message naming the address.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ConnectTimeoutError } from '../../src/election/errors.js';
import { ZkSession } from '../../src/election/session.js';
import { CLI, CliProcess, eventually } from '../../src/launcher/cli-process.js';
import { freePorts } from '../../src/launcher/ports.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { RawClient } from '../support/raw-client.js';
import { hasOpenssl, makeTestPki, type TestPki } from '../support/tls-certs.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { requirePart } from '../support/require-part.js';

requirePart(hasOpenssl(), 'openssl', 'apt-get install -y openssl');

describe('TLS from the library and the CLI', () => {
  let pki: TestPki;
  let zk: ZkEnsemble;
  let tlsAddress: string;
  let clientFlags: string[];
  const live: CliProcess[] = [];

  before(async () => {
    pki = makeTestPki();
    const [securePort] = (await freePorts(1)) as [number];
    tlsAddress = `127.0.0.1:${securePort}`;
    clientFlags = ['-c', tlsAddress, '--tls-ca', pki.ca, '--tls-cert', pki.client.cert, '--tls-key', pki.client.key];
    zk = await startZkElectServer({
      serverArgs: ['--secure-port', String(securePort), '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', pki.ca],
    });
  });
  after(async () => {
    for (const p of live) await p.stop();
    await zk?.stop();
    pki?.remove();
  });

  test('zk-elect join and status elect and report a leader over TLS', async () => {
    const a = new CliProcess(['join', '--json', ...clientFlags, '-p', '/tls-election', '--id', 'alpha', '--session-timeout', '4000']);
    live.push(a);
    await a.waitForEvent('elected', 20_000);
    const b = new CliProcess(['join', '--json', ...clientFlags, '-p', '/tls-election', '--id', 'beta', '--session-timeout', '4000']);
    live.push(b);
    await b.waitForEvent('following', 20_000);
    const status = spawnSync(process.execPath, [CLI, 'status', '--json', ...clientFlags, '-p', '/tls-election'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(status.status, 0, status.stderr);
    const out = JSON.parse(status.stdout) as { leader: { id: string } | null; candidates: Array<{ id: string }> };
    assert.equal(out.leader?.id, 'alpha');
    assert.deepEqual(out.candidates.map((c) => c.id), ['alpha', 'beta']);
    // The candidates really went through the TLS port: the plain port sees the same election.
    const plain = await RawClient.connect(zk.connectString);
    try {
      const kids = await plain.getChildren('/tls-election');
      assert.equal(kids.body?.children.length, 2);
    } finally {
      await plain.close();
    }
    a.signal('SIGTERM');
    await a.exited;
    await b.waitForEvent('elected', 20_000);
  });

  test('zk-elect game plays over TLS', () => {
    const r = spawnSync(process.execPath, [CLI, 'game', ...clientFlags, '-p', '/tls-game', '--exec', 'write 42', '--exec', 'guess 42'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; cmd: string });
    assert.ok(results.every((x) => x.ok), r.stdout);
  });

  test('a session\'s close reaches the server through its tunnel: its ephemeral goes at once', async () => {
    const session = await ZkSession.connect({
      connect: tlsAddress,
      sessionTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      tls: { ca: fs.readFileSync(pki.ca), cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) },
    });
    await session.create('/tls-ephemeral', Buffer.alloc(0), 'ephemeral');
    const plain = await RawClient.connect(zk.connectString);
    try {
      assert.equal((await plain.exists('/tls-ephemeral')).err, 0);
      const t0 = Date.now();
      await session.close();
      // Well inside the 30 s session timeout: only a delivered closeSession removes it this soon.
      await eventually(async () => (await plain.exists('/tls-ephemeral')).err !== 0, 5000, 'the ephemeral to go');
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      await plain.close();
    }
  });

  test('a wrong CA fails within the connect timeout, naming the address and the reason', async () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [CLI, 'status', '-c', tlsAddress, '--tls-ca', pki.otherCa, '--tls-cert', pki.client.cert, '--tls-key', pki.client.key, '--connect-timeout', '3000'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
    assert.match(r.stderr, new RegExp(`could not connect to ZooKeeper at ${tlsAddress} within 3000 ms \\(TLS to ${tlsAddress} failed: .*certificate`));

    // The library says the same, with the same bound.
    await assert.rejects(
      ZkSession.connect({ connect: tlsAddress, connectTimeoutMs: 2000, tls: { ca: fs.readFileSync(pki.otherCa) } }),
      (e: unknown) => e instanceof ConnectTimeoutError && e.message.includes(`TLS to ${tlsAddress} failed`),
    );
    // A missing client certificate is refused by the server; the client sees its connection closed.
    await assert.rejects(ZkSession.connect({ connect: tlsAddress, connectTimeoutMs: 2000, tls: { ca: fs.readFileSync(pki.ca) } }), ConnectTimeoutError);
  });

  test('bad TLS flags are usage errors naming the file', () => {
    const r = spawnSync(process.execPath, [CLI, 'watch', '-c', tlsAddress, '--tls-ca', '/no/such/ca.pem'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read the TLS CA file \/no\/such\/ca\.pem: ENOENT/);
    const k = spawnSync(process.execPath, [CLI, 'run', '-c', tlsAddress, '--tls-cert', pki.client.cert, '--', 'true'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(k.status, 2);
    assert.match(k.stderr, /--tls-cert and --tls-key go together/);
  });
});
