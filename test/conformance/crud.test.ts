/**
 * Differential conformance, node lifecycle: create modes, Stat fields, versions, sequences,
 * error codes, path validation, getAllChildrenNumber, getEphemerals, sync, data sizes.
 * The official C client drives every op it has; the raw client does the rest.
 */
import { configNodeBody, conformanceSuite } from './framework.js';
import { CreateMode, OPEN_ACL_UNSAFE } from '../support/raw-client.js';

const { scenario } = conformanceSuite('crud');

scenario('every create mode through the C client, with the resulting Stat', async (t) => {
  const c = await t.native();
  t.note('session', t.sid(c.sessionId));
  const r = t.root;
  t.recN('persistent', await c.create(`${r}/p`, 'pd', CreateMode.PERSISTENT));
  t.recN('ephemeral', await c.create(`${r}/e`, 'ed', CreateMode.EPHEMERAL));
  t.recN('persistent sequential', await c.create(`${r}/ps-`, 'x', CreateMode.PERSISTENT_SEQUENTIAL));
  t.recN('ephemeral sequential', await c.create(`${r}/es-`, 'y', CreateMode.EPHEMERAL_SEQUENTIAL));
  t.recN('container', await c.create(`${r}/c`, '', CreateMode.CONTAINER));
  for (const name of ['p', 'e', 'ps-0000000002', 'es-0000000003', 'c']) {
    t.recN(`exists ${name}`, await c.exists(`${r}/${name}`));
    t.recN(`get ${name}`, await c.get(`${r}/${name}`));
  }
  t.recN('getChildren2 root', await c.getChildren2(r));
  // TTL is off by default on both servers.
  t.recN('TTL create via C client (ttl 5000)', await c.create(`${r}/ttl`, 'x', CreateMode.PERSISTENT_WITH_TTL, 5000));
  t.recN('TTL sequential via C client', await c.create(`${r}/ttls-`, 'x', CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, 5000));
  t.recN('exists ttl', await c.exists(`${r}/ttl`));
});

scenario('create variants through the raw client: create2, createContainer, createTTL, bad flags', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('create (op 1) persistent', await c.create(`${r}/a`, 'A'));
  t.rec('create2 persistent', await c.create2(`${r}/b`, 'B'));
  t.rec('create2 ephemeral', await c.create2(`${r}/e`, 'E', CreateMode.EPHEMERAL));
  t.rec('create2 sequential', await c.create2(`${r}/s-`, null, CreateMode.PERSISTENT_SEQUENTIAL));
  t.rec('create2 ephemeral sequential', await c.create2(`${r}/es-`, null, CreateMode.EPHEMERAL_SEQUENTIAL));
  t.rec('createContainer', await c.createContainer(`${r}/cont`, 'C'));
  t.rec('createContainer with PERSISTENT flag', await c.createContainer(`${r}/cont2`, 'C', OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
  t.rec('create2 with CONTAINER flag', await c.create2(`${r}/cont3`, 'C', CreateMode.CONTAINER));
  t.rec('createTTL (TTL off)', await c.createTTL(`${r}/ttl`, 'T', 1000n));
  t.rec('createTTL sequential (TTL off)', await c.createTTL(`${r}/ttls-`, 'T', 1000n, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL));
  t.rec('createTTL with non-TTL flag', await c.createTTL(`${r}/ttlp`, 'T', 1000n, CreateMode.PERSISTENT));
  t.rec('createTTL with ttl 0', await c.createTTL(`${r}/ttl0`, 'T', 0n));
  t.rec('create2 with TTL flag', await c.create2(`${r}/ttlf`, 'T', CreateMode.PERSISTENT_WITH_TTL));
  t.rec('create with flag 7', await c.create(`${r}/f7`, null, 7));
  t.rec('create with flag -1', await c.create(`${r}/fm1`, null, -1));
  t.rec('create null data', await c.create2(`${r}/nul`, null));
  t.rec('getData null-data node', await c.getData(`${r}/nul`));
  t.rec('create empty data', await c.create2(`${r}/empty`, ''));
  t.rec('getData empty-data node', await c.getData(`${r}/empty`));
  t.rec('getChildren2', await c.getChildren2(r));
});

scenario('Stat fields across setData, child create/delete and versions', async (t) => {
  const c = await t.native();
  const r = t.root;
  const n = `${r}/n`;
  t.recN('create', await c.create(n, 'v0', CreateMode.PERSISTENT));
  t.recN('set -1', await c.set(n, 'v1-longer', -1));
  t.recN('set v1', await c.set(n, 'v2', 1));
  t.recN('set stale v1', await c.set(n, 'nope', 1));
  t.recN('set v5 (future)', await c.set(n, 'nope', 5));
  t.recN('get', await c.get(n));
  t.recN('create child a', await c.create(`${n}/a`, '', CreateMode.PERSISTENT));
  t.recN('create child b', await c.create(`${n}/b`, '', CreateMode.PERSISTENT));
  t.recN('exists after 2 children', await c.exists(n));
  t.recN('delete a, stale version 3', await c.delete(`${n}/a`, 3));
  t.recN('delete a, version 0', await c.delete(`${n}/a`, 0));
  t.recN('exists after delete', await c.exists(n));
  t.recN('getChildren2', await c.getChildren2(n));
  t.recN('set child b twice', await c.set(`${n}/b`, 'x', 0));
  t.recN('set child b again', await c.set(`${n}/b`, 'y', 1));
  t.recN('exists parent (child data changes do not touch it)', await c.exists(n));
  t.recN('delete b version -1', await c.delete(`${n}/b`, -1));
  t.recN('delete n, stale version 3', await c.delete(n, 3));
  t.recN('exists n', await c.exists(n));
  t.recN('delete n, version 2', await c.delete(n, 2));
  t.recN('get deleted n', await c.get(n));
  t.recN('exists deleted n', await c.exists(n));
  t.recN('set deleted n', await c.set(n, 'x', -1));
  t.recN('delete deleted n', await c.delete(n, -1));
  t.recN('exists root', await c.exists(r));
});

scenario('error codes: NONODE, NODEEXISTS, NOTEMPTY, BADVERSION, NOCHILDRENFOREPHEMERALS, special paths', async (t) => {
  const c = await t.raw();
  const r = t.root;
  t.rec('create under missing parent', await c.create(`${r}/missing/x`));
  t.rec('create', await c.create(`${r}/a`, 'a'));
  t.rec('create again', await c.create(`${r}/a`, 'b'));
  t.rec('create2 again', await c.create2(`${r}/a`, 'b'));
  t.rec('create child', await c.create(`${r}/a/b`));
  t.rec('delete non-empty', await c.delete(`${r}/a`));
  t.rec('delete non-empty with bad version', await c.delete(`${r}/a`, 7));
  t.rec('setData bad version', await c.setData(`${r}/a`, 'x', 7));
  t.rec('getData missing', await c.getData(`${r}/nope`));
  t.rec('exists missing', await c.exists(`${r}/nope`));
  t.rec('getChildren missing', await c.getChildren(`${r}/nope`));
  t.rec('getChildren2 missing', await c.getChildren2(`${r}/nope`));
  t.rec('getACL missing', await c.getACL(`${r}/nope`));
  t.rec('setACL missing', await c.setACL(`${r}/nope`, OPEN_ACL_UNSAFE));
  t.rec('delete missing', await c.delete(`${r}/nope`));
  t.rec('delete missing with version', await c.delete(`${r}/nope`, 3));
  t.rec('setData missing', await c.setData(`${r}/nope`, 'x'));
  t.rec('ephemeral', await c.create(`${r}/eph`, null, CreateMode.EPHEMERAL));
  t.rec('child of ephemeral', await c.create(`${r}/eph/kid`));
  t.rec('sequential child of ephemeral', await c.create(`${r}/eph/kid-`, null, CreateMode.PERSISTENT_SEQUENTIAL));
  t.rec('ephemeral child of ephemeral', await c.create(`${r}/eph/kid`, null, CreateMode.EPHEMERAL));
  t.rec('container child of ephemeral', await c.createContainer(`${r}/eph/kid`));
  t.rec('existing child of ephemeral path', await c.create(`${r}/eph`, null, CreateMode.EPHEMERAL));
  t.rec('delete /', await c.delete('/'));
  t.rec('delete /zookeeper', await c.delete('/zookeeper'));
  t.rec('delete /zookeeper/quota', await c.delete('/zookeeper/quota'));
  t.rec('delete /zookeeper/config', await c.delete('/zookeeper/config'));
  t.rec('create /', await c.create('/'));
  t.rec('create /zookeeper', await c.create('/zookeeper'));
  t.rec('create under /zookeeper', await c.create(`/zookeeper${r}`));
  t.rec('delete it again', await c.delete(`/zookeeper${r}`));
  t.rec('setData /zookeeper/config', await c.setData('/zookeeper/config', 'x'));
  t.recKnown('getData /zookeeper/config', await c.getData('/zookeeper/config'), configNodeBody());
  t.recKnown('getACL /zookeeper/config', await c.getACL('/zookeeper/config'), configNodeBody());
  t.rec('exists /zookeeper/quota', await c.exists('/zookeeper/quota'));
  t.rec('getChildren /zookeeper', await c.getChildren('/zookeeper'));
});

/** Invalid under every rule of PathUtils.validatePath; most hang below the scenario root. */
const invalidPaths = (r: string): string[] => [
  '', 'a', `${r}/`, `${r}//a`, `${r}/./b`, `${r}/../b`, `${r}/.`, `${r}/..`, `${r}/a/.`, `${r}/a/..`,
  `${r}/a\u0001b`, `${r}/a\u007fb`, `${r}/a\u009fb`, `${r}/a\u0000b`, `${r}/a\ud800b`, `${r}/a\uf8ffb`, `${r}/a\ufff0`,
];

scenario('invalid paths on every path-taking request (raw client, no client-side checks)', async (t) => {
  const c = await t.raw();
  for (const p of invalidPaths(t.root)) {
    const label = JSON.stringify(p);
    // "" is the root's alias for reads: record only the error there (the root's contents
    // depend on the other scenarios of this file).
    const rec = p === '' ? (l: string, r: { errName: string }) => t.note(l, r.errName) : (l: string, r: Parameters<typeof t.rec>[1]) => t.rec(l, r);
    t.rec(`create ${label}`, await c.create(p));
    t.rec(`create2 sequential ${label}`, await c.create2(p, null, CreateMode.PERSISTENT_SEQUENTIAL));
    t.rec(`delete ${label}`, await c.delete(p));
    t.rec(`setData ${label}`, await c.setData(p, 'x'));
    rec(`exists ${label}`, await c.exists(p));
    rec(`getData ${label}`, await c.getData(p));
    rec(`getChildren ${label}`, await c.getChildren(p));
    rec(`getACL ${label}`, await c.getACL(p));
    t.rec(`setACL ${label}`, await c.setACL(p, OPEN_ACL_UNSAFE));
    t.rec(`sync ${label}`, await c.sync(p));
    rec(`getAllChildrenNumber ${label}`, await c.getAllChildrenNumber(p));
  }
  // Names that ARE valid: dots inside names, spaces, unicode in the BMP.
  for (const name of ['...', '.a', 'a.', 'with space', '\u00fcn\u00ef', '.hidden..x', '-', '\u4e2d\u6587']) {
    t.rec(`create valid ${JSON.stringify(name)}`, await c.create2(`${t.root}/${name}`, name));
  }
  // A sequential create whose prefix ends in "/" makes a child named by the counter alone.
  t.rec('sequential with trailing slash', await c.create2(`${t.root}/`, null, CreateMode.PERSISTENT_SEQUENTIAL));
  t.rec('getChildren', await c.getChildren(t.root));
});

scenario('a non-BMP character (surrogate pair) in a path: BADARGUMENTS, and how the string is echoed', async (t) => {
  const c = await t.raw();
  const p = `${t.root}/\ud83d\ude00`;
  t.rec('create', await c.create(p));
  t.rec('exists', await c.exists(p));
  // sync echoes the path back: Apache's jute writes each UTF-16 unit separately (CESU-8).
  t.rec('sync', await c.sync(p));
}, { todo: 'Apache echoes non-BMP characters in strings as CESU-8 (6 bytes per surrogate pair), our codec writes standard UTF-8; reported, codec is outside this suite\'s remit' });

scenario('sequence numbers: counters, deletes, mixed prefixes, pipelined creates', async (t) => {
  const c = await t.native();
  const raw = await t.raw();
  const r = t.root;
  for (let i = 0; i < 3; i++) t.recN(`seq ${i}`, await c.create(`${r}/q-`, '', CreateMode.PERSISTENT_SEQUENTIAL));
  t.recN('delete q-1', await c.delete(`${r}/q-0000000001`, -1));
  t.recN('plain child', await c.create(`${r}/plain`, '', CreateMode.PERSISTENT));
  t.recN('seq after delete', await c.create(`${r}/q-`, '', CreateMode.PERSISTENT_SEQUENTIAL));
  t.recN('seq other prefix', await c.create(`${r}/other-`, '', CreateMode.PERSISTENT_SEQUENTIAL));
  t.recN('ephemeral seq', await c.create(`${r}/q-`, '', CreateMode.EPHEMERAL_SEQUENTIAL));
  t.recN('failed create (exists) does not advance the counter', await c.create(`${r}/plain`, '', CreateMode.PERSISTENT));
  t.recN('seq after failed create', await c.create(`${r}/q-`, '', CreateMode.PERSISTENT_SEQUENTIAL));
  // Pipelined: both requests leave before either reply arrives.
  const [a, b] = await Promise.all([c.create(`${r}/pipe-`, 'a', CreateMode.PERSISTENT_SEQUENTIAL), c.create(`${r}/pipe-`, 'b', CreateMode.PERSISTENT_SEQUENTIAL)]);
  t.recN('pipelined C 1', a);
  t.recN('pipelined C 2', b);
  const [x, y, z] = await Promise.all([
    raw.create2(`${r}/rp-`, 'x', CreateMode.PERSISTENT_SEQUENTIAL),
    raw.create2(`${r}/rp-`, 'y', CreateMode.EPHEMERAL_SEQUENTIAL),
    raw.delete(`${r}/plain`),
  ]);
  t.rec('pipelined raw 1', x);
  t.rec('pipelined raw 2', y);
  t.rec('pipelined raw delete', z);
  t.rec('seq after pipelined delete', await raw.create2(`${r}/rp-`, 'z', CreateMode.PERSISTENT_SEQUENTIAL));
  t.recN('children', await c.getChildren2(r));
  // A sequential node under a parent with many prior creations.
  t.recN('deep parent', await c.create(`${r}/deep`, '', CreateMode.PERSISTENT));
  for (let i = 0; i < 12; i++) {
    await c.create(`${r}/deep/n${i}`, '', CreateMode.PERSISTENT);
    await c.delete(`${r}/deep/n${i}`, -1);
  }
  t.recN('seq after 12 create+delete', await c.create(`${r}/deep/s`, '', CreateMode.PERSISTENT_SEQUENTIAL));
  t.recN('deep stat', await c.exists(`${r}/deep`));
});

scenario('getAllChildrenNumber and getEphemerals', async (t) => {
  const a = await t.raw();
  const b = await t.raw();
  const r = t.root;
  for (const p of ['x', 'x/y', 'x/y/z', 'x/w', 'v']) await a.create(`${r}/${p}`);
  for (const p of ['x/ea', 'x/y/eb', 'v-e']) t.rec(`a ephemeral ${p}`, await a.create(`${r}/${p}`, null, CreateMode.EPHEMERAL));
  for (const p of ['x/fb', 'vv']) t.rec(`b ephemeral ${p}`, await b.create(`${r}/${p}`, null, CreateMode.EPHEMERAL));
  t.rec('b ephemeral sequential', await b.create(`${r}/x/seq-`, null, CreateMode.EPHEMERAL_SEQUENTIAL));
  for (const p of [r, `${r}/x`, `${r}/x/y`, `${r}/x/y/z`, `${r}/v`, `${r}/nope`, '/zookeeper']) {
    t.rec(`getAllChildrenNumber ${p}`, await a.getAllChildrenNumber(p));
  }
  for (const prefix of [r, `${r}/x`, `${r}/x/`, `${r}/v`, `${r}/nope`, `${r}/x/y/eb`]) {
    const ra = await a.getEphemerals(prefix);
    const rb = await b.getEphemerals(prefix);
    t.note(`getEphemerals a ${prefix}`, { err: ra.errName, ephemerals: ra.body?.ephemerals ?? [] });
    t.note(`getEphemerals b ${prefix}`, { err: rb.errName, ephemerals: rb.body?.ephemerals ?? [] });
  }
  // Everything this session owns, under any prefix (filtered to this scenario's root).
  const all = await a.getEphemerals('/');
  t.note('getEphemerals a /', { err: all.errName, ephemerals: (all.body?.ephemerals ?? []).filter((p) => p.startsWith(r)) });
  t.note('getEphemerals a "" ', (await a.getEphemerals('')).errName);
  const fresh = await t.raw();
  t.rec('getEphemerals of a session without ephemerals', await fresh.getEphemerals('/'));
});

scenario('sync and read-your-writes across clients', async (t) => {
  const c = await t.native();
  const raw = await t.raw();
  const r = t.root;
  t.recN('C sync root', await c.sync(r));
  t.recN('C sync missing path', await c.sync(`${r}/missing`));
  t.rec('raw sync', await raw.sync(r));
  t.rec('raw sync missing', await raw.sync(`${r}/missing`));
  t.rec('raw sync /', await raw.sync('/'));
  const w = raw.create(`${r}/n`, 'v');
  const s = raw.sync(`${r}/n`);
  const g = raw.getData(`${r}/n`);
  t.rec('pipelined create', await w);
  t.rec('pipelined sync', await s);
  t.rec('pipelined getData', await g);
  t.recN('C sees it', await c.get(`${r}/n`));
});

scenario('data sizes: empty, binary, 1000 KB, and over jute.maxbuffer', async (t) => {
  const c = await t.raw();
  const r = t.root;
  const binary = Buffer.from([0, 1, 2, 255, 254, 0x80, 0x7f]);
  t.rec('binary', await c.create2(`${r}/bin`, binary));
  t.rec('get binary', await c.getData(`${r}/bin`));
  const big = Buffer.alloc(1000 * 1024, 0x61);
  const created = await c.create2(`${r}/big`, big);
  t.rec('create 1000 KB', created);
  const got = await c.getData(`${r}/big`);
  t.note('get 1000 KB', { err: got.errName, length: got.body?.data?.length, stat: got.body?.stat });
  const tooBig = Buffer.alloc(0xfffff + 1, 0x62);
  const r2 = await c.setData(`${r}/big`, tooBig);
  t.note('setData over jute.maxbuffer', r2.errName);
  t.note('connection after oversize request', c.closed ? 'closed' : 'open');
  const d = await t.raw();
  const after = await d.exists(`${r}/big`);
  t.note('node after oversize attempt', { err: after.errName, dataLength: after.body?.stat.dataLength, version: after.body?.stat.version });
});

scenario('getChildren / getChildren2 listing order and Stat with many children', async (t) => {
  const c = await t.native();
  const r = t.root;
  const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'omicron', 'pi', 'rho', 'sigma', 'tau', 'upsilon'];
  for (const n of names) await c.create(`${r}/${n}`, n, CreateMode.PERSISTENT);
  t.recN('getChildren (hash order)', await c.getChildren(r));
  t.recN('getChildren2', await c.getChildren2(r));
  for (const n of names.slice(0, 5)) await c.delete(`${r}/${n}`, -1);
  t.recN('getChildren2 after 5 deletes', await c.getChildren2(r));
  t.recN('leaf getChildren2', await c.getChildren2(`${r}/pi`));
});
