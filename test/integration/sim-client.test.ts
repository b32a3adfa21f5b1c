/**
 * The simulator's ZooKeeper client (test/sim/client) against a real in-process server over
 * the real network and clock: the same code the simulator drives, checked here against the
 * server it is meant to exercise. A relay between client and server (built on nodeNetwork,
 * as the simulator's own network would be) lets a test cut the connection or refuse new ones;
 * a scripted fake server produces the protocol violations a correct server never does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionLossError, OperationTimeoutError, SessionExpiredError, ZooKeeperError } from '../../src/election/errors.js';
import { readCandidates } from '../../src/election/candidates.js';
import { candidatePrefix, orderCandidates } from '../../src/election/names.js';
import type { WatchEvent } from '../../src/election/zk-types.js';
import { CreateMode, ErrorCode, EventType, KeeperState } from '../../src/protocol/index.js';
import { defaultConfig } from '../../src/server/config.js';
import { systemClock } from '../../src/clock.js';
import { nodeNetwork } from '../../src/server/net/network.js';
import { ZkServer } from '../../src/server/zk-server.js';
import { WireClient, type ClientEvent, type WireClientOptions, type WatchedEvent } from '../../src/client/zk-client.js';
import { toZkOps } from '../../src/client/zk-ops.js';
import { Prng } from '../sim/prng.js';
import { FakeServer, Relay } from '../sim/client/testing.js';

const d = (s: string) => Buffer.from(s);

let dir: string;
let server: ZkServer;
let relay: Relay;
const clients: WireClient[] = [];
const fakes: FakeServer[] = [];
let seed = 1;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-client-'));
  // A 100 ms tick lets sessions as short as 200 ms exist, so expiry fits in a fast test.
  server = await ZkServer.start(defaultConfig({ dataDir: dir, port: 0, tickMs: 100, fsync: false }));
  relay = await Relay.start({ host: '127.0.0.1', port: server.clientPort });
});

after(async () => {
  for (const c of clients) if (c.state !== 'closed' && c.state !== 'expired') await c.close();
  await relay.close();
  for (const f of fakes) await f.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Tracked { client: WireClient; events: ClientEvent[] }

async function open(opts: Partial<WireClientOptions> & { servers?: string[] } = {}): Promise<Tracked> {
  const events: ClientEvent[] = [];
  const client = new WireClient({
    network: nodeNetwork, clock: systemClock, rng: new Prng(seed++),
    servers: [server.connectString], sessionTimeoutMs: 2000,
    ...opts,
    onEvent: (e) => events.push(e),
  });
  clients.push(client);
  client.start();
  await until(() => client.state === 'connected', `${client.sessionId} to connect`);
  return { client, events };
}

async function fake(opts: { answerHandshake: boolean }): Promise<FakeServer> {
  const f = await FakeServer.start(opts);
  fakes.push(f);
  return f;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const violations = (t: Tracked) => t.events.filter((e) => e.type === 'violation');
const states = (t: Tracked) => t.events.flatMap((e) => (e.type === 'state' ? [e.state] : []));

describe('WireClient against a standalone zk-elect server', () => {
  test('create/get/set/delete with versions; errors come back as codes', async () => {
    const t = await open();
    const c = t.client;
    assert.ok(c.sessionId !== 0n && c.server === server.connectString);
    const created = await c.create('/crud', d('v0'), CreateMode.PERSISTENT);
    assert.deepEqual([created.err, created.path, c.lastZxidSeen], [0, '/crud', created.zxid]);
    const got = await c.getData('/crud');
    assert.deepEqual([got.data?.toString(), got.stat?.version], ['v0', 0]);
    assert.equal((await c.setData('/crud', d('v1'), 5)).err, ErrorCode.BADVERSION);
    const set = await c.setData('/crud', d('v1'), 0);
    assert.deepEqual([set.err, set.stat?.version, set.zxid > created.zxid], [0, 1, true]);
    const codes = async (...calls: Array<Promise<{ err: number }>>) => (await Promise.all(calls)).map((r) => r.err);
    assert.deepEqual(await codes(c.create('/crud', d('again')), c.create('/no/parent', d('')), c.delete('/crud', 0), c.delete('/crud', 1)),
      [ErrorCode.NODEEXISTS, ErrorCode.NONODE, ErrorCode.BADVERSION, 0]);
    const gone = await c.getData('/crud');
    assert.deepEqual([gone.err, gone.stat, (await c.exists('/crud')).err], [ErrorCode.NONODE, undefined, ErrorCode.NONODE]);
    const seq = await c.create('/seq-', null, CreateMode.PERSISTENT_SEQUENTIAL);
    assert.match(seq.path ?? '', /^\/seq-\d{10}$/);
    // Pipelined calls come back in order, and the history saw each call and its answer.
    const many = await Promise.all([c.exists('/'), c.getChildren('/'), c.sync('/'), c.getData('/nope')]);
    assert.deepEqual(many.map((r) => r.err), [0, 0, 0, ErrorCode.NONODE]);
    assert.ok(many[1]?.children?.includes(seq.path!.slice(1)));
    assert.equal(many[2]?.path, '/');
    const replies = t.events.filter((e) => e.type === 'reply');
    assert.ok(replies.length >= 15 && replies.every((r) => !r.local && r.server === server.connectString));
    assert.deepEqual(violations(t), []);
  });

  test('a watch fires exactly once, for the right kind of change', async () => {
    const { client: a } = await open();
    const t = await open();
    const b = t.client;
    await a.create('/w1', d('x'));
    const dataEvents: WatchedEvent[] = [];
    const existEvents: WatchedEvent[] = [];
    const childEvents: WatchedEvent[] = [];
    assert.equal((await b.getData('/w1', (e) => dataEvents.push(e))).err, 0);
    assert.equal((await b.exists('/w1-missing', (e) => existEvents.push(e))).err, ErrorCode.NONODE);
    assert.equal((await b.getChildren('/w1', (e) => childEvents.push(e))).err, 0);
    await a.setData('/w1', d('y'));
    await a.setData('/w1', d('z'));
    await a.create('/w1-missing', null);
    await a.setData('/w1-missing', d('changed'));
    await a.create('/w1/kid', null);
    await a.create('/w1/kid2', null);
    await b.sync('/'); // every notification above is on the wire before this reply
    assert.deepEqual(dataEvents, [{ type: EventType.NodeDataChanged, state: KeeperState.SyncConnected, path: '/w1' }]);
    assert.deepEqual(existEvents, [{ type: EventType.NodeCreated, state: KeeperState.SyncConnected, path: '/w1-missing' }]);
    assert.deepEqual(childEvents, [{ type: EventType.NodeChildrenChanged, state: KeeperState.SyncConnected, path: '/w1' }]);
    const notes = t.events.filter((e) => e.type === 'notification');
    assert.equal(notes.length, 3);
    assert.ok(notes.every((n) => n.type === 'notification' && n.watchers === 1 && n.zxid > 0n));
    assert.deepEqual(violations(t), []);
  });

  test('an idle session outlives its timeout because the client pings', async () => {
    const t = await open({ servers: [relay.address], sessionTimeoutMs: 600 });
    const c = t.client;
    assert.equal(c.negotiatedTimeoutMs, 600);
    assert.equal((await c.create('/idle', null, CreateMode.EPHEMERAL)).err, 0);
    const before = relay.bytesUp;
    await sleep(1500);
    // Pings are 12-byte frames every 200 ms; nothing else was sent.
    assert.ok(relay.bytesUp - before >= 5 * 12, `only ${relay.bytesUp - before} bytes sent while idle`);
    assert.equal(c.state, 'connected');
    assert.equal((await c.exists('/idle')).err, 0);
    assert.deepEqual(states(t), ['connected']);
  });

  test('after the connection drops, the session and its watches survive the reconnect', async () => {
    const { client: other } = await open();
    const t = await open({ servers: [relay.address], sessionTimeoutMs: 1500 });
    const c = t.client;
    const sessionId = c.sessionId;
    await Promise.all([other.create('/rw', d('0')), other.create('/rw2', d('0'))]);
    const fired: WatchedEvent[] = [];
    const record = (e: WatchedEvent) => fired.push(e);
    await Promise.all([c.getData('/rw', record), c.exists('/rw-new', record), c.getData('/rw2', record)]);
    relay.hold = true; // the reconnect attempt waits in its handshake until release()
    const inFlight = c.getData('/rw'); // written, then the connection is cut before any reply
    relay.cut();
    assert.equal((await inFlight).err, ErrorCode.CONNECTIONLOSS);
    assert.equal(c.state, 'disconnected');
    // Changed while we are away: SetWatches (relative to our last zxid) must report both.
    await other.setData('/rw', d('1'));
    await other.create('/rw-new', null);
    assert.equal(c.state, 'disconnected');
    const queued = c.exists('/rw'); // made while disconnected: sent after the handshake and SetWatches
    relay.release();
    assert.deepEqual([(await queued).err, c.state, c.sessionId], [0, 'connected', sessionId]);
    const session = fired.filter((e) => e.type === EventType.None).map((e) => e.state);
    const nodes = fired.filter((e) => e.type !== EventType.None).map((e) => `${e.type} ${e.path}`).sort();
    // One callback on three watches: session events reach each distinct watcher once (a set, as in both reference clients).
    assert.deepEqual(session, [KeeperState.Disconnected, KeeperState.SyncConnected]);
    assert.deepEqual(nodes, [`${EventType.NodeCreated} /rw-new`, `${EventType.NodeDataChanged} /rw`]);
    // /rw2 did not change while away: its watch was re-registered and fires now, once.
    await Promise.all([other.setData('/rw2', d('1')), other.setData('/rw2', d('2'))]);
    await c.sync('/');
    assert.equal(fired.filter((e) => e.path === '/rw2').length, 1);
    assert.deepEqual(states(t), ['connected', 'disconnected', 'connected']);
    assert.deepEqual(violations(t), []);
    // The ZkOps adapter maps a lost reply to ConnectionLossError.
    const ops = toZkOps(c);
    const lost = ops.getData('/rw');
    relay.cut();
    await assert.rejects(lost, ConnectionLossError);
    await until(() => c.state === 'connected', 'the second reconnect');
  });

  test('a client kept away longer than the timeout learns its session expired', async () => {
    const { client: other } = await open();
    const t = await open({ servers: [relay.address], sessionTimeoutMs: 600 });
    const c = t.client;
    await c.create('/exp', null, CreateMode.EPHEMERAL);
    const watched: WatchedEvent[] = [];
    await c.exists('/exp', (e) => watched.push(e));
    relay.refuse = true;
    relay.cut();
    const during = await c.getData('/exp'); // fails with the next failed attempt
    assert.equal(during.err, ErrorCode.CONNECTIONLOSS);
    await until(async () => (await other.exists('/exp')).err === ErrorCode.NONODE, 'the server to expire the session', 3000);
    relay.refuse = false;
    await until(() => c.state === 'expired', 'the client to learn of the expiry');
    assert.deepEqual(watched.map((e) => [e.type, e.state]), [[EventType.None, KeeperState.Disconnected], [EventType.None, KeeperState.Expired]]);
    assert.equal((await c.getData('/')).err, ErrorCode.SESSIONEXPIRED);
    assert.deepEqual(states(t), ['connected', 'disconnected', 'expired']);
    await assert.rejects(toZkOps(c).exists('/'), SessionExpiredError);
  });

  test('close() ends the session: its ephemerals are gone at once', async () => {
    const { client: other } = await open();
    const t = await open();
    const c = t.client;
    await c.create('/eph', d('mine'), CreateMode.EPHEMERAL);
    assert.deepEqual([(await c.close()).err, c.state], [0, 'closed']);
    assert.equal((await other.exists('/eph')).err, ErrorCode.NONODE);
    assert.equal((await c.exists('/')).err, ErrorCode.SESSIONEXPIRED);
    assert.equal((await c.close()).err, ErrorCode.SESSIONEXPIRED);
    assert.deepEqual(violations(t), []);
  });

  test('the ZkOps adapter drives the election recipe\'s calls', async () => {
    const { client: c1 } = await open();
    const { client: c2 } = await open();
    const ops1 = toZkOps(c1);
    const ops2 = toZkOps(c2, { opTimeoutMs: 2000 });
    assert.equal(await ops1.create('/election', Buffer.alloc(0), 'persistent'), '/election');
    const dup = await ops2.create('/election', Buffer.alloc(0), 'persistent').catch((e: unknown) => e);
    assert.ok(dup instanceof ZooKeeperError && !(dup instanceof ConnectionLossError) && dup.code === ErrorCode.NODEEXISTS);
    const n1 = await ops1.create(`/election/${candidatePrefix('aaaa')}`, d('one'), 'ephemeral-sequential');
    const n2 = await ops2.create(`/election/${candidatePrefix('bbbb')}`, d('two'), 'ephemeral-sequential');
    const ordered = orderCandidates(await ops2.getChildren('/election'));
    assert.deepEqual(ordered.map((o) => `/election/${o.name}`), [n1, n2]);
    const stat = await ops1.exists(n1);
    assert.ok(stat && stat.ephemeralOwner === ops1.sessionId && stat.czxid > 0 && typeof stat.czxid === 'number');
    assert.equal((await ops1.exists('/election'))?.ephemeralOwner, '0');
    const candidates = await readCandidates(ops2, '/election');
    assert.deepEqual(candidates.map((x) => [x.id, x.sessionId]), [['one', ops1.sessionId], ['two', ops2.sessionId]]);
    assert.ok(candidates[0]!.token < candidates[1]!.token);
    assert.equal(await ops2.exists('/election/nobody'), null);
    await assert.rejects(ops2.getData('/election/nobody'), (e: unknown) => e instanceof ZooKeeperError && e.code === ErrorCode.NONODE);
    await assert.rejects(ops2.remove('/election/nobody'), (e: unknown) => e instanceof ZooKeeperError && e.code === ErrorCode.NONODE);
    // The follower watches its predecessor; the leader's session ends; the watch fires once.
    const seen: WatchEvent[] = [];
    assert.ok(await ops2.exists(n1, (e) => seen.push(e)));
    assert.equal((await c1.close()).err, 0);
    await until(() => seen.length > 0, 'the predecessor watch');
    await ops2.getChildren('/election');
    assert.deepEqual(seen, [{ type: 'deleted', path: n1 }]);
    assert.deepEqual(orderCandidates(await ops2.getChildren('/election')).map((o) => `/election/${o.name}`), [n2]);
    await assert.rejects(ops1.getChildren('/election'), SessionExpiredError);
  });
});

describe('WireClient against misbehaving servers', () => {
  test('an unanswered handshake moves on to the next server', async () => {
    const silent = await fake({ answerHandshake: false });
    // Prng.int(0, 1) with next() = 0 starts at the first server: the silent one.
    const first = new (class extends Prng {
      override next(): number {
        return 0;
      }
    })(1);
    const t = await open({ servers: [silent.address, server.connectString], connectTimeoutMs: 200, rng: first });
    assert.equal(t.client.server, server.connectString);
    const lost = t.events.filter((e) => e.type === 'lost');
    assert.deepEqual(lost.map((e) => e.type === 'lost' && [e.server, e.reason, e.established]), [[silent.address, 'connect-timeout', false]]);
  });

  test('a server that stops answering is given up after 2/3 of the timeout', async () => {
    const hung = await fake({ answerHandshake: true });
    const t = await open({ servers: [hung.address], sessionTimeoutMs: 600 });
    const before = systemClock.monoMs();
    hung.mute = true;
    const bounded = assert.rejects(toZkOps(t.client, { opTimeoutMs: 50 }).exists('/hung'), OperationTimeoutError);
    const r = await t.client.exists('/hung');
    await bounded; // the adapter's own bound came first
    const waited = systemClock.monoMs() - before;
    assert.equal(r.err, ErrorCode.CONNECTIONLOSS);
    // The deadline counts from the last bytes received (a ping reply at most ~200 ms earlier).
    assert.ok(waited >= 150 && waited < 1000, `gave up after ${waited} ms`);
    assert.ok(t.events.some((e) => e.type === 'lost' && e.reason === 'receive-timeout' && e.established));
    hung.mute = false;
    await until(() => t.client.state === 'connected', 'the reconnect');
    assert.deepEqual(hung.connects.map((x) => x.sessionId), [0n, FakeServer.SESSION]);
  });

  test('replies out of request order, or with an older zxid, are reported', async () => {
    const bad = await fake({ answerHandshake: true });
    const t = await open({ servers: [bad.address] });
    const c = t.client;
    // In order, but the second zxid is lower than the first: reported, connection kept.
    bad.script = (reqs) => (reqs.length === 2 ? [[reqs[0]!, 10n], [reqs[1]!, 5n]] : undefined);
    const inOrder = await Promise.all([c.exists('/a'), c.exists('/b')]);
    assert.deepEqual(inOrder.map((r) => [r.err, r.zxid]), [[ErrorCode.NONODE, 10n], [ErrorCode.NONODE, 5n]]);
    assert.equal(c.lastZxidSeen, 10n);
    assert.deepEqual(violations(t).map((v) => v.type === 'violation' && v.kind), ['zxid-regression']);
    // Out of order: reported, the connection is dropped, both calls end in CONNECTIONLOSS.
    bad.script = (reqs) => (reqs.length === 2 ? [[reqs[1]!, 11n], [reqs[0]!, 12n]] : undefined);
    const swapped = await Promise.all([c.exists('/c'), c.exists('/d')]);
    assert.deepEqual(swapped.map((r) => r.err), [ErrorCode.CONNECTIONLOSS, ErrorCode.CONNECTIONLOSS]);
    assert.deepEqual(violations(t).map((v) => v.type === 'violation' && v.kind), ['zxid-regression', 'xid-order']);
    assert.ok(t.events.some((e) => e.type === 'lost' && e.reason === 'protocol-violation' && e.established));
    // It reconnects to the same session with lastZxidSeen = 10.
    await until(() => c.state === 'connected' && bad.connects.length === 2, 'the reconnect');
    assert.deepEqual(bad.connects.map((r) => [r.sessionId, r.lastZxidSeen]), [[0n, 0n], [FakeServer.SESSION, 10n]]);
  });
});
