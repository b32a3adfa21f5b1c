import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DigestAuth, mayDeliver, type WatchTrigger } from '../../src/server/tree/index.js';
import { ErrorCode, EventType, OpCode, WatcherType } from '../../src/protocol/constants.js';
import { TreeDriver } from '../../src/server/tree/testing.js';

const ev = (ts: WatchTrigger[]) => ts.map((t) => `${t.watcherIds.join('+')}:${t.event.type}:${t.event.path}`);
const w = (watcherId: number) => ({ authIds: [], watcherId });

function fresh(): TreeDriver {
  const d = new TreeDriver();
  d.openSession(1n);
  return d;
}

describe('tree: one-shot watches (DataTree + WatchManager)', () => {
  it('getData watch: NodeDataChanged once; NodeDeleted', () => {
    const d = fresh();
    d.create('/a');
    d.state.getData('/a', w(1));
    assert.deepEqual(ev(d.setData('/a', null).triggers), ['1:3:/a']);
    assert.deepEqual(ev(d.setData('/a', null).triggers), []);
    d.state.getData('/a', w(1));
    assert.deepEqual(ev(d.delete('/a').triggers), ['1:2:/a']);
  });
  it('getData/exists/getChildren failing with NONODE or NOAUTH register nothing, except exists on a missing node', () => {
    const d = fresh();
    d.state.getData('/m', w(1));
    d.state.getChildren('/m', w(1));
    d.create('/s', { acl: [{ perms: 0, id: { scheme: 'world', id: 'anyone' } }] });
    d.state.getData('/s', w(1));
    d.state.exists('/s', w(1));
    assert.deepEqual(d.state.watchSummary(), { connections: 0, paths: 0, totalWatches: 0 });
    d.state.exists('/m', w(1));
    assert.deepEqual(ev(d.create('/m').triggers), ['1:1:/m']);
  });
  it('delete: a watcher with data+child watches on the node gets ONE NodeDeleted; parent child watch gets NodeChildrenChanged', () => {
    const d = fresh();
    d.create('/p');
    d.create('/p/c');
    d.state.getData('/p/c', w(1));
    d.state.getChildren('/p/c', w(1));
    d.state.getChildren('/p/c', w(2));
    d.state.getChildren('/p', w(1));
    assert.deepEqual(ev(d.delete('/p/c').triggers), ['1:2:/p/c', '2:2:/p/c', '1:4:/p']);
    assert.deepEqual(d.state.watchSummary().totalWatches, 0);
  });
  it('watchers are grouped per trigger; one event per watcher per trigger', () => {
    const d = fresh();
    d.create('/g');
    d.state.getData('/g', w(1));
    d.state.exists('/g', w(2));
    d.state.exists('/g', w(1));
    const t = d.setData('/g', null).triggers;
    assert.equal(t.length, 1);
    assert.deepEqual(new Set(t[0]?.watcherIds), new Set([1, 2]));
  });
  it('event ACL: deliverable only to connections with READ on the znode (3.8.4+ NIOServerCnxn.process)', () => {
    const d = fresh();
    const alice = { scheme: 'digest', id: DigestAuth.generateDigest('alice:pw') };
    d.create('/s', { acl: [{ perms: 31, id: alice }] });
    d.state.getData('/s', { authIds: [alice], watcherId: 1 });
    const [trig] = d.setData('/s', null, -1, 1n, [alice]).triggers;
    assert.ok(trig);
    assert.equal(mayDeliver(trig, []), false);
    assert.equal(mayDeliver(trig, [alice]), true);
  });
});

describe('tree: persistent and recursive watches (addWatch)', () => {
  it('PERSISTENT: data and child events on the path, not on descendants, never removed', () => {
    const d = fresh();
    d.create('/p');
    d.state.addWatch('/p', 0, 1);
    assert.deepEqual(ev(d.create('/p/a').triggers), ['1:4:/p']);
    assert.deepEqual(ev(d.setData('/p/a', null).triggers), []);
    assert.deepEqual(ev(d.setData('/p', null).triggers), ['1:3:/p']);
    assert.deepEqual(ev(d.setData('/p', null).triggers), ['1:3:/p']);
    assert.deepEqual(ev(d.delete('/p/a').triggers), ['1:4:/p']);
    assert.deepEqual(ev(d.delete('/p').triggers), ['1:2:/p']);
    assert.deepEqual(ev(d.create('/p').triggers), ['1:1:/p']);
  });
  it('PERSISTENT_RECURSIVE: NodeCreated/DataChanged/Deleted for the subtree, no NodeChildrenChanged (checked on a real 3.8.0)', () => {
    const d = fresh();
    d.create('/r');
    d.state.addWatch('/r', 1, 1);
    assert.deepEqual(ev(d.create('/r/a').triggers), ['1:1:/r/a']);
    assert.deepEqual(ev(d.create('/r/a/b').triggers), ['1:1:/r/a/b']);
    assert.deepEqual(ev(d.setData('/r/a/b', null).triggers), ['1:3:/r/a/b']);
    assert.deepEqual(ev(d.delete('/r/a/b').triggers), ['1:2:/r/a/b']);
    assert.deepEqual(ev(d.delete('/r/a').triggers), ['1:2:/r/a']);
    assert.deepEqual(ev(d.setData('/r', null).triggers), ['1:3:/r']);
    assert.deepEqual(ev(d.create('/other').triggers), []);
  });
  it('a one-shot registration on the same path downgrades a persistent watch (WatcherModeManager quirk)', () => {
    const d = fresh();
    d.create('/p');
    d.state.addWatch('/p', 0, 1);
    d.state.getData('/p', w(1));
    assert.deepEqual(ev(d.setData('/p', null).triggers), ['1:3:/p']);
    assert.deepEqual(ev(d.setData('/p', null).triggers), []); // the data side is now gone
    assert.deepEqual(ev(d.create('/p/x').triggers), ['1:4:/p']); // the child side stays persistent
  });
  it('recursive on "/" sees everything; removeWatcher drops it all', () => {
    const d = fresh();
    d.state.addWatch('/', 1, 5);
    assert.deepEqual(ev(d.create('/z').triggers), ['5:1:/z']);
    d.state.removeWatcher(5);
    assert.deepEqual(ev(d.delete('/z').triggers), []);
  });
});

describe('tree: checkWatches/removeWatches', () => {
  it('NOWATCHER when nothing is registered; types Children/Data/Any', () => {
    const d = fresh();
    d.create('/a');
    assert.equal(d.state.checkWatches('/a', WatcherType.Any, 1), ErrorCode.NOWATCHER);
    assert.equal(d.state.removeWatches('/a', WatcherType.Any, 1), ErrorCode.NOWATCHER);
    d.state.getData('/a', w(1));
    assert.equal(d.state.checkWatches('/a', WatcherType.Children, 1), ErrorCode.NOWATCHER);
    assert.equal(d.state.checkWatches('/a', WatcherType.Data, 1), ErrorCode.OK);
    assert.equal(d.state.removeWatches('/a', WatcherType.Children, 1), ErrorCode.NOWATCHER);
    assert.equal(d.state.removeWatches('/a', WatcherType.Data, 1), ErrorCode.OK);
    assert.deepEqual(ev(d.setData('/a', null).triggers), []);
    d.state.getData('/a', w(1));
    d.state.getChildren('/a', w(1));
    assert.equal(d.state.removeWatches('/a', WatcherType.Any, 1), ErrorCode.OK);
    assert.equal(d.state.checkWatches('/a', WatcherType.Any, 1), ErrorCode.NOWATCHER);
  });
  it('3.8 containsWatcher answers OK when ANY watcher watches the exact path; removal is exact', () => {
    const d = fresh();
    d.create('/a');
    d.state.getData('/a', w(2));
    assert.equal(d.state.checkWatches('/a', WatcherType.Data, 1), ErrorCode.OK);
    assert.equal(d.state.removeWatches('/a', WatcherType.Data, 1), ErrorCode.NOWATCHER);
  });
  it('persistent watches can be removed', () => {
    const d = fresh();
    d.create('/a');
    d.state.addWatch('/a', 1, 1);
    assert.equal(d.state.removeWatches('/a', WatcherType.Any, 1), ErrorCode.OK);
    assert.deepEqual(ev(d.create('/a/b').triggers), []);
  });
});

describe('tree: setWatches after reconnect (DataTree.setWatches)', () => {
  it('fires for changes after relativeZxid, registers the rest', () => {
    const d = fresh();
    d.create('/same'); // 2
    d.create('/changed'); // 3
    d.create('/kids'); // 4
    d.create('/quiet'); // 5
    const rel = d.zxid;
    d.setData('/changed', null); // 6
    d.create('/kids/k'); // 7
    d.create('/born'); // 8
    const { triggers: t, nullPath } = d.state.setWatches(
      rel,
      { dataWatches: ['/same', '/changed', '/gone'], existWatches: ['/born', '/unborn'], childWatches: ['/kids', '/quiet', '/gone2'], persistentRecursiveWatches: ['/rec'] },
      7,
    );
    assert.equal(nullPath, false);
    assert.deepEqual(ev(t), ['7:3:/changed', '7:2:/gone', '7:1:/born', '7:4:/kids', '7:2:/gone2']);
    assert.ok(t.every((x) => x.acl === null));
    assert.deepEqual(ev(d.setData('/same', null).triggers), ['7:3:/same']);
    assert.deepEqual(ev(d.create('/unborn').triggers), ['7:1:/unborn']);
    assert.deepEqual(ev(d.create('/quiet/x').triggers), ['7:4:/quiet']);
    assert.deepEqual(ev(d.create('/rec').triggers), ['7:1:/rec']);
    assert.deepEqual(ev(d.create('/rec/x').triggers), ['7:1:/rec/x']);
  });
});

describe('tree: 4lw watch views (data watch manager only, like DataTree)', () => {
  it('wchs/wchc/wchp', () => {
    const d = fresh();
    d.create('/a');
    d.state.getData('/a', w(1));
    d.state.exists('/b', w(1));
    d.state.exists('/a', w(2));
    d.state.getChildren('/a', w(3)); // child watches are not listed
    assert.deepEqual(d.state.watchSummary(), { connections: 2, paths: 2, totalWatches: 3 });
    assert.deepEqual(d.state.watchesByWatcher(), new Map([[1, ['/a', '/b']], [2, ['/a']]]));
    assert.deepEqual(d.state.watchesByPath(), new Map([['/a', [1, 2]], ['/b', [1]]]));
    d.setData('/a', null);
    // fired one-shot watches leave the watcher entry behind, as Java's watch2Paths does
    assert.deepEqual(d.state.watchSummary(), { connections: 2, paths: 1, totalWatches: 1 });
  });
});

describe('tree: multiRead', () => {
  it('per-op results and errors, optional watches', () => {
    const d = fresh();
    d.create('/a', { data: Buffer.from('v') });
    const r = d.state.multiRead([{ op: OpCode.getData, path: '/a', watch: true }, { op: OpCode.getChildren, path: '/' }, { op: OpCode.getData, path: '/none' }], [], 4);
    assert.equal(r[0]?.type, OpCode.getData);
    assert.deepEqual((r[0] as { data: Buffer }).data, Buffer.from('v'));
    assert.deepEqual(r[1], { type: OpCode.getChildren, children: ['a', 'zookeeper'] });
    assert.deepEqual(r[2], { type: OpCode.error, err: ErrorCode.NONODE });
    assert.deepEqual(ev(d.setData('/a', null).triggers), ['4:3:/a']);
    assert.equal(EventType.NodeDataChanged, 3);
  });
});
