/**
 * `zk-elect cluster start` and `zk-elect cluster kill-leader` as a user runs them, real
 * processes throughout: a dashboard per node by default, one admin token per cluster (mode
 * 0600), a launcher control endpoint that refuses requests without that token, from a browser
 * or for a foreign Host, and kill-leader acting only through that launcher. Also the bad
 * input these commands must refuse with a usage error.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI, CliProcess, eventually } from '../../src/launcher/cli-process.js';
import { fourLetterWord, parseMode } from '../../src/launcher/four-letter-word.js';
import { readAdminToken } from '../../src/server/admin/admin-token.js';
import { loadClusterConfig } from '../../src/server/cluster/cluster-config.js';
import { isAlive } from '../support/zk.js';

function run(args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A raw POST, so that Host and Origin are exactly what the test says. */
function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout on ${url}`)));
    req.end();
  });
}

interface Started {
  proc: CliProcess;
  clusterFile: string;
  servers: Array<{ id: number; address: string; pid: number; dashboard?: string }>;
}

/** `zk-elect cluster start ARGS`, read from what it prints. */
async function clusterStart(args: string[], nodes: number): Promise<Started> {
  const proc = new CliProcess(['cluster', 'start', '--nodes', String(nodes), ...args]);
  const lines = () => proc.events.filter((e) => e.event === 'raw').map((e) => String(e.line));
  await eventually(() => lines().some((l) => l.startsWith('(Ctrl-C stops the cluster)')), 60_000, `cluster start to print its summary (stderr: ${proc.stderr})`);
  const servers = lines()
    .map((l) => /^ {2}server (\d+): (\S+) \(pid (\d+)\)(?:, dashboard (\S+))?$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ id: Number(m[1]), address: m[2]!, pid: Number(m[3]), ...(m[4] ? { dashboard: m[4] } : {}) }));
  const clusterFile = /^cluster file: (.+)$/.exec(lines().find((l) => l.startsWith('cluster file: ')) ?? '')?.[1] ?? '';
  return { proc, clusterFile, servers };
}

/** Ctrl-C, as a user stops it: every member goes with it. */
async function clusterStop(c: Started | undefined): Promise<void> {
  if (!c) return;
  c.proc.signal('SIGINT');
  const exit = await Promise.race([c.proc.exited, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
  if (exit === null) {
    // Last resort, only our own children: the launcher and the member PIDs it printed.
    await c.proc.stop();
    for (const s of c.servers) if (isAlive(s.pid)) process.kill(s.pid, 'SIGKILL');
  }
}

describe('zk-elect cluster start and kill-leader', () => {
  let started: Started | undefined;
  after(() => clusterStop(started));

  test('dashboards by default, one admin token, a control endpoint that checks it, kill-leader through the launcher', { timeout: 120_000 }, async () => {
    started = await clusterStart([], 3);
    const { servers, clusterFile } = started;
    assert.equal(servers.length, 3, started.proc.events.map((e) => e.line).join('\n'));
    const config = loadClusterConfig(clusterFile);
    const tokenFile = config.adminTokenFile!;
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600, 'the token file is for its owner only');
    const token = readAdminToken(tokenFile);
    // The members print their dashboard URL (with the token) to their console logs: owner-only too.
    for (const s of servers) assert.equal(statSync(path.join(path.dirname(clusterFile), `member-${s.id}`, 'console.log')).mode & 0o777, 0o600, `member-${s.id}/console.log`);

    // A dashboard per node, on loopback, at the printed URL (which carries the token as a fragment).
    for (const s of servers) {
      assert.ok(s.dashboard, `server ${s.id} has a dashboard`);
      const url = new URL(s.dashboard!);
      assert.equal(url.hostname, '127.0.0.1');
      assert.equal(url.hash, `#token=${token}`);
      const node = (await (await fetch(new URL('/api/node', url))).json()) as { id: number; clientAddress: string };
      assert.deepEqual([node.id, node.clientAddress], [s.id, s.address]);
    }

    // The launcher's control endpoint: loopback, token, no browsers, no foreign Host.
    const control = config.controlUrl!;
    const port = new URL(control).port;
    const victim = servers[0]!;
    const refusals: Array<[Record<string, string>, number]> = [
      [{}, 401],
      [{ Authorization: 'Bearer not-the-token-0123456789abcdefghij' }, 403],
      [{ Authorization: `Bearer ${token}`, Origin: 'http://127.0.0.1:1' }, 403],
      [{ Authorization: `Bearer ${token}`, Host: `attacker.example:${port}` }, 403],
    ];
    for (const [headers, status] of refusals) {
      const r = await post(`${control}kill?id=${victim.id}`, headers);
      assert.equal(r.status, status, `${JSON.stringify(headers)}: ${r.body}`);
    }
    // Through a node's admin server without the token: refused there too.
    const viaNode = await post(`${new URL(victim.dashboard!).origin}/api/control/kill?id=${victim.id}`, {});
    assert.equal(viaNode.status, 401);
    for (const s of servers) assert.ok(isAlive(s.pid), `server ${s.id} survived every refused request`);

    // kill-leader: the leader (found with srvr) is killed by its launcher, nobody else.
    const modes = await Promise.all(servers.map(async (s) => parseMode(await fourLetterWord(s.address, 'srvr'))));
    const leader = servers[modes.indexOf('leader')]!;
    const killed = await run(['cluster', 'kill-leader', '--cluster', clusterFile]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.match(killed.stdout, new RegExp(`^killed the leader, server ${leader.id} \\(${leader.address.replace(/\./g, '\\.')}\\)`));
    await eventually(() => !isAlive(leader.pid), 10_000, `the leader's process ${leader.pid} to be gone`);
    for (const s of servers) if (s !== leader) assert.ok(isAlive(s.pid), `server ${s.id} is still running`);
    const survivors = servers.filter((s) => s !== leader);
    await eventually(async () => (await Promise.all(survivors.map(async (s) => parseMode(await fourLetterWord(s.address, 'srvr').catch(() => ''))))).includes('leader'), 30_000, 'a new leader');

    // The directory works in place of the file.
    const again = await run(['cluster', 'kill-leader', '--cluster', path.dirname(clusterFile)]);
    assert.equal(again.code, 0, again.stderr);

    // Ctrl-C stops the launcher and every member it started.
    await clusterStop(started);
    assert.equal((await started.proc.exited).code, 0);
    for (const s of servers) await eventually(() => !isAlive(s.pid), 10_000, `server ${s.id} to stop with its launcher`);
    started = undefined;
  });

  test('--no-admin: no dashboards; kill-leader still works through the launcher', { timeout: 60_000 }, async () => {
    started = await clusterStart(['--no-admin', '--4lw-whitelist', 'ruok'], 1);
    assert.equal(started.servers.length, 1);
    assert.equal(started.servers[0]!.dashboard, undefined);
    assert.equal(await fourLetterWord(started.servers[0]!.address, 'ruok'), 'imok', '--4lw-whitelist reaches the servers');
    assert.match(await fourLetterWord(started.servers[0]!.address, 'mntr'), /^mntr is not executed because it is not in the whitelist\.\n$/);
    await clusterStop(started);
    started = undefined;
  });

  test('bad input: usage errors (exit 2), and a cluster file without a launcher is refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zk-elect-kill-leader-'));
    try {
      assert.equal((await run(['cluster', 'kill-leader'])).code, 2, '--cluster is required');
      const missing = await run(['cluster', 'kill-leader', '--cluster', path.join(dir, 'nope.json')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read cluster config/);
      const file = path.join(dir, 'cluster.json');
      writeFileSync(file, JSON.stringify({ dataDir: dir, servers: [{ id: 1, host: '127.0.0.1', clientPort: 1, quorumPort: 2, electionPort: 3 }] }));
      const noLauncher = await run(['cluster', 'kill-leader', '--cluster', file]);
      assert.equal(noLauncher.code, 1);
      assert.match(noLauncher.stderr, /names no launcher/);
      assert.equal((await run(['cluster', 'start', '--admin-port', '8080', '--no-admin'])).code, 2);
      const typo = await run(['server', '--data-dir', dir, '--port', '0', '--4lw-whitelist', 'ruok,mntrr']);
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /unknown four-letter word "mntrr"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
