/**
 * The admin HTTP server: ZooKeeper-compatible /commands JSON, Prometheus /metrics, SSE,
 * the dashboard's read APIs and node control. First against a real `zk-elect server
 * --admin-port` process driven by real clients; then in process, to plug in the cluster
 * view and control providers a cluster driver will supply.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LeaderElection } from '../../src/election/election.js';
import { ZkSession } from '../../src/election/session.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { eventually } from '../../src/launcher/cli-process.js';
import { freePorts } from '../../src/launcher/ports.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { RawClient } from '../support/raw-client.js';
import { AdminServer } from '../../src/server/admin/admin-server.js';
import { readAdminToken } from '../../src/server/admin/admin-token.js';
import type { ControlAction, NodeSummary } from '../../src/server/admin/types.js';
import { defaultConfig } from '../../src/server/config.js';
import { ZkServer } from '../../src/server/zk-server.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

function request(base: string, pathAndQuery: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(pathAndQuery, base), { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout on ${pathAndQuery}`)));
    req.on('error', reject);
    req.end();
  });
}

interface Family {
  help: string;
  type: string;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

/** A strict-enough parser of the Prometheus text format: every line must be a comment or a sample. */
function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { help: '', type: '', samples: [] }));
    return f;
  };
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      family(m[1]!).help = m[2]!;
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      family(m[1]!).type = m[2]!;
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not a Prometheus line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g;
      let consumed = 0;
      for (let l = re.exec(m[2]); l; l = re.exec(m[2])) {
        labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed += l[0].length;
      }
      assert.equal(consumed, m[2].length, `bad labels in ${line}`);
    }
    const name = m[1]!;
    const base = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const f = families.get(base);
    assert.ok(f && f.type, `sample ${name} has no # TYPE before it`);
    assert.ok(f.help, `sample ${name} has no # HELP`);
    f.samples.push({ name, labels, value: Number(m[3] === '+Inf' ? Infinity : m[3]) });
  }
  return families;
}

function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const base = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
  const s = families.get(base)?.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value;
}

/** Reads /events until `count` events named `name` arrived (or the time is up). */
function readEvents(base: string, name: string, count: number, timeoutMs: number, onOpen?: () => void): Promise<Array<{ event: string; data: unknown }>> {
  return new Promise((resolve, reject) => {
    const got: Array<{ event: string; data: unknown }> = [];
    let buffer = '';
    const req = http.get(new URL('/events', base), { agent: false }, (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        reject(new Error(`/events answered ${res.statusCode} ${res.headers['content-type']}`));
        return;
      }
      onOpen?.();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data !== undefined) got.push({ event: ev, data: JSON.parse(data) });
          if (got.filter((g) => g.event === name).length >= count) {
            clearTimeout(timer);
            req.destroy();
            resolve(got);
            return;
          }
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`only ${got.filter((g) => g.event === name).length} '${name}' events in ${timeoutMs} ms: ${JSON.stringify(got.map((g) => g.event))}`));
    }, timeoutMs);
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
  });
}

describe('admin server of a zk-elect server process', () => {
  let zk: ZkEnsemble;
  let base: string;
  let session: ZkSession;
  let token: string;
  let tokenFile: string;
  const closers: Array<() => Promise<void>> = [];

  before(async () => {
    const [adminPort] = await freePorts(1);
    zk = await startZkElectServer({ serverArgs: ['--admin-port', String(adminPort)] });
    base = `http://127.0.0.1:${adminPort}`;
    tokenFile = path.join(zk.members[0]!.dir!, 'data', 'admin-token');
    token = readAdminToken(tokenFile);
    session = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
  });
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await session?.close();
    await zk?.stop();
  });

  test('/commands: ZooKeeper AdminServer JSON for ruok, srvr, stat, mntr, conf, cons, lead, wchs, dump', async () => {
    await session.create('/cmd', Buffer.from('x'), 'persistent');
    await session.create('/cmd/eph', Buffer.from('e'), 'ephemeral');
    await session.getData('/cmd', () => undefined); // one data watch

    const cmd = async (name: string) => {
      const r = await request(base, `/commands/${name}`);
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.equal(r.json.error, null, `${name} error`);
      return r.json;
    };

    assert.deepEqual(await cmd('ruok'), { command: 'ruok', error: null });

    const srvr = await cmd('srvr');
    assert.equal(srvr.command, 'server_stats');
    assert.match(srvr.version, /^3\.8\./);
    assert.equal(srvr.read_only, false);
    assert.equal(srvr.server_stats.server_state, 'standalone');
    assert.ok(srvr.server_stats.last_processed_zxid >= 3, 'session + 2 creates were applied');
    assert.ok(srvr.server_stats.num_alive_client_connections >= 1);
    assert.ok(srvr.server_stats.packets_received > 0);
    for (const k of ['avg_latency', 'max_latency', 'min_latency', 'outstanding_requests', 'uptime', 'packets_sent', 'log_dir_size']) {
      assert.equal(typeof srvr.server_stats[k], 'number', `server_stats.${k}`);
    }
    assert.ok(srvr.server_stats.log_dir_size > 0, 'the txn log has bytes');
    assert.deepEqual(Object.keys(srvr.client_response).sort(), ['last_buffer_size', 'max_buffer_size', 'min_buffer_size']);
    assert.equal((await cmd('server_stats')).command, 'server_stats', 'the primary name works too');

    const stat = await cmd('stat');
    assert.equal(stat.command, 'stats');
    assert.equal(stat.node_count, srvr.node_count);
    assert.ok(Array.isArray(stat.connections) && stat.connections.length >= 1);
    assert.deepEqual(Object.keys(stat.connections[0]), ['remote_socket_address', 'interest_ops', 'outstanding_requests', 'packets_received', 'packets_sent']);
    assert.match(stat.connections[0].remote_socket_address, /^\/127\.0\.0\.1:\d+$/);

    const mntr = await cmd('mntr');
    assert.equal(mntr.command, 'monitor');
    assert.equal(mntr.server_state, 'standalone');
    assert.equal(mntr.znode_count, srvr.node_count);
    assert.ok(mntr.ephemerals_count >= 1);
    assert.ok(mntr.watch_count >= 1);
    assert.ok(mntr.global_sessions >= 1);
    assert.ok(mntr.approximate_data_size > 0);
    assert.ok(mntr.cnt_fsynctime > 0, 'fsyncs counted');

    const conf = await cmd('conf');
    assert.equal(conf.command, 'configuration');
    assert.equal(conf.client_port, zk.members[0]!.clientPort);
    assert.equal(conf.tick_time, 200);
    assert.equal(conf.min_session_timeout, 1000);
    assert.equal(conf.max_session_timeout, 60_000);
    assert.equal(conf.server_id, 0);
    assert.match(conf.data_dir, /snap$/);
    assert.match(conf.data_log_dir, /log$/);

    const cons = await cmd('cons');
    assert.equal(cons.command, 'connections');
    assert.deepEqual(cons.secure_connections, []);
    const mine = cons.connections.find((c: { session_id: number }) => c.session_id !== 0);
    assert.ok(mine, 'our session shows in cons');
    for (const k of ['session_id', 'last_operation', 'established', 'session_timeout', 'last_zxid', 'last_latency', 'min_latency', 'avg_latency', 'max_latency']) {
      assert.ok(k in mine, `cons connection has ${k}`);
    }
    assert.equal(mine.session_timeout, session.timeoutMs);
    assert.ok(mine.established > Date.now() - 600_000 && mine.established <= Date.now());

    const lead = (await request(base, '/commands/lead')).json;
    assert.equal(lead.command, 'leader');
    assert.equal(lead.error, 'server is not initialized', 'as ZooKeeper answers for a standalone server');
    assert.equal(lead.is_leader, false);
    assert.equal(lead.leader_id, -1);
    assert.equal(lead.leader_ip, '');

    const wchs = await cmd('wchs');
    assert.equal(wchs.command, 'watch_summary');
    assert.ok(wchs.num_connections >= 1 && wchs.num_paths >= 1 && wchs.num_total_watches >= 1, JSON.stringify(wchs));

    const dump = await cmd('dump');
    assert.equal(dump.command, 'dump');
    const ephemerals = Object.values(dump.session_id_to_ephemeral_paths as Record<string, string[]>).flat();
    assert.ok(ephemerals.includes('/cmd/eph'), JSON.stringify(dump.session_id_to_ephemeral_paths));
    const sid = BigInt(`0x${session.sessionId.replace(/^0x/, '')}`).toString();
    assert.deepEqual(dump.session_id_to_ephemeral_paths[sid], ['/cmd/eph'], 'keyed by the decimal session id');
    // Session ids are 64-bit: the raw JSON carries every digit (JSON.parse would round them).
    const rawDump = (await request(base, '/commands/dump')).text;
    assert.ok(rawDump.includes(sid), 'the exact session id appears in expiry_time_to_session_ids');
    const expiries = Object.keys(dump.expiry_time_to_session_ids).map(Number);
    assert.ok(expiries.length >= 1 && expiries.every((t) => t > Date.now() - 60_000));

    const unknown = await request(base, '/commands/nosuch');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { command: 'nosuch', error: 'Unknown command: nosuch' });
  });

  test('figures from real counters: failed auths, response sizes, last cxid and response time, slow fsyncs', async () => {
    const mntr = async () => (await request(base, '/commands/mntr')).json;
    const serverStats = async () => (await request(base, '/commands/srvr')).json.server_stats;
    const authFailed0 = (await mntr()).auth_failed_count as number;
    assert.equal(typeof authFailed0, 'number');

    // A refused addAuth: AUTHFAILED, the connection closed, one more failed authentication everywhere.
    const bad = await RawClient.connect(zk.connectString, { autoPing: false });
    assert.equal((await bad.auth('nosuchscheme', 'x')).errName, 'AUTHFAILED');
    await bad.waitClosed(5000);
    assert.equal((await mntr()).auth_failed_count, authFailed0 + 1);
    assert.equal((await serverStats()).auth_failed_count, authFailed0 + 1);
    assert.equal(sample(parsePrometheus((await request(base, '/metrics')).text), 'zk_auth_failed_total'), authFailed0 + 1);
    const good = await RawClient.connect(zk.connectString, { autoPing: false });
    closers.push(async () => void (await good.close()));
    assert.equal((await good.auth('digest', 'user:password')).errName, 'OK');
    assert.equal((await mntr()).auth_failed_count, authFailed0 + 1, 'an accepted addAuth is no failure');

    // The last response to a client: a getData of 9 bytes is 16 (header) + 4 + 9 + 68 (Stat) bytes.
    await good.create('/figures', 'nine byte');
    const read = await good.getData('/figures');
    const nowElapsed = Number(process.hrtime.bigint() / 1_000_000n);
    const m = await mntr();
    assert.equal(m.last_client_response_size, 97);
    assert.ok(m.min_client_response_size > 0 && m.min_client_response_size <= 97 && m.max_client_response_size >= 97, JSON.stringify(m));
    const srvr = (await request(base, '/commands/srvr')).json;
    assert.deepEqual(srvr.client_response, { last_buffer_size: 97, min_buffer_size: m.min_client_response_size, max_buffer_size: m.max_client_response_size });

    // cons: the last (non-special) xid answered, and when, on ZooKeeper's elapsed-time clock.
    // Session ids are 64-bit: read our connection from the raw JSON (JSON.parse would round them).
    const text = (await request(base, '/commands/cons')).text;
    const ours = new RegExp(`"session_id": ${good.sessionId},[^{}]*?"last_cxid": (-?\\d+),[^{}]*?"last_response_time": (\\d+)`).exec(text);
    assert.ok(ours, `our session ${good.sessionId} in ${text}`);
    assert.equal(Number(ours[1]), read.xid, 'last_cxid is the xid of the last request answered');
    const lastResponse = Number(ours[2]);
    assert.ok(lastResponse <= nowElapsed + 5 && lastResponse > nowElapsed - 60_000, `last_response_time ${lastResponse} near ${nowElapsed}`);

    // Log fsyncs slower than the warning threshold (1000 ms here): counted, never more than the fsyncs.
    const stats = await serverStats();
    assert.equal(typeof stats.fsync_threshold_exceed_count, 'number');
    assert.ok(stats.fsync_threshold_exceed_count <= m.cnt_fsynctime);
    for (const k of ['non_mtlsremote_conn_count', 'non_mtlslocal_conn_count']) assert.ok(!(k in stats), `${k} is not made up`);
  });

  test('/metrics: Prometheus text whose values move with writes', async () => {
    const scrape = async () => {
      const r = await request(base, '/metrics');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      return parsePrometheus(r.text);
    };
    const before = await scrape();
    for (const name of ['zk_requests_total', 'zk_request_latency_seconds', 'zk_outstanding_requests', 'zk_last_zxid', 'zk_quorum_role', 'zk_fsync_total', 'zk_fsync_last_duration_seconds', 'zk_sessions', 'zk_znode_count', 'zk_watch_count', 'zk_connections', 'zk_epoch']) {
      assert.ok(before.has(name), `${name} is exposed`);
    }
    assert.equal(before.get('zk_request_latency_seconds')!.type, 'histogram');
    assert.equal(before.get('zk_requests_total')!.type, 'counter');
    assert.equal(sample(before, 'zk_quorum_role', { role: 'standalone' }), 1);
    assert.equal(sample(before, 'zk_quorum_role', { role: 'leader' }), 0);

    await session.create('/metrics-test', Buffer.alloc(0), 'persistent');
    for (let i = 0; i < 5; i++) await session.create(`/metrics-test/n${i}`, Buffer.from(String(i)), 'persistent');
    await session.getData('/metrics-test/n0');
    const afterWrites = await scrape();

    const delta = (name: string, labels?: Record<string, string>) => (sample(afterWrites, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
    assert.equal(delta('zk_znode_count'), 6);
    assert.ok(delta('zk_last_zxid') >= 6, 'zxid advanced');
    assert.equal(delta('zk_last_zxid_counter'), delta('zk_last_zxid'));
    assert.ok(delta('zk_requests_total', { op: 'create' }) >= 6, 'create requests counted');
    assert.ok(delta('zk_requests_total', { op: 'getData' }) >= 1, 'getData requests counted');
    assert.ok(delta('zk_fsync_total') >= 1, 'the writes were fsynced');
    assert.ok((sample(afterWrites, 'zk_sessions') ?? 0) >= 1);
    assert.ok((sample(afterWrites, 'zk_connections') ?? 0) >= 1);

    // Histogram: cumulative buckets, +Inf equals _count, _sum positive or zero.
    const createBuckets = afterWrites.get('zk_request_latency_seconds')!.samples.filter((s) => s.name === 'zk_request_latency_seconds_bucket' && s.labels.op === 'create');
    assert.ok(createBuckets.length > 5);
    for (let i = 1; i < createBuckets.length; i++) assert.ok(createBuckets[i]!.value >= createBuckets[i - 1]!.value, 'buckets are cumulative');
    assert.equal(createBuckets.at(-1)!.labels.le, '+Inf');
    assert.equal(createBuckets.at(-1)!.value, sample(afterWrites, 'zk_request_latency_seconds_count', { op: 'create' }));
    assert.ok((sample(afterWrites, 'zk_request_latency_seconds_sum', { op: 'create' }) ?? -1) >= 0);
  });

  test('/events: a state event every second and a change event after a write', async () => {
    const events = await readEvents(base, 'state', 2, 6000);
    const state = events.find((e) => e.event === 'state')!.data as { node: NodeSummary; cluster: { mode: string; nodes: NodeSummary[] } };
    assert.equal(state.node.role, 'standalone');
    assert.equal(state.node.id, 0);
    assert.match(state.node.zxid!, /^0x[0-9a-f]+$/);
    assert.ok(state.node.sessions! >= 1);
    assert.ok(state.node.connections! >= 1);
    assert.ok(state.node.znodeCount! > 4);
    assert.equal(state.node.epoch, 0);
    assert.equal(state.cluster.mode, 'standalone');
    assert.equal(state.cluster.nodes.length, 1);
    assert.equal(state.cluster.nodes[0]!.self, true);

    let wrote: Promise<unknown> | undefined;
    const withChange = await readEvents(base, 'change', 1, 6000, () => {
      wrote = new Promise((r) => setTimeout(r, 300)).then(() => session.create('/sse-change', Buffer.from('c'), 'persistent'));
    });
    await wrote;
    const change = withChange.find((e) => e.event === 'change')!.data as { zxid: string; previousZxid: string };
    assert.ok(BigInt(change.zxid) > BigInt(change.previousZxid), JSON.stringify(change));
  });

  test('/api/tree: data (text or base64), Stat and children, bounded', async () => {
    await session.create('/tree', Buffer.from('hello, tree'), 'persistent');
    await session.create('/tree/bin', Buffer.from([0, 1, 2, 255]), 'persistent');
    await session.create('/tree/big', Buffer.alloc(100 * 1024, 'a'), 'persistent');
    await session.create('/tree/eph', Buffer.from('mine'), 'ephemeral');

    const t = (await request(base, '/api/tree?path=/tree')).json;
    assert.equal(t.path, '/tree');
    assert.deepEqual(t.data, { encoding: 'utf8', value: 'hello, tree', length: 11, truncated: false });
    assert.deepEqual(t.children, ['big', 'bin', 'eph']);
    assert.deepEqual(t.childDetails.map((c: { ephemeral: boolean }) => c.ephemeral), [false, false, true]);
    assert.equal(t.stat.numChildren, 3);
    assert.equal(t.stat.dataLength, 11);
    assert.equal(t.stat.version, 0);
    assert.match(t.stat.czxid, /^0x[0-9a-f]+$/);
    assert.equal(t.stat.ephemeralOwner, '0x0');

    const bin = (await request(base, '/api/tree?path=/tree/bin')).json;
    assert.deepEqual(bin.data, { encoding: 'base64', value: Buffer.from([0, 1, 2, 255]).toString('base64'), length: 4, truncated: false });

    const big = (await request(base, '/api/tree?path=/tree/big')).json;
    assert.equal(big.data.length, 100 * 1024);
    assert.equal(big.data.value.length, 64 * 1024);
    assert.equal(big.data.truncated, true);

    const eph = (await request(base, '/api/tree?path=/tree/eph')).json;
    assert.equal(eph.ephemeral, true);
    assert.equal(BigInt(eph.stat.ephemeralOwner), BigInt(`0x${session.sessionId.replace(/^0x/, '')}`));

    const root = (await request(base, '/api/tree')).json;
    assert.equal(root.path, '/');
    assert.ok(root.children.includes('zookeeper') && root.children.includes('tree'));

    // At most 1000 children are listed.
    await session.create('/wide', Buffer.alloc(0), 'persistent');
    await Promise.all(Array.from({ length: 1005 }, (_, i) => session.create(`/wide/c${String(i).padStart(4, '0')}`, Buffer.alloc(0), 'persistent')));
    const wide = (await request(base, '/api/tree?path=/wide')).json;
    assert.equal(wide.stat.numChildren, 1005);
    assert.equal(wide.children.length, 1000);
    assert.equal(wide.childrenTruncated, true);

    const missing = await request(base, '/api/tree?path=/no/such');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { error: 'no node /no/such', code: 'NONODE' });
    for (const bad of ['relative', '/trailing/', '/a//b', '/a/./b']) {
      const r = await request(base, `/api/tree?path=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, bad);
      assert.equal(r.json.code, 'BADARGUMENTS');
      assert.match(r.json.error, /invalid path/);
    }
  });

  test('/api/elections: ordered candidates, the leader and its fencing token; a new leader after a resignation', async () => {
    const elections: LeaderElection[] = [];
    const join = async (id: string, meta?: Record<string, unknown>) => {
      const s = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
      const e = new LeaderElection(s, { path: '/election', id, meta });
      closers.push(async () => {
        await e.close();
        await s.close();
      });
      await e.join();
      elections.push(e);
      return e;
    };
    const alpha = await join('alpha');
    await join('beta');
    await join('gamma', { zone: 'eu-1' });
    const leaderInfo = await alpha.waitForLeadership({ timeoutMs: 5000 });

    const el = (await request(base, '/api/elections?path=/election')).json;
    assert.equal(el.exists, true);
    assert.deepEqual(el.candidates.map((c: { id: string }) => c.id), ['alpha', 'beta', 'gamma']);
    assert.deepEqual(el.candidates.map((c: { position: number }) => c.position), [0, 1, 2]);
    assert.ok(el.candidates[0].sequence < el.candidates[1].sequence && el.candidates[1].sequence < el.candidates[2].sequence);
    assert.equal(el.leader.id, 'alpha');
    assert.equal(el.leader.leader, true);
    assert.equal(el.candidates[1].leader, false);
    assert.equal(el.leader.node, alpha.nodeName);
    assert.equal(el.fencingToken, leaderInfo.token.toString(), 'the fencing token is the czxid the election library reports');
    assert.equal(BigInt(el.fencingTokenHex), leaderInfo.token);
    assert.equal(el.otherChildren, 0);

    const defaultPath = (await request(base, '/api/elections')).json;
    assert.equal(defaultPath.path, '/election', 'the default path');

    await alpha.resign();
    const next = await elections[1]!.waitForLeadership({ timeoutMs: 5000 });
    const el2 = (await request(base, '/api/elections?path=/election')).json;
    assert.deepEqual(el2.candidates.map((c: { id: string }) => c.id), ['beta', 'gamma']);
    assert.equal(el2.leader.id, 'beta');
    assert.equal(el2.fencingToken, next.token.toString());
    assert.ok(BigInt(el2.fencingToken) > BigInt(el.fencingToken), 'fencing tokens increase');
    assert.deepEqual(el2.candidates.map((c: { meta?: unknown; priority: number }) => [c.meta, c.priority]), [[undefined, 0], [{ zone: 'eu-1' }, 0]]);

    // A named handoff: gamma leads on a seat and is listed once, holding two nodes; beta is next.
    await elections[1]!.resign({ to: 'gamma' });
    const third = await elections[2]!.waitForLeadership({ timeoutMs: 5000 });
    const el3 = (await request(base, '/api/elections?path=/election')).json;
    assert.deepEqual(el3.candidates.map((c: { id: string; seat: boolean; places: number }) => [c.id, c.seat, c.places]), [['gamma', true, 2], ['beta', false, 1]]);
    assert.equal(el3.fencingToken, third.token.toString());
    assert.equal(el3.otherChildren, 0, "zk-elect's control nodes are not counted as foreign children");

    const none = (await request(base, '/api/elections?path=/no-election-here')).json;
    assert.deepEqual([none.exists, none.candidates, none.leader, none.fencingToken], [false, [], null, null]);
  });

  test('/api/game: parsed JSON, or the raw text', async () => {
    const missing = (await request(base, '/api/game')).json;
    assert.equal(missing.path, '/game');
    assert.equal(missing.exists, false);
    const state = { round: 3, secretHash: 'abc', guesses: [{ player: 'p1', guess: 42, verdict: 'higher' }] };
    await session.create('/game', Buffer.from(JSON.stringify(state)), 'persistent');
    const g = (await request(base, '/api/game')).json;
    assert.equal(g.exists, true);
    assert.equal(g.format, 'json');
    assert.deepEqual(g.json, state);
    assert.equal(g.stat.version, 0);
    await session.create('/game-text', Buffer.from('not json {'), 'persistent');
    const t = (await request(base, '/api/game?path=/game-text')).json;
    assert.equal(t.format, 'text');
    assert.equal(t.text, 'not json {');
  });

  test('the admin token: made at start in a file only its owner reads; resets need it and change nothing without it', async () => {
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
    await session.getData('/');
    const received = async () => (await request(base, '/commands/srvr')).json.server_stats.packets_received as number;
    const before = await received();
    assert.ok(before > 0);
    for (const name of ['srst', 'stat_reset', 'crst', 'connection_stat_reset']) {
      const none = await request(base, `/commands/${name}`);
      assert.equal(none.status, 401, `${name} without a token: ${none.text}`);
      assert.match(String(none.headers['www-authenticate']), /^Bearer/);
      assert.match(none.json.error, /admin token/);
      const wrong = await request(base, `/commands/${name}`, { headers: { Authorization: `Bearer ${'x'.repeat(43)}` } });
      assert.equal(wrong.status, 403, `${name} with a wrong token`);
    }
    assert.ok((await received()) >= before, 'no reset happened');
    const reset = await request(base, '/commands/srst', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(reset.status, 200, reset.text);
    assert.deepEqual(reset.json, { command: 'stat_reset', error: null });
    assert.ok((await received()) < before, 'srst with the token reset the packet counts');
  });

  test('control without a provider is 501; bad requests get JSON errors', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    const anonymous = await request(base, '/api/control/kill?id=1', { method: 'POST' });
    assert.equal(anonymous.status, 401, 'control without the token');
    const kill = await request(base, '/api/control/kill?id=1', { method: 'POST', headers: auth });
    assert.equal(kill.status, 501);
    assert.match(kill.json.error, /not available/);
    assert.equal(kill.json.action, 'kill');
    for (const action of ['pause', 'resume', 'restart']) assert.equal((await request(base, `/api/control/${action}?id=1`, { method: 'POST', headers: auth })).status, 501);
    const info = (await request(base, '/api/control')).json;
    assert.equal(info.available, false);
    assert.equal((await request(base, '/api/control/kill?id=1')).status, 405, 'control needs POST');
    assert.equal((await request(base, '/api/control/explode?id=1', { method: 'POST', headers: auth })).status, 404);

    const nope = await request(base, '/api/nothing');
    assert.equal(nope.status, 404);
    assert.match(nope.json.error, /no such endpoint/);
    assert.equal((await request(base, '/metrics', { method: 'DELETE' })).status, 405);
    const rebinding = await request(base, '/api/node', { headers: { Host: 'attacker.example:80' } });
    assert.equal(rebinding.status, 403, 'a non-loopback Host (DNS rebinding) is refused');
    assert.equal((await request(base, '/api/node', { headers: { Host: `localhost:${new URL(base).port}` } })).status, 200);
    const longPath = await request(base, `/api/tree?path=/${'x'.repeat(5000)}`);
    assert.equal(longPath.status, 400);

    const page = await request(base, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /<title>zk-elect dashboard<\/title>/);
    assert.doesNotMatch(page.text, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, 'the page loads nothing from the network');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  });
});

describe('admin server in process: cluster view and control providers', () => {
  const token = 'in-process-test-token-0123456789abcdef';
  const auth = { Authorization: `Bearer ${token}` };
  let server: ZkServer;
  let admin: AdminServer;
  let dir: string;
  const calls: Array<[ControlAction, number]> = [];
  let clusterMode: 'ok' | 'throw' | 'slow' = 'ok';

  const peer = (id: number, role: NodeSummary['role'], up = true): NodeSummary => ({
    id,
    clientAddress: `127.0.0.1:${2180 + id}`,
    adminUrl: `http://127.0.0.1:${8080 + id}/`,
    role,
    epoch: 4,
    zxid: '0x400000007',
    commitLag: role === 'leader' ? 0 : 2,
    sessions: 3,
    connections: 5,
    znodeCount: 12,
    outstandingRequests: 0,
    up,
  });

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'zk-elect-admin-'));
    server = await ZkServer.start(defaultConfig({ dataDir: dir, port: 0 }));
    admin = await AdminServer.start(server.node, {
      port: 0,
      token,
      clusterView: async () => {
        if (clusterMode === 'throw') throw new Error('peer 2 unreachable');
        if (clusterMode === 'slow') await new Promise((r) => setTimeout(r, 2000));
        return { nodes: [peer(0, 'follower'), peer(2, 'leader'), peer(3, 'follower', false)], leaderId: 2, quorumSize: 2 };
      },
      control: {
        perform: (action, id) => {
          if (id === 9) throw Object.assign(new Error('no node 9 in this cluster'), { status: 404 });
          calls.push([action, id]);
          return { pid: 1234 };
        },
      },
      clusterViewTimeoutMs: 300,
    });
  });
  after(async () => {
    await admin?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/api/cluster merges the driver view with this node read live', async () => {
    const view = (await request(admin.url, '/api/cluster')).json;
    assert.equal(view.mode, 'cluster');
    assert.equal(view.selfId, 0);
    assert.equal(view.leaderId, 2);
    assert.equal(view.quorumSize, 2);
    assert.deepEqual(view.nodes.map((n: NodeSummary) => n.id), [0, 2, 3]);
    const self = view.nodes[0];
    assert.equal(self.self, true);
    assert.equal(self.role, 'standalone', 'our own row is read from the node, not from the driver');
    assert.equal(self.clientAddress, server.connectString);
    assert.equal(view.nodes[1].self, false);
    assert.equal(view.nodes[1].commitLag, 0);
    assert.equal(view.nodes[2].up, false);
    assert.deepEqual(view.control, { available: true, actions: ['kill', 'pause', 'resume', 'restart'], reason: null });

    clusterMode = 'throw';
    const failed = (await request(admin.url, '/api/cluster')).json;
    assert.equal(failed.mode, 'standalone');
    assert.match(failed.error, /peer 2 unreachable/);
    clusterMode = 'slow';
    const slow = (await request(admin.url, '/api/cluster')).json;
    assert.match(slow.error, /longer than 300 ms/);
    clusterMode = 'ok';
  });

  test('control goes to the provider; missing tokens, wrong ids, origins and provider errors are refused', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong-token' }, { Authorization: token }, { Authorization: `Basic ${token}` }] as Array<Record<string, string>>) {
      const r = await request(admin.url, '/api/control/kill?id=2', { method: 'POST', headers });
      assert.ok(r.status === 401 || r.status === 403, `${JSON.stringify(headers)}: ${r.status} ${r.text}`);
    }
    assert.deepEqual(calls, [], 'no request without the token reached the provider');
    const ok = await request(admin.url, '/api/control/pause?id=2', { method: 'POST', headers: auth });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { ok: true, action: 'pause', id: 2, result: { pid: 1234 } });
    const sameOrigin = await request(admin.url, '/api/control/restart?id=3', { method: 'POST', headers: { ...auth, Origin: admin.url.replace(/\/$/, '') } });
    assert.equal(sameOrigin.status, 200, sameOrigin.text);
    assert.deepEqual(calls, [['pause', 2], ['restart', 3]]);

    const cross = await request(admin.url, '/api/control/kill?id=2', { method: 'POST', headers: { ...auth, Origin: 'https://attacker.example' } });
    assert.equal(cross.status, 403);
    assert.match(cross.json.error, /cross-origin/);
    for (const id of ['', 'x', '-1', '256', '1.5']) {
      const r = await request(admin.url, `/api/control/kill?id=${id}`, { method: 'POST', headers: auth });
      assert.equal(r.status, 400, `id=${id}`);
    }
    assert.equal((await request(admin.url, '/api/control/kill', { method: 'POST', headers: auth })).status, 400);
    const unknown = await request(admin.url, '/api/control/kill?id=9', { method: 'POST', headers: auth });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /no node 9/);
    assert.equal(calls.length, 2, 'refused requests never reached the provider');
  });

  test('the tree API reads with the ACL of an unauthenticated client', async () => {
    const c = await ZkSession.connect({ connect: server.connectString, sessionTimeoutMs: 5000 });
    try {
      await c.create('/secret', Buffer.from('s3cret'), 'persistent');
    } finally {
      await c.close();
    }
    // The session API has no setACL; restrict the node directly in the state (test only).
    server.stateView().tree.setACL('/secret', [{ perms: 31, id: { scheme: 'digest', id: 'admin:x' } }], 1);
    const r = await request(admin.url, '/api/tree?path=/secret');
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'NOAUTH');
    assert.doesNotMatch(r.text, /s3cret/);
  });

  test('control endpoints are off on a non-loopback bind unless allowed', async () => {
    const open = await AdminServer.start(server.node, { host: '0.0.0.0', port: 0, token, control: { perform: () => undefined } });
    try {
      const base = `http://127.0.0.1:${open.port}`;
      const r = await request(base, '/api/control/kill?id=1', { method: 'POST', headers: auth });
      assert.equal(r.status, 403);
      assert.match(r.json.error, /non-loopback/);
      assert.equal((await request(base, '/api/control')).json.available, false);
      assert.equal((await request(base, '/commands/ruok')).status, 200, 'the read side still answers');
    } finally {
      await open.stop();
    }
    const allowed = await AdminServer.start(server.node, { host: '0.0.0.0', port: 0, token, allowRemoteControl: true, control: { perform: () => undefined } });
    try {
      const r = await request(`http://127.0.0.1:${allowed.port}`, '/api/control/kill?id=1', { method: 'POST', headers: auth });
      assert.equal(r.status, 200, r.text);
      const anonymous = await request(`http://127.0.0.1:${allowed.port}`, '/api/control/kill?id=1', { method: 'POST' });
      assert.equal(anonymous.status, 401, 'remote control still needs the token');
    } finally {
      await allowed.stop();
    }
  });

  test('log fsyncs slower than the warning threshold are counted (threshold 0 ms: all of them)', async () => {
    const slowDir = mkdtempSync(path.join(os.tmpdir(), 'zk-elect-admin-fsync-'));
    const slow = await ZkServer.start(defaultConfig({ dataDir: slowDir, port: 0, adminPort: 0, fsyncWarningThresholdMs: 0 }));
    try {
      const before = (await request(slow.adminUrl!, '/commands/srvr')).json.server_stats.fsync_threshold_exceed_count as number;
      const c = await ZkSession.connect({ connect: slow.connectString, sessionTimeoutMs: 5000 });
      try {
        for (let i = 0; i < 3; i++) await c.create(`/slow-${i}`, Buffer.from('x'), 'persistent');
      } finally {
        await c.close();
      }
      const after = (await request(slow.adminUrl!, '/commands/srvr')).json.server_stats.fsync_threshold_exceed_count as number;
      assert.ok(after >= before + 3, `${before} -> ${after}: every write's fsync took more than 0 ms`);
      const metrics = parsePrometheus((await request(slow.adminUrl!, '/metrics')).text);
      assert.ok((sample(metrics, 'zk_fsync_threshold_exceeded_total') ?? -1) >= after);
      assert.ok((sample(metrics, 'zk_fsync_threshold_exceeded_total') ?? Infinity) <= (sample(metrics, 'zk_fsync_total') ?? -1));
    } finally {
      await slow.stop();
      rmSync(slowDir, { recursive: true, force: true });
    }
  });

  test('an event stream limit, and stop() ends open streams', async () => {
    const small = await AdminServer.start(server.node, { port: 0, token, maxEventStreams: 1 });
    const first = http.get(`${small.url}events`, { agent: false });
    const opened = await new Promise<http.IncomingMessage>((resolve, reject) => first.on('response', resolve).on('error', reject));
    assert.equal(opened.statusCode, 200);
    await eventually(() => small.eventStreams === 1, 2000, 'the stream to register');
    const second = await request(small.url, '/events');
    assert.equal(second.status, 503);
    const ended = new Promise<void>((resolve) => opened.on('close', () => resolve()).resume());
    await small.stop();
    await ended;
  });
});
