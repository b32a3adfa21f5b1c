/**
 * TLS between cluster members, on a real 3-process cluster whose cluster file names the
 * certificates: the cluster elects and replicates over TLS; a peer with no certificate, one
 * from another CA, one not valid for the member's host, or plaintext, is refused at the
 * member's quorum port; an impostor process with another CA's certificate in member 2's place
 * never joins, while the other two keep the same leader and take writes; the real member 2
 * then rejoins.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { ZkSession } from '../../src/election/session.js';
import { CLI, eventually, sleep } from '../../src/launcher/cli-process.js';
import { fourLetterWord, modeOf } from '../../src/launcher/four-letter-word.js';
import type { ZkEnsemble, ZkMember } from '../../src/launcher/types.js';
import { startZkElectCluster } from '../../src/launcher/zk-elect-cluster.js';
import { hasOpenssl, makeTestPki, type TestPki } from '../support/tls-certs.js';
import { requirePart } from '../support/require-part.js';

interface ClusterFile {
  servers: Array<{ id: number; host: string; clientPort: number; quorumPort: number; electionPort: number }>;
  tls: { ca: string; cert: string; key: string };
  [k: string]: unknown;
}

const HELLO = (id: number) => {
  const b = Buffer.alloc(10);
  b.writeUInt32BE(0x5a4b5045, 0);
  b.writeUInt16BE(2, 4); // peer-transport.ts VERSION
  b.writeUInt32BE(id, 6);
  return b;
};

/** Connects (TLS or not), sends a valid hello claiming `id`, and resolves how it ended. */
function knock(port: number, id: number, how: { tls?: tls.ConnectionOptions }): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const s = how.tls ? tls.connect({ host: '127.0.0.1', port, ...how.tls }) : net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve('open');
    }, 5000);
    s.once(how.tls ? 'secureConnect' : 'connect', () => s.write(HELLO(id)));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

function logOf(member: ZkMember): string {
  return fs.readFileSync(path.join(member.dir!, 'console.log'), 'utf8');
}

async function write(zk: ZkEnsemble, name: string): Promise<void> {
  const s = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 4000, connectTimeoutMs: 10_000 });
  try {
    await s.create(`/${name}`, Buffer.from(name), 'persistent');
  } finally {
    await s.close();
  }
}

async function exists(member: ZkMember, name: string): Promise<boolean> {
  const s = await ZkSession.connect({ connect: member.address, sessionTimeoutMs: 4000, connectTimeoutMs: 10_000 });
  try {
    return (await s.exists(`/${name}`)) !== null;
  } finally {
    await s.close();
  }
}

requirePart(hasOpenssl(), 'openssl', 'apt-get install -y openssl');

describe('TLS between cluster members', () => {
  let pki: TestPki;
  let zk: ZkEnsemble;
  let clusterFile: string;
  let config: ClusterFile;

  before(async () => {
    pki = makeTestPki();
    zk = await startZkElectCluster({ nodes: 3, tls: { ca: pki.ca, cert: pki.server.cert, key: pki.server.key } });
    clusterFile = path.join(path.dirname(zk.members[0]!.dir!), 'cluster.json');
    config = JSON.parse(fs.readFileSync(clusterFile, 'utf8')) as ClusterFile;
  });
  after(async () => {
    await zk?.stop();
    pki?.remove();
  });

  test('the cluster elects and replicates over TLS', async () => {
    assert.equal(config.tls.ca, pki.ca);
    for (const m of zk.members) assert.match(logOf(m), /TLS between members/);
    await write(zk, 'over-tls');
    for (const m of zk.members) assert.equal(await eventually(() => exists(m, 'over-tls'), 10_000, `member ${m.id} to hold /over-tls`), true);
  });

  test('plaintext, certificate-less, foreign-CA and wrong-host peers are refused at the quorum port', async () => {
    const leader = await eventually(() => zk.leader(), 20_000, 'a leader');
    const port = config.servers.find((s) => s.id === leader.id)!.quorumPort;
    const claim = zk.members.find((m) => m.id !== leader.id)!.id; // a real member's id
    const ca = fs.readFileSync(pki.ca);
    const cases: Array<[string, { tls?: tls.ConnectionOptions }]> = [
      ['plaintext hello', {}],
      ['TLS without a certificate', { tls: { ca } }],
      ['a certificate from another CA', { tls: { ca, cert: fs.readFileSync(pki.other.cert), key: fs.readFileSync(pki.other.key) } }],
      ['our CA, but not valid for 127.0.0.1', { tls: { ca, cert: fs.readFileSync(pki.wrongHost.cert), key: fs.readFileSync(pki.wrongHost.key) } }],
    ];
    const before = await fourLetterWord(leader.address, 'srvr');
    for (const [what, how] of cases) assert.equal(await knock(port, claim, how), 'closed', `${what} was kept open`);
    // The leader logs each refusal (the log line may land just after the close).
    await eventually(() => /certificate not valid for 127\.0\.0\.1/.test(logOf(leader)), 5000, 'the wrong-host refusal in the leader\'s log');
    const log = logOf(leader);
    assert.match(log, /refused a peer connection: TLS handshake failed .*wrong version number/); // plaintext
    assert.match(log, /refused a peer connection: TLS handshake failed .*peer did not return a certificate/);
    assert.doesNotMatch(log, /bad hello/);
    // Undisturbed: same leader, same epoch (zxid high word), still taking writes.
    assert.equal(await leader.mode(), 'leader');
    const epochOf = (srvr: string) => /Zxid: 0x([0-9a-f]+)/.exec(srvr)![1]!.padStart(16, '0').slice(0, 8);
    await write(zk, 'after-knocks');
    assert.equal(epochOf(await fourLetterWord(leader.address, 'srvr')), epochOf(before));
  });

  test('an impostor with another CA\'s certificate in member 2\'s place never joins; the real member 2 rejoins', async () => {
    const leader = await eventually(() => zk.leader(), 20_000, 'a leader');
    const victim = zk.members.find((m) => m.id !== leader.id)!;
    const survivor = zk.members.find((m) => m.id !== leader.id && m !== victim)!;
    await victim.kill('SIGKILL');
    const impostorDir = fs.mkdtempSync(path.join(path.dirname(victim.dir!), 'impostor-'));
    const impostorFile = path.join(impostorDir, 'cluster.json');
    fs.writeFileSync(impostorFile, JSON.stringify({ ...config, dataDir: impostorDir, tls: { ca: pki.otherCa, cert: pki.other.cert, key: pki.other.key } }));
    const out = fs.openSync(path.join(impostorDir, 'console.log'), 'a');
    const impostor = spawn(process.execPath, [CLI, 'server', '--id', String(victim.id), '--config', impostorFile, '--log-level', 'info'], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    try {
      const victimAddress = victim.address;
      // Give it several election rounds.
      for (let i = 0; i < 10; i++) {
        await sleep(300);
        assert.equal(await modeOf(victimAddress, 1000), 'unknown', 'the impostor serves');
      }
      await write(zk, 'with-impostor-around');
      assert.equal(await leader.mode(), 'leader');
      assert.equal(await survivor.mode(), 'follower');
      assert.match(logOf(leader) + logOf(survivor), /refused a peer connection: TLS handshake failed/);
      const impostorLog = fs.readFileSync(path.join(impostorDir, 'console.log'), 'utf8');
      assert.match(impostorLog, /cannot link to a peer: TLS handshake failed/);
    } finally {
      impostor.kill('SIGKILL');
      if (impostor.exitCode === null) await new Promise((r) => impostor.once('exit', r));
      fs.rmSync(impostorDir, { recursive: true, force: true });
    }
    await victim.start();
    await eventually(async () => (await victim.mode()) === 'follower', 20_000, 'member 2 back as a follower');
    assert.equal(await eventually(() => exists(victim, 'with-impostor-around'), 10_000, 'the rejoined member to catch up'), true);
  });
});
