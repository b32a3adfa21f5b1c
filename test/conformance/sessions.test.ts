/**
 * Differential conformance, sessions: closeSession and expiry deleting ephemerals and firing
 * watches, reconnecting to the same session (and to expired or unknown ones), session
 * timeout negotiation, a session moving to a new connection.
 * Both servers run with tickTime 200 ms and min/max session timeouts 1000/60000 ms.
 */
import { conformanceSuite, SERVER_OPTIONS } from './framework.js';
import { CreateMode, RawClient } from '../support/raw-client.js';

const { scenario } = conformanceSuite('sessions');

scenario('closeSession deletes the ephemerals and fires the watches, in order', async (t) => {
  const owner = await t.raw();
  const cOwner = await t.native();
  const w = await t.raw();
  const cw = await t.native();
  const r = t.root;
  await owner.create(`${r}/dir`);
  t.note('owner', t.sid(owner.sessionId));
  t.note('C owner', t.sid(cOwner.sessionId));
  t.rec('ephemeral', await owner.create(`${r}/e1`, 'x', CreateMode.EPHEMERAL));
  t.rec('ephemeral sequential', await owner.create(`${r}/dir/es-`, 'y', CreateMode.EPHEMERAL_SEQUENTIAL));
  t.rec('ephemeral in dir', await owner.create(`${r}/dir/e2`, 'z', CreateMode.EPHEMERAL));
  t.recN('C ephemeral', await cOwner.create(`${r}/ce`, 'c', CreateMode.EPHEMERAL));
  t.rec('persistent (survives)', await owner.create(`${r}/keep`, 'k'));
  t.rec('exists watch e1', await w.exists(`${r}/e1`, true));
  t.rec('getData watch e2', await w.getData(`${r}/dir/e2`, true));
  t.rec('child watch dir', await w.getChildren(`${r}/dir`, true));
  t.rec('child watch root', await w.getChildren(r, true));
  t.recN('C w_exists ce', await cw.wExists(`${r}/ce`));
  t.recN('C w_get_children dir', await cw.wGetChildren(`${r}/dir`));
  t.rec('getEphemerals of the owner', await owner.getEphemerals(r));
  t.rec('closeSession', await owner.close());
  t.note('owner connection closed by the server', owner.closed);
  // Three deletes in one closeSession txn: the order follows ZooKeeper's HashSet of paths.
  await w.waitEvents(4);
  await w.sync(r);
  t.events('raw watcher', w);
  await cw.waitEvents(1);
  t.events('C watcher after the raw owner closed', cw);
  cOwner.close();
  await w.getChildren(r, true);
  await cw.waitEvents(1);
  t.events('C watcher after the C owner closed', cw);
  t.rec('children left', await w.getChildren2(r));
  t.rec('dir children left', await w.getChildren2(`${r}/dir`));
  t.rec('the closed session in a reply to a new client', await w.exists(`${r}/keep`));
});

scenario('session expiry deletes ephemerals, fires watches, closes the connection; the session cannot come back', async (t) => {
  const owner = await t.raw({ timeoutMs: 2000, autoPing: false });
  const w = await t.raw();
  const cw = await t.native();
  const r = t.root;
  t.note('negotiated timeout', owner.negotiatedTimeoutMs);
  t.rec('ephemeral', await owner.create(`${r}/e`, 'x', CreateMode.EPHEMERAL));
  t.rec('ephemeral sequential', await owner.create(`${r}/s-`, 'x', CreateMode.EPHEMERAL_SEQUENTIAL));
  t.rec('data watch', await w.getData(`${r}/e`, true));
  t.rec('child watch', await w.getChildren(r, true));
  t.recN('C w_exists', await cw.wExists(`${r}/e`));
  const started = Date.now();
  // No pings: the session expires about 2 s (+ up to a tick) after the last request.
  await w.waitEvents(2, 8000);
  const elapsed = Date.now() - started;
  t.note('expired between 1.5 s and 4 s after the last request', elapsed >= 1500 && elapsed <= 4000 ? 'yes' : `no: ${elapsed} ms`);
  await w.sync(r);
  t.events('raw watcher', w);
  await cw.waitEvents(1);
  t.events('C watcher', cw);
  await owner.waitClosed(3000).catch(() => undefined);
  t.note('the expired session\'s connection was closed by the server', owner.closed);
  t.rec('children after expiry', await w.getChildren2(r));
  const back = await RawClient.connect(t.address, { sessionId: owner.sessionId, passwd: owner.passwd, timeoutMs: 2000 });
  t.note('reconnect to the expired session', { expired: back.expired, timeOut: back.connectResponse?.timeOut, sessionId: t.sid(back.connectResponse?.sessionId ?? -1n), passwordLength: back.connectResponse?.passwd.length, readOnly: back.connectResponse?.readOnly });
});

scenario('reconnecting to a live session keeps its ephemerals; wrong password and unknown ids are refused', async (t) => {
  const a = await t.raw({ timeoutMs: 3000 });
  const r = t.root;
  t.note('session', t.sid(a.sessionId));
  t.note('negotiated', a.negotiatedTimeoutMs);
  t.rec('ephemeral', await a.create(`${r}/e`, 'x', CreateMode.EPHEMERAL));
  const b = t.track(await a.reconnect());
  t.note('reattached', { session: t.sid(b.sessionId), timeout: b.negotiatedTimeoutMs, expired: b.expired, samePassword: b.passwd.equals(a.passwd) });
  t.rec('ephemeral still there, same owner', await b.exists(`${r}/e`));
  t.rec('another ephemeral on the new connection', await b.create2(`${r}/e2`, 'y', CreateMode.EPHEMERAL));
  t.rec('getEphemerals', await b.getEphemerals(r));
  // A different requested timeout on reconnect: the session keeps the one it had.
  const b2 = t.track(await b.reconnect({ timeoutMs: 10_000 }));
  t.note('reattached asking for 10 s', { session: t.sid(b2.sessionId), timeout: b2.negotiatedTimeoutMs });
  const unknown = await RawClient.connect(t.address, { sessionId: 0x7123456789abcdefn, passwd: Buffer.alloc(16) });
  t.note('unknown session id', { expired: unknown.expired, timeOut: unknown.connectResponse?.timeOut, sessionId: t.sid(unknown.connectResponse?.sessionId ?? -1n) });
  t.rec('the session is unaffected', await b2.exists(`${r}/e`));
  t.rec('close', await b2.close());
  const c = await t.raw();
  t.rec('ephemerals gone', await c.getChildren(r));
});

scenario('session timeout negotiation and the handshake fields', async (t) => {
  for (const asked of [1, 999, 1000, 2500, 59_999, 60_000, 60_001, 600_000]) {
    const c = await t.raw({ timeoutMs: asked });
    t.note(`asked ${asked} ms`, { timeout: c.negotiatedTimeoutMs, protocolVersion: c.connectResponse?.protocolVersion, passwordLength: c.passwd.length, readOnly: c.connectResponse?.readOnly });
  }
  // Without the trailing readOnly byte (pre-3.4 clients) the answer has none either.
  const old = await t.raw({ timeoutMs: 4000, readOnly: undefined, autoPing: true });
  t.note('readOnly byte absent in request', old.connectResponse?.readOnly === false ? 'false' : String(old.connectResponse?.readOnly));
  const c = await t.native(3000);
  t.note('C client asked 3000', Number(c.zk.timeout));
  const p = await old.ping();
  t.note('ping reply', { xid: p.xid, err: p.errName, zxid: t.zxid(p.zxid), sameAsLastProcessed: p.zxid === (await old.sync('/')).zxid });
});

scenario('a session moving to a new connection closes the old one and drops its watches', async (t) => {
  const a = await t.raw({ timeoutMs: 4000 });
  const other = await t.raw();
  const r = t.root;
  await other.create(`${r}/n`, 'v');
  t.rec('watch on the old connection', await a.getData(`${r}/n`, true));
  const b = t.track(await RawClient.connect(t.address, { sessionId: a.sessionId, passwd: a.passwd, timeoutMs: 4000 }));
  t.note('same session', t.sid(b.sessionId));
  await a.waitClosed(3000).catch(() => undefined);
  t.note('old connection closed by the server', a.closed);
  t.rec('setData', await other.setData(`${r}/n`, 'v2'));
  await b.sync(r);
  await t.sleep(150);
  t.events('the new connection did not inherit the watch', b);
  t.rec('the moved session works', await b.create(`${r}/e`, null, CreateMode.EPHEMERAL));
  t.rec('owner is the same session', await other.exists(`${r}/e`));
});

scenario('requests after closeSession on the same connection', async (t) => {
  const a = await t.raw();
  const r = t.root;
  await a.create(`${r}/n`, 'v');
  const close = a.send({ kind: 'closeSession', xid: 1000, type: -11 });
  const after = a.getData(`${r}/n`);
  t.rec('closeSession', await close);
  const got = await after;
  // ZooKeeper closes the connection once closeSession is done: a request pipelined behind it
  // is not served. Whether its SESSIONEXPIRED answer still slips out before the close is a
  // race inside ZooKeeper (both happen), so either is accepted here. In a cluster the race is
  // wider: the answer from the server the client is on can even beat the close (Apache and
  // ours both answer it OK on some runs and not on others), so any of the three is accepted.
  const notServed = ['SESSIONEXPIRED', 'CONNECTIONLOSS'].includes(got.errName);
  const outcome = SERVER_OPTIONS.nodes === 3 && (notServed || got.errName === 'OK') ? 'served or not (a race in a cluster)' : notServed ? 'not served' : got.errName;
  t.note('getData pipelined after closeSession', outcome);
  await a.waitClosed(3000).catch(() => undefined);
  t.note('closed', a.closed);
});

scenario('a reconnect with the wrong password is refused, and the live connection?', async (t) => {
  const a = await t.raw({ timeoutMs: 3000 });
  const r = t.root;
  t.rec('ephemeral', await a.create(`${r}/e`, 'x', CreateMode.EPHEMERAL));
  const wrong = Buffer.from(a.passwd);
  wrong[0] = (wrong[0]! + 1) & 0xff;
  const bad = await RawClient.connect(t.address, { sessionId: a.sessionId, passwd: wrong });
  t.note('wrong password', { expired: bad.expired, timeOut: bad.connectResponse?.timeOut, sessionId: t.sid(bad.connectResponse?.sessionId ?? -1n) });
  // ZooKeeper closes the session's current connection BEFORE checking the password
  // (processConnectRequest: closeSession(sessionId, CLIENT_RECONNECT), then reopenSession);
  // the session itself survives. zk-elect checks the password first and leaves it alone.
  t.rec('the live connection after the bad attempt', await a.exists(`${r}/e`));
  const c = await t.raw();
  t.rec('the ephemeral survives either way', await c.exists(`${r}/e`));
}, { todo: 'deliberate difference: Apache drops the live connection of a session when anyone presents its id with a WRONG password; zk-elect refuses the attempt without disturbing the session\'s connection' });
