/**
 * The secure client port (ZooKeeper's secureClientPort) of a real `zk-elect server` process,
 * tried with kazoo as a third-party TLS client: a verified client works; a plaintext client,
 * a client without a certificate, with one from another CA, or with an expired one is
 * refused, and the server and every other session carry on. Bad TLS files stop the server
 * at start with exit 2 and the file's name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI } from '../../src/launcher/cli-process.js';
import { fourLetterWord } from '../../src/launcher/four-letter-word.js';
import { freePorts } from '../../src/launcher/ports.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { encodeConnectRequest } from '../../src/protocol/index.js';
import { hasKazoo, Kazoo } from '../support/kazoo.js';
import { RawClient } from '../support/raw-client.js';
import { hasOpenssl, makeTestPki, type TestPki } from '../support/tls-certs.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { requirePart } from '../support/require-part.js';

requirePart(hasOpenssl(), 'openssl', 'apt-get install -y openssl');
requirePart(hasKazoo(), 'kazoo (python3)', 'apt-get install -y python3-kazoo');

describe('TLS on the client port', () => {
  let pki: TestPki;
  let zk: ZkEnsemble;
  let securePort: number;
  const tlsAddress = () => `127.0.0.1:${securePort}`;
  const kazooWith = (files: { certfile?: string; keyfile?: string; ca?: string }) =>
    Kazoo.start({ hosts: tlsAddress(), useSsl: true, ca: pki.ca, timeoutS: 4, ...files });

  before(async () => {
    pki = makeTestPki();
    [securePort] = (await freePorts(1)) as [number];
    zk = await startZkElectServer({
      serverArgs: ['--secure-port', String(securePort), '--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', pki.ca],
    });
  });
  after(async () => {
    await zk?.stop();
    pki?.remove();
  });

  test('kazoo with a certificate our CA signed reads and writes over TLS; conf names the real secure port', async () => {
    const { kazoo, started } = await kazooWith({ certfile: pki.client.cert, keyfile: pki.client.key });
    try {
      assert.equal(started.ok, true, `kazoo did not connect: ${started.error}`);
      assert.deepEqual(await kazoo.call({ op: 'create', path: '/over-tls', data: 'sealed' }), { ok: true, path: '/over-tls' });
      const got = await kazoo.call({ op: 'get', path: '/over-tls' });
      assert.equal(got.data, 'sealed');
    } finally {
      await kazoo.call({ op: 'stop' }).catch(() => undefined);
      await kazoo.end();
    }
    // Written over TLS, visible over plaintext: one server behind both ports.
    const plain = await RawClient.connect(zk.connectString);
    try {
      const r = await plain.getData('/over-tls');
      assert.equal(r.body?.data?.toString(), 'sealed');
    } finally {
      await plain.close();
    }
    const conf = await fourLetterWord(zk.connectString, 'conf');
    assert.match(conf, new RegExp(`^secureClientPort=${securePort}$`, 'm'));
  });

  test('plaintext, certificate-less, foreign-CA and expired clients are refused; the server and other sessions carry on', async () => {
    // Two sessions that must not notice: kazoo over TLS, and a plaintext client.
    const { kazoo: good, started } = await kazooWith({ certfile: pki.client.cert, keyfile: pki.client.key });
    assert.equal(started.ok, true, `kazoo did not connect: ${started.error}`);
    await good.call({ op: 'create', path: '/still-here', data: 'yes' });
    const plain = await RawClient.connect(zk.connectString, { timeoutMs: 4000 });
    try {
      // A ZooKeeper client speaking plaintext to the TLS port: the connection is closed, unanswered.
      const closedInMs = await plaintextOnTlsPort(securePort);
      assert.ok(closedInMs < 10_000, `closed after ${closedInMs} ms`);

      for (const [what, files] of [
        ['no client certificate', {}],
        ['a certificate from another CA', { certfile: pki.other.cert, keyfile: pki.other.key }],
        ['an expired certificate', { certfile: pki.expired.cert, keyfile: pki.expired.key }],
      ] as const) {
        const { kazoo, started: refused } = await kazooWith(files);
        await kazoo.end();
        assert.equal(refused.ok, false, `kazoo with ${what} connected`);
      }
      // And a client that does not trust the server's CA gives up on its own.
      const { kazoo: distrustful, started: distrusted } = await Kazoo.start({ hosts: tlsAddress(), useSsl: true, ca: pki.otherCa, certfile: pki.client.cert, keyfile: pki.client.key, timeoutS: 4 });
      await distrustful.end();
      assert.equal(distrusted.ok, false, 'kazoo trusting another CA connected');

      const got = await good.call({ op: 'get', path: '/still-here' });
      assert.equal(got.ok, true, JSON.stringify(got));
      assert.equal(got.session, started.session, 'the TLS session changed');
      assert.equal(got.state, 'CONNECTED');
      const r = await plain.getData('/still-here');
      assert.equal(r.err, 0);
      assert.equal(plain.sessionId !== 0n && !plain.expired, true);
      assert.equal(zk.members[0]!.running, true);
      // The server said whom it refused and why (one line per refused handshake).
      const log = fs.readFileSync(path.join(zk.members[0]!.dir!, 'console.log'), 'utf8');
      const refusals = log.split('\n').filter((l) => l.includes('refused a TLS client'));
      assert.ok(refusals.length >= 4, `refusals logged: ${refusals.join('\n')}`);
      assert.ok(refusals.some((l) => /certificate/i.test(l)), refusals.join('\n'));
    } finally {
      await plain.close().catch(() => undefined);
      await good.call({ op: 'stop' }).catch(() => undefined);
      await good.end();
    }
  });
});

/** Sends a plaintext ConnectRequest to the TLS port; resolves with how long until the server closed it. */
function plaintextOnTlsPort(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = net.connect({ host: '127.0.0.1', port });
    let answered = false;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('the TLS port kept a plaintext client open for 15 s'));
    }, 15_000);
    s.on('connect', () => s.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false })));
    s.on('data', (d) => {
      // A TLS alert may come back; a ConnectResponse (which starts with a 4-byte length of 36+) must not.
      if (d.length >= 4 && d.readInt32BE(0) >= 36 && d.readInt32BE(0) < 64) answered = true;
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      if (answered) reject(new Error('the TLS port answered a plaintext ConnectRequest'));
      else resolve(Date.now() - t0);
    });
  });
}

describe('TLS files at start', () => {
  let pki: TestPki;
  let dir: string;
  before(() => {
    pki = makeTestPki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-tls-start-'));
  });
  after(() => {
    pki?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = (tls: string[]) =>
    spawnSync(process.execPath, [CLI, 'server', '--data-dir', path.join(dir, 'data'), '--port', '0', '--secure-port', '0', ...tls], { encoding: 'utf8', timeout: 20_000 });

  test('an unreadable, non-PEM or mismatched file stops the server with exit 2, naming the file', () => {
    const garbage = path.join(dir, 'garbage.pem');
    fs.writeFileSync(garbage, 'not a certificate\n');
    const cases: Array<[string, string[], RegExp]> = [
      ['missing certificate', ['--tls-cert', path.join(dir, 'nope.pem'), '--tls-key', pki.server.key], /cannot read the TLS certificate file .*nope\.pem: ENOENT/],
      ['not PEM', ['--tls-cert', garbage, '--tls-key', pki.server.key], /garbage\.pem holds no PEM certificate/],
      ['key of another certificate', ['--tls-cert', pki.server.cert, '--tls-key', pki.client.key], /client-key\.pem does not belong to the certificate in .*server\.pem/],
      ['key file holds a certificate', ['--tls-cert', pki.server.cert, '--tls-key', pki.server.cert], /server\.pem holds no usable private key/],
      ['expired certificate', ['--tls-cert', pki.expired.cert, '--tls-key', pki.expired.key], /expired\.pem .* expired on/],
      ['unreadable CA', ['--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', garbage], /garbage\.pem holds no PEM certificate/],
      ['no key', ['--tls-cert', pki.server.cert], /--secure-port needs --tls-cert and --tls-key/],
    ];
    for (const [what, args, message] of cases) {
      const r = start(args);
      assert.equal(r.status, 2, `${what}: exit ${r.status}, stderr ${r.stderr}`);
      assert.match(r.stderr, message, what);
    }
    assert.equal(fs.existsSync(path.join(dir, 'data')), false, 'a refused start created the data directory');
  });
});
