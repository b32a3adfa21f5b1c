/**
 * Third-party clients against zk-elect's OWN server (a real child process): Apache's
 * zkCli.sh from Debian's zookeeper package (the Java client), and the pure-JS
 * node-zookeeper-client. Every step checks concrete values.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { RawClient } from '../support/raw-client.js';
import { requirePart } from '../support/require-part.js';

const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

let zk: ZkEnsemble;
let address: string;
let logDir: string;

before(async () => {
  zk = await startZkElectServer({ nodes: 1, tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 });
  address = zk.members[0]!.address;
  logDir = mkdtempSync(join(tmpdir(), 'zkcli-logs-'));
}, { timeout: 60_000 });

after(async () => {
  await zk?.stop();
  if (logDir) rmSync(logDir, { recursive: true, force: true });
});

// ---- zkCli.sh --------------------------------------------------------------------------------

/** Runs zkCli.sh with one command (args) or a script on stdin; stdout+stderr, bounded in time. */
function zkCli(args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      ZKCLI,
      ['-server', address, ...args],
      { timeout: 60_000, env: { ...process.env, JVMFLAGS: '-Xmx128m', ZOO_LOG_DIR: logDir, ZOO_LOG4J_PROP: 'WARN,CONSOLE' }, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // zkCli exits non-zero after a failed command; the output is what we check.
        if (error && error.killed) reject(new Error(`zkCli.sh timed out: ${stdout}${stderr}`));
        else resolve(`${stdout}${stderr}`);
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

/** The lines of `stat`-style output ("cZxid = 0x2", ...) as a map. */
function statLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(cZxid|ctime|mZxid|mtime|pZxid|cversion|dataVersion|aclVersion|ephemeralOwner|dataLength|numChildren) = (.*)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

requirePart(existsSync(ZKCLI), ZKCLI, 'apt-get install -y zookeeper');

describe('zkCli.sh (Apache ZooKeeper 3.8 Java client)', () => {
  const base = `/cli-${randomBytes(3).toString('hex')}`;

  test('create, create -s, create -e in single-command mode', { timeout: 120_000 }, async () => {
    const a = await zkCli(['create', base, 'hello']);
    assert.match(a, new RegExp(`^Created ${base}$`, 'm'));
    const [c, seq] = await Promise.all([zkCli(['create', '-e', `${base}-eph`, 'gone-soon']), zkCli(['create', '-s', `${base}/seq-`, 'sequential'])]);
    assert.match(c, new RegExp(`^Created ${base}-eph$`, 'm'));
    assert.match(seq, new RegExp(`^Created ${base}/seq-0000000000$`, 'm'));
    // zkCli's single-command mode exits without closing its session (as against Apache
    // ZooKeeper): the ephemeral stays, owned by that session, until the session expires.
    const raw = await RawClient.connect(address);
    try {
      const eph = await raw.exists(`${base}-eph`);
      assert.equal(eph.errName, 'OK');
      assert.notEqual(eph.body?.stat.ephemeralOwner, 0n);
      assert.notEqual(eph.body?.stat.ephemeralOwner, raw.sessionId);
      const kids = await raw.getChildren(base);
      assert.deepEqual(kids.body?.children, ['seq-0000000000']);
      assert.equal((await raw.getData(base)).body?.data?.toString(), 'hello');
    } finally {
      await raw.close();
    }
  });

  test('a script: get, stat, set, get -s, ls, ls -s, getAcl, whoami, delete (not empty, then ok)', { timeout: 60_000 }, async () => {
    const script = [
      `get ${base}`,
      `stat ${base}`,
      `set ${base} world`,
      `get -s ${base}`,
      `ls ${base}`,
      `ls -s ${base}`,
      `getAcl ${base}`,
      'whoami',
      `delete ${base}`,
      `delete ${base}/seq-0000000000`,
      `delete ${base}`,
      'ls /',
      'quit',
      '',
    ].join('\n');
    const out = await zkCli([], script);
    const lines = out.split('\n').map((l) => l.trimEnd());
    assert.ok(lines.includes('hello'), `get printed the data:\n${out}`);
    // The first stat block (from `stat`) and the second (from `get -s`, after set).
    const blocks = out.split(/^cZxid = /m).slice(1).map((b) => statLines(`cZxid = ${b}`));
    assert.equal(blocks.length, 3, `three Stat blocks (stat, get -s, ls -s):\n${out}`);
    const [st, afterSet, listed] = blocks as [Map<string, string>, Map<string, string>, Map<string, string>];
    assert.equal(st.get('dataVersion'), '0');
    assert.equal(st.get('dataLength'), '5');
    assert.equal(st.get('numChildren'), '1');
    assert.equal(st.get('cversion'), '1');
    assert.equal(st.get('ephemeralOwner'), '0x0');
    assert.match(st.get('cZxid') ?? '', /^0x[0-9a-f]+$/);
    assert.equal(st.get('mZxid'), st.get('cZxid'));
    assert.notEqual(st.get('pZxid'), st.get('cZxid'), 'the child creation moved pZxid');
    assert.match(st.get('ctime') ?? '', /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}$/);
    assert.ok(lines.includes('world'), 'get -s printed the new data');
    assert.equal(afterSet.get('dataVersion'), '1');
    assert.equal(afterSet.get('dataLength'), '5');
    assert.equal(afterSet.get('cZxid'), st.get('cZxid'));
    assert.notEqual(afterSet.get('mZxid'), st.get('mZxid'));
    assert.equal(listed.get('numChildren'), '1');
    assert.ok(lines.filter((l) => l === '[seq-0000000000]').length >= 2, `ls and ls -s listed the child:\n${out}`);
    assert.ok(lines.includes("'world,'anyone"), `getAcl:\n${out}`);
    assert.ok(lines.includes(': cdrwa'), `getAcl perms:\n${out}`);
    assert.ok(lines.includes('ip: 127.0.0.1'), `whoami:\n${out}`);
    assert.match(out, new RegExp(`Node not empty: ${base}`));
    const lastLs = lines.filter((l) => l.startsWith('[') && l.includes('zookeeper')).pop() ?? '';
    assert.ok(!lastLs.slice(1, -1).split(', ').includes(base.slice(1)), `deleted: ${lastLs}`);
  });

  test('errors for missing nodes and bad versions', { timeout: 60_000 }, async () => {
    const out = await zkCli([], [`get ${base}`, `create ${base} x`, `set -v 7 ${base} y`, `delete -v 3 ${base}`, `stat ${base}`, `delete ${base}`, `delete ${base}`, 'quit', ''].join('\n'));
    assert.match(out, new RegExp(`Node does not exist: ${base}`));
    assert.match(out, new RegExp(`Created ${base}`));
    assert.match(out, /version No is not valid|BadVersion/i);
    assert.equal(statLines(out).get('dataVersion'), '0', 'the failed set changed nothing');
    const raw = await RawClient.connect(address);
    try {
      assert.equal((await raw.exists(base)).errName, 'NONODE');
    } finally {
      await raw.close();
    }
  });
});

// ---- node-zookeeper-client ------------------------------------------------------------------

interface NzcStat { version: number; cversion: number; numChildren: number; dataLength: number; ephemeralOwner: Buffer; czxid: Buffer; mzxid: Buffer }
interface NzcEvent { type: number; name: string; path: string }
interface NzcError extends Error { code: number; name: string; getCode(): number }
interface NzcTransaction {
  create(path: string, data?: Buffer, acls?: unknown, mode?: number): NzcTransaction;
  check(path: string, version?: number): NzcTransaction;
  setData(path: string, data: Buffer, version?: number): NzcTransaction;
  remove(path: string, version?: number): NzcTransaction;
  commit(cb: (e: NzcError | null, results: Array<{ type: number; path?: string; err?: number }>) => void): void;
}
interface NzcClient {
  connect(): void;
  close(): void;
  once(event: string, fn: (...a: unknown[]) => void): void;
  on(event: string, fn: (...a: unknown[]) => void): void;
  getSessionId(): Buffer;
  getState(): { name: string; code: number };
  create(path: string, data: Buffer | undefined, acls: unknown, mode: number, cb: (e: NzcError | null, path: string) => void): void;
  getData(path: string, watcher: ((e: NzcEvent) => void) | undefined, cb: (e: NzcError | null, data: Buffer, stat: NzcStat) => void): void;
  setData(path: string, data: Buffer, version: number, cb: (e: NzcError | null, stat: NzcStat) => void): void;
  exists(path: string, watcher: ((e: NzcEvent) => void) | undefined, cb: (e: NzcError | null, stat: NzcStat | null) => void): void;
  getChildren(path: string, watcher: ((e: NzcEvent) => void) | undefined, cb: (e: NzcError | null, children: string[], stat: NzcStat) => void): void;
  remove(path: string, version: number, cb: (e: NzcError | null) => void): void;
  transaction(): NzcTransaction;
}
interface Nzc {
  createClient(connect: string, options?: Record<string, unknown>): NzcClient;
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
  ACL: { OPEN_ACL_UNSAFE: unknown };
  Exception: Record<string, number>;
  Event: Record<string, number>;
}

const nzc = createRequire(import.meta.url)('node-zookeeper-client') as Nzc;

/** Callback → promise, bounded: resolves [error, ...results]. */
function call<T extends unknown[]>(what: string, start: (cb: (e: NzcError | null, ...r: T) => void) => void): Promise<[NzcError | null, ...T]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node-zookeeper-client ${what}: no callback within 10 s`)), 10_000);
    start((e, ...r) => {
      clearTimeout(timer);
      resolve([e, ...r]);
    });
  });
}

async function connect(): Promise<NzcClient> {
  const client = nzc.createClient(address, { sessionTimeout: 6000, spinDelay: 100, retries: 2 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node-zookeeper-client: not connected within 10 s')), 10_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  return client;
}

function nextEvent(): { promise: Promise<NzcEvent>; watcher: (e: NzcEvent) => void } {
  let resolve!: (e: NzcEvent) => void;
  const promise = new Promise<NzcEvent>((r) => (resolve = r));
  return {
    promise: Promise.race([promise, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no watch event within 5 s')), 5000).unref())]),
    watcher: (e) => resolve(e),
  };
}

describe('node-zookeeper-client (pure JS)', () => {
  const root = `/nzc-${randomBytes(3).toString('hex')}`;
  let a: NzcClient;
  let b: NzcClient;

  before(async () => {
    [a, b] = await Promise.all([connect(), connect()]);
  });
  after(() => {
    a?.close();
    b?.close();
  });

  test('session: state and id', () => {
    assert.equal(a.getState().name, 'SYNC_CONNECTED');
    assert.equal(a.getSessionId().length, 8);
    assert.notDeepEqual(a.getSessionId(), b.getSessionId());
  });

  test('create in every mode, exists, getChildren', async () => {
    const M = nzc.CreateMode;
    const open = nzc.ACL.OPEN_ACL_UNSAFE;
    assert.deepEqual(await call('create', (cb) => a.create(root, Buffer.from('root'), open, M.PERSISTENT, cb)), [null, root]);
    const [e1, p1] = await call('create', (cb) => a.create(`${root}/p`, Buffer.from('p'), open, M.PERSISTENT, cb));
    assert.equal(e1, null);
    assert.equal(p1, `${root}/p`);
    const [, eph] = await call('create', (cb) => a.create(`${root}/e`, Buffer.from('e'), open, M.EPHEMERAL, cb));
    assert.equal(eph, `${root}/e`);
    const [, seq] = await call('create', (cb) => a.create(`${root}/s-`, Buffer.from('s'), open, M.PERSISTENT_SEQUENTIAL, cb));
    assert.equal(seq, `${root}/s-0000000002`);
    const [, eseq] = await call('create', (cb) => a.create(`${root}/es-`, undefined, open, M.EPHEMERAL_SEQUENTIAL, cb));
    assert.equal(eseq, `${root}/es-0000000003`);
    const [dup] = await call('create', (cb) => a.create(`${root}/p`, Buffer.from('again'), open, M.PERSISTENT, cb));
    assert.equal(dup?.getCode(), nzc.Exception['NODE_EXISTS']);
    const [noParent] = await call('create', (cb) => a.create(`${root}/missing/x`, undefined, open, M.PERSISTENT, cb));
    assert.equal(noParent?.getCode(), nzc.Exception['NO_NODE']);

    const [, stat] = await call<[NzcStat | null]>('exists', (cb) => b.exists(`${root}/e`, undefined, cb));
    assert.ok(stat);
    assert.deepEqual(stat.ephemeralOwner, a.getSessionId(), 'ephemeralOwner is the creating session');
    assert.equal(stat.dataLength, 1);
    const [, none] = await call<[NzcStat | null]>('exists', (cb) => b.exists(`${root}/nope`, undefined, cb));
    assert.equal(none, null);
    const [, children, rootStat] = await call<[string[], NzcStat]>('getChildren', (cb) => b.getChildren(root, undefined, cb));
    assert.deepEqual([...children].sort(), ['e', 'es-0000000003', 'p', 's-0000000002']);
    assert.equal(rootStat.numChildren, 4);
    assert.equal(rootStat.cversion, 4);
  });

  test('getData with a watcher sees another client\'s setData; child and exist watchers fire', async () => {
    const data = nextEvent();
    const [err, value, stat] = await call<[Buffer, NzcStat]>('getData', (cb) => a.getData(`${root}/p`, data.watcher, cb));
    assert.equal(err, null);
    assert.equal(value.toString(), 'p');
    assert.equal(stat.version, 0);
    const [setErr, newStat] = await call<[NzcStat]>('setData', (cb) => b.setData(`${root}/p`, Buffer.from('p2'), 0, cb));
    assert.equal(setErr, null);
    assert.equal(newStat.version, 1);
    const ev = await data.promise;
    assert.equal(ev.type, nzc.Event['NODE_DATA_CHANGED']);
    assert.equal(ev.path, `${root}/p`);
    const [, v2, s2] = await call<[Buffer, NzcStat]>('getData', (cb) => a.getData(`${root}/p`, undefined, cb));
    assert.equal(v2.toString(), 'p2');
    assert.equal(s2.version, 1);
    const [stale] = await call('setData', (cb) => b.setData(`${root}/p`, Buffer.from('x'), 0, cb));
    assert.equal(stale?.getCode(), nzc.Exception['BAD_VERSION']);

    const child = nextEvent();
    await call('getChildren', (cb) => a.getChildren(root, child.watcher, cb));
    const created = nextEvent();
    await call('exists', (cb) => a.exists(`${root}/later`, created.watcher, cb));
    await call('create', (cb) => b.create(`${root}/later`, Buffer.from('l'), nzc.ACL.OPEN_ACL_UNSAFE, nzc.CreateMode.PERSISTENT, cb));
    const [ce, ne] = await Promise.all([child.promise, created.promise]);
    assert.equal(ce.type, nzc.Event['NODE_CHILDREN_CHANGED']);
    assert.equal(ce.path, root);
    assert.equal(ne.type, nzc.Event['NODE_CREATED']);
    assert.equal(ne.path, `${root}/later`);
  });

  test('transaction().create().check().commit(): success, and a failed check rolls everything back', async () => {
    const [err, results] = await call<[Array<{ type: number; path?: string; err?: number }>]>('commit', (cb) => a.transaction().create(`${root}/t1`, Buffer.from('t')).check(`${root}/p`, 1).setData(`${root}/p`, Buffer.from('p3'), 1).commit(cb));
    assert.equal(err, null);
    assert.deepEqual(results.map((r) => r.type), [1, 13, 5]);
    assert.equal(results[0]!.path, `${root}/t1`);
    const [, v] = await call<[Buffer, NzcStat]>('getData', (cb) => b.getData(`${root}/p`, undefined, cb));
    assert.equal(v.toString(), 'p3');

    const [failed, failedResults] = await call<[Array<{ type: number; path?: string; err?: number }>]>('commit', (cb) => a.transaction().create(`${root}/t2`).check(`${root}/p`, 99).remove(`${root}/t1`).commit(cb));
    assert.equal(failed?.getCode(), nzc.Exception['BAD_VERSION']);
    assert.deepEqual(failedResults.map((r) => [r.type, r.err]), [[-1, 0], [-1, nzc.Exception['BAD_VERSION']], [-1, nzc.Exception['RUNTIME_INCONSISTENCY']]]);
    const [, t2] = await call<[NzcStat | null]>('exists', (cb) => b.exists(`${root}/t2`, undefined, cb));
    assert.equal(t2, null, 'nothing of the failed transaction was applied');
    const [, t1] = await call<[NzcStat | null]>('exists', (cb) => b.exists(`${root}/t1`, undefined, cb));
    assert.ok(t1);
  });

  test('remove with versions, NOT_EMPTY, NO_NODE; close deletes ephemerals', async () => {
    const [bad] = await call('remove', (cb) => a.remove(`${root}/t1`, 5, cb));
    assert.equal(bad?.getCode(), nzc.Exception['BAD_VERSION']);
    assert.deepEqual(await call('remove', (cb) => a.remove(`${root}/t1`, 0, cb)), [null]);
    const [gone] = await call('remove', (cb) => a.remove(`${root}/t1`, -1, cb));
    assert.equal(gone?.getCode(), nzc.Exception['NO_NODE']);
    const [notEmpty] = await call('remove', (cb) => a.remove(root, -1, cb));
    assert.equal(notEmpty?.getCode(), nzc.Exception['NOT_EMPTY']);
    const [missing] = await call('getData', (cb) => a.getData(`${root}/nope`, undefined, cb));
    assert.equal(missing?.getCode(), nzc.Exception['NO_NODE']);

    const deleted = nextEvent();
    await call('exists', (cb) => b.exists(`${root}/e`, deleted.watcher, cb));
    a.close();
    const ev = await deleted.promise;
    assert.equal(ev.type, nzc.Event['NODE_DELETED']);
    assert.equal(ev.path, `${root}/e`);
    const [, kids] = await call<[string[], NzcStat]>('getChildren', (cb) => b.getChildren(root, undefined, cb));
    assert.deepEqual([...kids].sort(), ['later', 'p', 's-0000000002'], 'both ephemerals of the closed session are gone');
  });
});
