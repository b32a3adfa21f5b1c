/**
 * Differential conformance, watches: one-shot data/child/exist watches and their order,
 * notification-before-reply ordering on a connection, persistent and persistent-recursive
 * watches (addWatch), removeWatches/checkWatches, and setWatches2 after a reconnect.
 */
import { configNodeBody, conformanceSuite } from './framework.js';
import { AddWatchMode, CreateMode, WatcherType } from '../support/raw-client.js';

const { scenario } = conformanceSuite('watches');

scenario('one-shot data, exist and child watches through the C client', async (t) => {
  const w = await t.native();
  const c = await t.native();
  const r = t.root;
  const n = `${r}/n`;
  t.recN('w_exists on a missing node', await w.wExists(n));
  t.recN('create', await c.create(n, 'v', CreateMode.PERSISTENT));
  await w.waitEvents(1);
  t.events('exist watch fired', w);
  t.recN('w_get', await w.wGet(n));
  t.recN('w_get_children', await w.wGetChildren(n));
  t.recN('w_exists on an existing node', await w.wExists(n));
  t.recN('set', await c.set(n, 'v2', -1));
  await w.waitEvents(1);
  t.recN('set again (watch already fired)', await c.set(n, 'v3', -1));
  t.recN('create child', await c.create(`${n}/kid`, '', CreateMode.PERSISTENT));
  await w.waitEvents(2);
  t.recN('create another child (child watch already fired)', await c.create(`${n}/kid2`, '', CreateMode.PERSISTENT));
  await c.sync(n);
  await t.sleep(150);
  t.events('events: one data change, one child change', w);
  t.recN('w_get the child', await w.wGet(`${n}/kid`));
  t.recN('w_get_children again', await w.wGetChildren(n));
  t.recN('w_exists again', await w.wExists(n));
  t.recN('delete the child', await c.delete(`${n}/kid`, -1));
  await w.waitEvents(2);
  t.recN('delete kid2 and n', await c.delete(`${n}/kid2`, -1));
  t.recN('delete n', await c.delete(n, -1));
  await w.waitEvents(3);
  await t.sleep(150);
  t.events('events: kid deleted, n children changed, then n deleted', w);
});

scenario('every watch a delete triggers, in order, on one connection', async (t) => {
  const w = await t.raw();
  const c = await t.raw();
  const r = t.root;
  const n = `${r}/n`;
  await c.create(n, 'v');
  await c.create(`${n}/kid`, 'k');
  t.rec('getData watch on n', await w.getData(n, true));
  t.rec('exists watch on n', await w.exists(n, true));
  t.rec('getChildren watch on n', await w.getChildren(n, true));
  t.rec('getChildren watch on root', await w.getChildren(r, true));
  t.rec('getData watch on kid', await w.getData(`${n}/kid`, true));
  t.rec('exists watch on kid', await w.exists(`${n}/kid`, true));
  t.rec('getChildren watch on kid', await w.getChildren(`${n}/kid`, true));
  t.rec('delete kid', await c.delete(`${n}/kid`));
  await w.waitEvents(2);
  t.rec('delete n', await c.delete(n));
  await w.waitEvents(4);
  await w.sync(r);
  t.events('events', w);
  // A watch on a path that never existed survives unrelated deletes and fires on creation.
  t.rec('exists watch on missing', await w.exists(`${r}/later`, true));
  t.rec('create later', await c.create(`${r}/later`, 'x', CreateMode.EPHEMERAL));
  await w.waitEvents(1);
  t.events('created', w);
  // getData on a missing node does NOT leave a watch behind.
  t.rec('getData watch on missing', await w.getData(`${r}/never`, true));
  t.rec('getChildren watch on missing', await w.getChildren(`${r}/never`, true));
  t.rec('create never', await c.create(`${r}/never`, 'x'));
  await w.sync(r);
  await t.sleep(150);
  t.events('nothing (no watch was set by failed reads)', w);
});

scenario('a notification reaches a connection before the reply to any later request', async (t) => {
  const a = await t.raw();
  const b = await t.raw();
  const r = t.root;
  const n = `${r}/n`;
  await a.create(n, '0');
  // The writer's own watch: the event precedes the reply to the write that caused it.
  await a.getData(n, true);
  await b.getData(n, true);
  await b.getChildren(r, true);
  await b.exists(`${r}/m`, true);
  const fromA = a.arrivals.length;
  const fromB = b.arrivals.length;
  t.rec('a setData', await a.setData(n, '1'));
  // b learns of the change before the reply to anything it sends afterwards.
  t.rec('b getData', await b.getData(n));
  t.rec('a create m, pipelined with a getData', await a.create(`${r}/m`, 'm'));
  t.rec('b exists m', await b.exists(`${r}/m`));
  // Pipelined writes on one connection, each answered after the events it caused.
  const ps = [a.getData(n, true), a.setData(n, '2'), a.getData(n, true), a.setData(n, '3'), a.delete(`${r}/m`)];
  for (const p of await Promise.all(ps)) t.rec('pipelined', p);
  t.rec('b sync', await b.sync(r));
  t.arrivals('a arrivals', a, a.arrivals[fromA]?.seq ?? 0);
  t.arrivals('b arrivals', b, b.arrivals[fromB]?.seq ?? 0);
});

scenario('persistent watch (addWatch PERSISTENT): repeated events on the node and its children list', async (t) => {
  const w = await t.raw();
  const c = await t.raw();
  const r = t.root;
  const n = `${r}/n`;
  t.rec('addWatch on missing node', await w.addWatch(n, AddWatchMode.PERSISTENT));
  await c.create(n, '0');
  await c.setData(n, '1');
  await c.setData(n, '2');
  await c.create(`${n}/a`, 'a');
  await c.create(`${n}/a/deep`, 'deep');
  await c.setData(`${n}/a`, 'a2');
  await c.delete(`${n}/a/deep`);
  await c.delete(`${n}/a`);
  await c.delete(n);
  await c.create(n, 'again');
  await w.waitEvents(7);
  await w.sync(r);
  await t.sleep(100);
  t.events('events', w);
  t.rec('checkWatches Data', await w.checkWatches(n, WatcherType.Data));
  t.rec('checkWatches Children', await w.checkWatches(n, WatcherType.Children));
  t.rec('checkWatches Any', await w.checkWatches(n, WatcherType.Any));
  t.rec('a one-shot getData on the same path', await w.getData(n, true));
  await c.setData(n, 'x');
  await c.setData(n, 'y');
  await w.sync(r);
  await t.sleep(100);
  t.events('after a one-shot registration on top of the persistent one', w);
  t.rec('removeWatches Data', await w.removeWatches(n, WatcherType.Data));
  t.rec('removeWatches Data again', await w.removeWatches(n, WatcherType.Data));
  await c.create(`${n}/b`);
  await c.setData(n, 'z');
  await w.sync(r);
  await t.sleep(100);
  t.events('after removing the data side', w);
  t.rec('removeWatches Children', await w.removeWatches(n, WatcherType.Children));
  t.rec('removeWatches Any (nothing left)', await w.removeWatches(n, WatcherType.Any));
  await c.create(`${n}/c`);
  await w.sync(r);
  await t.sleep(100);
  t.events('after removing both', w);
});

scenario('persistent recursive watch: events for the whole subtree, no child events', async (t) => {
  const w = await t.raw();
  const c = await t.raw();
  const r = t.root;
  const n = `${r}/tree`;
  await c.create(n, '0');
  t.rec('addWatch recursive', await w.addWatch(n, AddWatchMode.PERSISTENT_RECURSIVE));
  await c.create(`${n}/a`);
  await c.create(`${n}/a/b`);
  await c.create(`${n}/a/b/c`, null, CreateMode.EPHEMERAL);
  await c.setData(`${n}/a/b`, 'x');
  await c.setData(n, 'root');
  await c.create(`${r}/sibling`);
  await c.setData(`${r}/sibling`, 'not watched');
  await c.delete(`${n}/a/b/c`);
  await c.delete(`${n}/a/b`);
  await w.waitEvents(7);
  await w.sync(r);
  await t.sleep(100);
  t.events('events', w);
  t.rec('checkWatches Data on the root of the watch', await w.checkWatches(n, WatcherType.Data));
  t.rec('checkWatches Data on a descendant', await w.checkWatches(`${n}/a`, WatcherType.Data));
  t.rec('checkWatches Children on the root of the watch', await w.checkWatches(n, WatcherType.Children));
  // A second client's one-shot watch on a descendant coexists with the recursive one.
  const v = await t.raw();
  t.rec('v getData watch on descendant', await v.getData(`${n}/a`, true));
  await c.setData(`${n}/a`, 'both');
  await w.waitEvents(1);
  await v.waitEvents(1);
  t.events('w', w);
  t.events('v', v);
  t.rec('removeWatches Any on the recursive root', await w.removeWatches(n, WatcherType.Any));
  await c.setData(`${n}/a`, 'gone');
  await w.sync(r);
  await t.sleep(100);
  t.events('w after removal', w);
  // Both modes on the same path from one connection.
  t.rec('addWatch PERSISTENT', await w.addWatch(n, AddWatchMode.PERSISTENT));
  t.rec('addWatch PERSISTENT_RECURSIVE on the same path', await w.addWatch(n, AddWatchMode.PERSISTENT_RECURSIVE));
  await c.create(`${n}/z`);
  await c.setData(`${n}/z`, 'zz');
  await w.waitEvents(2);
  await w.sync(r);
  await t.sleep(100);
  t.events('after re-adding (the last mode wins)', w);
  t.rec('addWatch with an invalid mode', await w.addWatch(n, 7));
  t.rec('addWatch on an invalid path', await w.addWatch(`${n}/`, AddWatchMode.PERSISTENT));
});

scenario('removeWatches and checkWatches on one-shot watches', async (t) => {
  const w = await t.raw();
  const c = await t.raw();
  const other = await t.raw();
  const r = t.root;
  const n = `${r}/n`;
  await c.create(n, 'v');
  t.rec('checkWatches with none', await w.checkWatches(n, WatcherType.Any));
  t.rec('removeWatches with none', await w.removeWatches(n, WatcherType.Any));
  t.rec('getData watch', await w.getData(n, true));
  t.rec('checkWatches Data', await w.checkWatches(n, WatcherType.Data));
  t.rec('checkWatches Children', await w.checkWatches(n, WatcherType.Children));
  t.rec('checkWatches Any', await w.checkWatches(n, WatcherType.Any));
  // Another connection's watch on the same path.
  t.rec('other connection checkWatches Data', await other.checkWatches(n, WatcherType.Data));
  t.rec('other connection removeWatches Data', await other.removeWatches(n, WatcherType.Data));
  t.rec('removeWatches Children (only a data watch exists)', await w.removeWatches(n, WatcherType.Children));
  t.rec('removeWatches Data', await w.removeWatches(n, WatcherType.Data));
  t.rec('checkWatches Data after removal', await w.checkWatches(n, WatcherType.Data));
  await c.setData(n, 'changed');
  await w.sync(r);
  await t.sleep(100);
  t.events('no event after removal (the server sends no *WatchRemoved)', w);
  t.rec('getChildren watch', await w.getChildren(n, true));
  t.rec('exists watch', await w.exists(n, true));
  t.rec('removeWatches Any', await w.removeWatches(n, WatcherType.Any));
  t.rec('checkWatches Any', await w.checkWatches(n, WatcherType.Any));
  t.rec('removeWatches on a missing path', await w.removeWatches(`${r}/missing`, WatcherType.Any));
  t.rec('removeWatches with an invalid type', await w.removeWatches(n, 9));
  t.rec('checkWatches with an invalid type', await w.checkWatches(n, 0));
  t.rec('exists watch on missing path', await w.exists(`${r}/missing`, true));
  t.rec('checkWatches Data on it', await w.checkWatches(`${r}/missing`, WatcherType.Data));
  t.rec('removeWatches Data on it', await w.removeWatches(`${r}/missing`, WatcherType.Data));
  await c.create(`${r}/missing`);
  await w.sync(r);
  await t.sleep(100);
  t.events('still no events', w);
});

scenario('setWatches2 after a reconnect: missed changes fire at once, the rest are re-armed', async (t) => {
  const c = await t.raw();
  const r = t.root;
  for (const p of ['changed', 'same', 'deleted', 'kids', 'quiet-kids']) await c.create(`${r}/${p}`, 'v');
  const w0 = await t.raw({ timeoutMs: 4000 });
  await w0.sync(r); // learns the current zxid, as a client holding these watches would have
  const seen = w0.lastZxid;
  t.note('session', t.sid(w0.sessionId));
  // The watches a client would hold (the raw client keeps them only in the test's head).
  await w0.destroy();
  await c.setData(`${r}/changed`, 'v2');
  await c.delete(`${r}/deleted`);
  await c.create(`${r}/kids/new`);
  await c.create(`${r}/born`);
  const w = t.track(await w0.reconnect());
  t.note('same session after reconnect', t.sid(w.sessionId));
  t.rec('setWatches2', await w.setWatches2({
    relativeZxid: seen,
    dataWatches: [`${r}/changed`, `${r}/same`, `${r}/deleted`],
    existWatches: [`${r}/born`, `${r}/unborn`],
    childWatches: [`${r}/kids`, `${r}/quiet-kids`, `${r}/deleted`],
    persistentWatches: [`${r}/p`],
    persistentRecursiveWatches: [`${r}/rec`],
  }));
  await w.waitEvents(5);
  await w.sync(r);
  t.events('fired at once', w);
  t.arrivals('order on the new connection', w);
  // The re-armed ones fire later.
  await c.setData(`${r}/same`, 'later');
  await c.create(`${r}/quiet-kids/x`);
  await c.create(`${r}/unborn`);
  await c.create(`${r}/p`);
  await c.create(`${r}/rec`);
  await c.create(`${r}/rec/child`);
  await w.waitEvents(6);
  await w.sync(r);
  await t.sleep(100);
  t.events('re-armed watches', w);
  // The legacy setWatches (opcode 101) on another reconnect.
  const w2 = t.track(await w.reconnect());
  t.rec('setWatches (v1)', await w2.setWatches({ relativeZxid: 1n, dataWatches: [`${r}/same`], existWatches: [], childWatches: [`${r}/kids`] }));
  await w2.waitEvents(2);
  t.events('v1 with an old relativeZxid', w2);
});

scenario('watch paths relative to the root node and /zookeeper', async (t) => {
  const w = await t.raw();
  const c = await t.raw();
  t.rec('getChildren watch on /zookeeper', await w.getChildren('/zookeeper', true));
  t.recKnown('exists watch on /zookeeper/config', await w.exists('/zookeeper/config', true), configNodeBody());
  t.rec('getData watch on the scenario root', await w.getData(t.root, true));
  t.rec('setData on the root', await c.setData(t.root, 'x'));
  await w.waitEvents(1);
  t.events('data change on the scenario root', w);
  t.rec('create under /zookeeper', await c.create(`/zookeeper${t.root}`));
  t.rec('delete under /zookeeper', await c.delete(`/zookeeper${t.root}`));
  await w.waitEvents(1);
  await w.sync('/');
  await t.sleep(100);
  t.events('child change on /zookeeper', w);
});
