import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, OpCode, Perm } from '../../src/protocol/constants.js';
import { addAuthIds, authenticate, checkACL, DigestAuth, fixupACL, type ACL, type Id } from '../../src/server/tree/index.js';
import { TreeDriver } from '../../src/server/tree/testing.js';

const world = (perms: number): ACL => ({ perms, id: { scheme: 'world', id: 'anyone' } });
const digestAcl = (user: string, pw: string, perms: number = Perm.ALL): ACL => ({ perms, id: { scheme: 'digest', id: DigestAuth.generateDigest(`${user}:${pw}`) } });
const alice: Id = { scheme: 'digest', id: DigestAuth.generateDigest('alice:secret') };
const bob: Id = { scheme: 'digest', id: DigestAuth.generateDigest('bob:pw') };

function fresh(): TreeDriver {
  const d = new TreeDriver();
  d.openSession(1n);
  return d;
}

describe('tree: digest/ip/super auth', () => {
  it('generateDigest matches DigestAuthenticationProvider (values from the 3.8.0 jar)', () => {
    assert.equal(DigestAuth.generateDigest('super:test'), 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    assert.equal(DigestAuth.generateDigest('alice:secret'), 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=');
    assert.equal(DigestAuth.generateDigest('nocolon'), 'nocolon:Ra+cHr2ZoHvBjtNArFGNGlVie4g=');
  });
  it('authenticate: digest (super first when configured), ip, unknown → AUTHFAILED', () => {
    assert.deepEqual(authenticate('digest', Buffer.from('super:test'), '1.2.3.4', 'super:D/InIHSb7yEEbrWz8b9l71RjZJU='), {
      ok: true,
      ids: [{ scheme: 'super', id: '' }, { scheme: 'digest', id: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=' }],
    });
    assert.deepEqual(authenticate('ip', Buffer.alloc(0), '10.0.0.1'), { ok: true, ids: [{ scheme: 'ip', id: '10.0.0.1' }] });
    assert.deepEqual(authenticate('sasl', Buffer.alloc(0), '10.0.0.1'), { ok: false, err: ErrorCode.AUTHFAILED });
    assert.equal(addAuthIds([alice], [alice, bob]).length, 2);
  });
  it('ip ACLs with CIDR (IPAuthenticationProvider.matches)', () => {
    const acl = (id: string): ACL[] => [{ perms: Perm.READ, id: { scheme: 'ip', id } }];
    const ip = (a: string): Id[] => [{ scheme: 'ip', id: a }];
    assert.equal(checkACL(acl('10.1.2.3'), Perm.READ, ip('10.1.2.3')), true);
    assert.equal(checkACL(acl('10.1.2.3'), Perm.READ, ip('10.1.2.4')), false);
    assert.equal(checkACL(acl('10.1.0.0/16'), Perm.READ, ip('10.1.200.9')), true);
    assert.equal(checkACL(acl('10.1.0.0/16'), Perm.READ, ip('10.2.0.1')), false);
    assert.equal(checkACL(acl('10.1.2.128/25'), Perm.READ, ip('10.1.2.200')), true);
    assert.equal(checkACL(acl('10.1.2.128/25'), Perm.READ, ip('10.1.2.100')), false);
    assert.equal(checkACL(acl('0.0.0.0/0'), Perm.READ, ip('8.8.8.8')), true);
    assert.equal(checkACL(acl('10.1.2.3'), Perm.WRITE, ip('10.1.2.3')), false);
  });
  it('fixupACL: dedupe, auth expansion, INVALIDACL cases', () => {
    assert.equal(fixupACL([], []), null);
    assert.deepEqual(fixupACL([], [world(31), world(31)]), [world(31)]);
    assert.equal(fixupACL([{ scheme: 'ip', id: '1.2.3.4' }], [{ perms: 31, id: { scheme: 'auth', id: '' } }]), null); // ip is not "authenticated"
    assert.deepEqual(fixupACL([{ scheme: 'ip', id: '1.2.3.4' }, alice, bob], [{ perms: 3, id: { scheme: 'auth', id: 'ignored' } }]), [
      { perms: 3, id: alice },
      { perms: 3, id: bob },
    ]);
    for (const bad of [
      { scheme: 'world', id: 'someone' },
      { scheme: 'digest', id: 'nocolon' },
      { scheme: 'digest', id: 'a:b:c' },
      { scheme: 'digest', id: 'user:' },
      { scheme: 'ip', id: '1.2.3' },
      { scheme: 'ip', id: '1.2.3.256' },
      { scheme: 'ip', id: '1.2.3.4/33' },
      { scheme: 'ip', id: '1.2.3.4/' },
      { scheme: 'super', id: '' },
      { scheme: 'x509', id: 'CN=x' },
    ]) {
      assert.equal(fixupACL([alice], [{ perms: 31, id: bad }]), null, JSON.stringify(bad));
    }
    assert.notEqual(fixupACL([], [{ perms: 31, id: { scheme: 'ip', id: '+1.02.3.4/+8' } }]), null); // Java parseInt accepts these
  });
});

describe('tree: create error order (PrepRequestProcessor.pRequest2TxnCreate)', () => {
  const acl = [world(31)];
  const create = (d: TreeDriver, path: string, flags = 0, extra: { acl?: ACL[]; auth?: Id[]; op?: 1 | 15 | 19 | 21; ttl?: bigint; session?: bigint } = {}) =>
    d.create(path, { flags, acl: extra.acl ?? acl, ...(extra.auth ? { auth: extra.auth } : {}), ...(extra.op ? { op: extra.op } : {}), ...(extra.ttl !== undefined ? { ttl: extra.ttl } : {}), ...(extra.session ? { session: extra.session } : {}) }).err;
  it('flag → TTL → session → slash → ACL → parent → NOAUTH → path → exists → ephemeral parent', () => {
    const d = fresh();
    assert.equal(create(d, '/x', 7), ErrorCode.BADARGUMENTS); // CreateMode.fromFlag
    assert.equal(create(d, 'bad', 5, { op: 21, ttl: 100n }), ErrorCode.UNIMPLEMENTED); // TTL disabled beats path
    assert.equal(create(d, 'bad', 0, { acl: [] }), ErrorCode.BADARGUMENTS); // no slash, before ACL
    assert.equal(create(d, '/x', 0, { session: 99n }), ErrorCode.SESSIONEXPIRED);
    assert.equal(create(d, '/nope/x', 0, { acl: [] }), ErrorCode.INVALIDACL); // ACL before parent lookup
    assert.equal(create(d, '/nope/x'), ErrorCode.NONODE);
    create(d, '/locked', 0, { acl: [world(Perm.READ)] });
    assert.equal(create(d, '/locked/'), ErrorCode.NOAUTH); // NOAUTH before full path validation
    assert.equal(create(d, '/locked/x/'), ErrorCode.NONODE); // parent is "/locked/x"
    create(d, '/p');
    assert.equal(create(d, '/p/'), ErrorCode.BADARGUMENTS); // parent found, then validatePath
    assert.equal(create(d, '/p/a/'), ErrorCode.NONODE); // parent "/p/a" missing
    assert.equal(create(d, '/p'), ErrorCode.NODEEXISTS);
    assert.equal(create(d, '/'), ErrorCode.NODEEXISTS); // parent "" is the root
    create(d, '/eph', 1);
    assert.equal(create(d, '/eph/c'), ErrorCode.NOCHILDRENFOREPHEMERALS);
    assert.equal(create(d, '/eph', 1), ErrorCode.NODEEXISTS); // exists before ephemeral-parent check
    assert.equal(create(d, '/t', 0, { op: 21, ttl: 5n }), ErrorCode.BADARGUMENTS); // ttl with a non-TTL mode
  });
  it('TTL nodes when extendedTypesEnabled', () => {
    const d = new TreeDriver({ extendedTypesEnabled: true });
    d.openSession(1n);
    assert.equal(d.create('/t', { flags: 5, op: 21, ttl: 0n }).err, ErrorCode.BADARGUMENTS);
    assert.equal(d.create('/t', { flags: 5, op: 21, ttl: 0x10000000000n }).err, ErrorCode.BADARGUMENTS);
    const r = d.create('/t', { flags: 5, op: 21, ttl: 1000n });
    assert.equal(r.err, 0);
    assert.equal(r.stat?.ephemeralOwner, 0n); // clients see 0 for TTL nodes (DataNode.getClientEphemeralOwner)
    assert.equal(d.state.tree.getNode('/t')?.stat.ephemeralOwner, BigInt.asIntN(64, 0xff000000000003e8n));
    assert.equal(d.create('/t/c', { flags: 6, op: 21, ttl: 10n }).path, '/t/c0000000000'); // TTL parents may have children
  });
});

describe('tree: delete/setData/setACL/check error order', () => {
  it('delete: special paths → parent NONODE → NOAUTH(DELETE on parent) → NONODE → BADVERSION → NOTEMPTY', () => {
    const d = fresh();
    for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config', 'rel']) assert.equal(d.delete(p).err, ErrorCode.BADARGUMENTS, p);
    assert.equal(d.delete('/a/b').err, ErrorCode.NONODE);
    d.create('/nd', { acl: [world(Perm.ALL & ~Perm.DELETE)] });
    assert.equal(d.delete('/nd/zz', 5).err, ErrorCode.NOAUTH); // parent perms checked before the node exists
    d.create('/a');
    d.create('/a/b');
    d.create('/a/b/c');
    assert.equal(d.delete('/a/b/zz', 3).err, ErrorCode.NONODE);
    assert.equal(d.delete('/a/b', 3).err, ErrorCode.BADVERSION); // version before NOTEMPTY
    assert.equal(d.delete('/a/b', 0).err, ErrorCode.NOTEMPTY);
    assert.equal(d.delete('/a/b/', -1).err, ErrorCode.NONODE); // delete does not validatePath
    assert.equal(d.delete('/a', -1).err, ErrorCode.NOTEMPTY); // root's DELETE perm is fine
  });
  it('setData: path → NONODE → NOAUTH(WRITE) → BADVERSION', () => {
    const d = fresh();
    assert.equal(d.setData('/x/', null).err, ErrorCode.BADARGUMENTS);
    assert.equal(d.setData('/x', null).err, ErrorCode.NONODE);
    d.create('/ro', { acl: [world(Perm.READ)] });
    assert.equal(d.setData('/ro', null, 42).err, ErrorCode.NOAUTH);
    d.create('/rw');
    assert.equal(d.setData('/rw', null, 42).err, ErrorCode.BADVERSION);
    assert.equal(d.setData('/rw', null, 0).stat?.version, 1);
  });
  it('setACL: path → INVALIDACL → NONODE → NOAUTH(ADMIN) → BADVERSION(aversion)', () => {
    const d = fresh();
    const setACL = (path: string, acl: ACL[], version = -1, auth: Id[] = []) => d.run({ op: OpCode.setACL, path, acl, version }, 1n, auth);
    assert.equal(setACL('bad', []).err, ErrorCode.BADARGUMENTS);
    assert.equal(setACL('/none', []).err, ErrorCode.INVALIDACL);
    assert.equal(setACL('/none', [world(31)]).err, ErrorCode.NONODE);
    d.create('/n', { acl: [world(Perm.ALL & ~Perm.ADMIN)] });
    assert.equal(setACL('/n', [world(31)], 7).err, ErrorCode.NOAUTH);
    d.create('/m');
    assert.equal(setACL('/m', [world(31)], 7).err, ErrorCode.BADVERSION);
    const ok = setACL('/m', [{ perms: 31, id: { scheme: 'auth', id: '' } }], 0, [alice]);
    assert.equal(ok.err, 0);
    assert.deepEqual([ok.stat?.aversion, ok.stat?.version], [1, 0]);
    const got = d.state.getACL('/m', [alice]);
    assert.ok(got.ok);
    assert.deepEqual(got.acl, [{ perms: 31, id: alice }]);
  });
  it('a failing write still consumes its zxid and leaves the tree alone', () => {
    const d = fresh();
    const r = d.delete('/missing');
    assert.deepEqual([r.type, r.err, r.zxid, d.state.lastProcessedZxid], [OpCode.error, ErrorCode.NONODE, 2n, 2n]);
  });
});

describe('tree: ACL enforcement on reads and writes', () => {
  it('digest ACLs, super bypass, getACL masking, exists READ check', () => {
    const d = fresh();
    d.create('/secret', { acl: [digestAcl('alice', 'secret')], data: Buffer.from('s') });
    const none = { authIds: [] as Id[] };
    assert.deepEqual(d.state.getData('/secret', none), { ok: false, err: ErrorCode.NOAUTH });
    assert.deepEqual(d.state.exists('/secret', none), { ok: false, err: ErrorCode.NOAUTH });
    assert.deepEqual(d.state.getChildren('/secret', none), { ok: false, err: ErrorCode.NOAUTH });
    assert.deepEqual(d.state.getAllChildrenNumber('/secret', []), { ok: false, err: ErrorCode.NOAUTH });
    assert.equal(d.state.getData('/secret', { authIds: [alice] }).ok, true);
    assert.equal(d.state.getData('/secret', { authIds: [bob] }).ok, false);
    assert.equal(d.state.getData('/secret', { authIds: [{ scheme: 'super', id: '' }] }).ok, true);
    assert.equal(d.setData('/secret', null, -1, 1n, [bob]).err, ErrorCode.NOAUTH);
    assert.equal(d.setData('/secret', null, -1, 1n, [{ scheme: 'super', id: '' }]).err, 0);
    assert.deepEqual(d.state.getACL('/secret', []), { ok: false, err: ErrorCode.NOAUTH });
    // READ without ADMIN: digest ids are masked (FinalRequestProcessor getACL)
    d.create('/r', { acl: [world(Perm.READ), digestAcl('alice', 'secret', Perm.WRITE)] });
    const masked = d.state.getACL('/r', []);
    assert.ok(masked.ok);
    assert.deepEqual(masked.acl, [world(Perm.READ), { perms: Perm.WRITE, id: { scheme: 'digest', id: 'alice:x' } }]);
    assert.deepEqual(d.state.exists('/missing', none), { ok: false, err: ErrorCode.NONODE });
    assert.deepEqual(d.state.exists('/a\u0000b', none), { ok: false, err: ErrorCode.BADARGUMENTS });
  });
  it('CREATE perm on the parent; an empty stored ACL allows everything', () => {
    const d = fresh();
    d.create('/nc', { acl: [world(Perm.ALL & ~Perm.CREATE)] });
    assert.equal(d.create('/nc/x').err, ErrorCode.NOAUTH);
    d.state.tree.setACL('/nc', [], 1);
    assert.equal(d.create('/nc/x').err, 0);
  });
  it('queued requests are checked against the ACL of the last prepared record (setACL keeps the old ACL there, as 3.8 does)', () => {
    const d = fresh();
    d.create('/z');
    const t1 = d.prep({ op: OpCode.setACL, path: '/z', acl: [world(Perm.READ)], version: -1 });
    const t2 = d.prep({ op: OpCode.setData, path: '/z', data: null, version: -1 });
    assert.equal(t2.body.type, OpCode.setData);
    d.state.apply(t1);
    d.state.apply(t2);
    assert.equal(d.setData('/z', null).err, ErrorCode.NOAUTH);
  });
});
