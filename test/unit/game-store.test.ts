/**
 * GameStore's compare-and-swap loop against an in-memory znode store that can interleave
 * another writer, lose replies, and deliver a write late: no move is lost or applied twice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionLossError, ZooKeeperError } from '../../src/election/errors.js';
import { ZkCode, codeName, type CreateMode, type ZkStat } from '../../src/election/zk-types.js';
import { applyMove, decodeState, encodeState, GameStateError, initialState } from '../../src/game/rules.js';
import { GameStore, type GameZk } from '../../src/game/store.js';

const zkError = (code: number, op: string, path: string) => new ZooKeeperError(code, codeName(code), op, path);
const stat = (version: number): ZkStat =>
  ({ czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version, cversion: 0, aversion: 0, ephemeralOwner: '0', dataLength: 0, numChildren: 0 });

/** Znodes in a map; `beforeSet` runs before each setData and may change the outcome. */
class FakeZk implements GameZk {
  readonly nodes = new Map<string, { data: Buffer; version: number }>([['/', { data: Buffer.alloc(0), version: 0 }]]);
  sets = 0;
  beforeSet: ((call: number, apply: () => ZkStat) => ZkStat | 'default') | undefined;

  async create(path: string, data: Buffer, _mode: CreateMode): Promise<string> {
    if (this.nodes.has(path)) throw zkError(ZkCode.NODEEXISTS, 'create', path);
    if (!this.nodes.has(path.slice(0, path.lastIndexOf('/')) || '/')) throw zkError(ZkCode.NONODE, 'create', path);
    this.nodes.set(path, { data, version: 0 });
    return path;
  }
  async getData(path: string) {
    const n = this.nodes.get(path);
    if (!n) throw zkError(ZkCode.NONODE, 'getData', path);
    return { data: n.data, stat: stat(n.version) };
  }
  async setData(path: string, data: Buffer, version: number): Promise<ZkStat> {
    const apply = () => this.set(path, data, version);
    const call = ++this.sets;
    const r = this.beforeSet?.(call, apply) ?? 'default';
    return r === 'default' ? apply() : r;
  }
  set(path: string, data: Buffer, version: number): ZkStat {
    const n = this.nodes.get(path);
    if (!n) throw zkError(ZkCode.NONODE, 'setData', path);
    if (version !== -1 && version !== n.version) throw zkError(ZkCode.BADVERSION, 'setData', path);
    n.data = data;
    n.version += 1;
    return stat(n.version);
  }
  state(path: string) {
    return decodeState(this.nodes.get(path)!.data);
  }
}

const fast = { conflictBackoffMs: 0, lossBackoffMs: 0 };

describe('GameStore', () => {
  test('creates the game node and its parents on first use', async () => {
    const zk = new FakeZk();
    const store = new GameStore(zk, '/apps/games/g1', fast);
    const snap = await store.read();
    assert.deepEqual(snap, { state: initialState(), version: 0 });
    assert.ok(zk.nodes.has('/apps') && zk.nodes.has('/apps/games'));
    // A second store finding the node there already reads it as it is.
    assert.deepEqual(await new GameStore(zk, '/apps/games/g1').read(), snap);
  });

  test('a conflicting writer makes us re-read and re-apply the rules, losing nothing', async () => {
    const zk = new FakeZk();
    const ann = new GameStore(zk, '/g', fast);
    await ann.play('write', 40, 'ann');
    // Bob's guess commits between ann's read and her setData.
    zk.beforeSet = (call) => {
      if (call === 2) {
        zk.beforeSet = undefined;
        const bob = applyMove(zk.state('/g'), { op: 'guess', value: 45, player: 'bob', id: 'bob-1' });
        assert.ok(bob.ok);
        zk.set('/g', encodeState(bob.state), 1);
      }
      return 'default';
    };
    const r = await ann.play('guess', 38, 'ann');
    assert.ok(r.ok);
    assert.equal(r.attempts, 2);
    const s = zk.state('/g');
    assert.deepEqual(
      s.history.map((m) => [m.seq, m.player, m.value, m.outcome]),
      [
        [1, 'ann', 40, 'set'],
        [2, 'bob', 45, 'closer'],
        [3, 'ann', 38, 'farther'], // 7 from 45 is not closer than bob's 5: judged on the fresh state
      ],
    );
    assert.equal(zk.nodes.get('/g')!.version, 3);
  });

  test('a refused move writes nothing', async () => {
    const zk = new FakeZk();
    const store = new GameStore(zk, '/g', fast);
    const r = await store.play('guess', 3, 'ann');
    assert.deepEqual([r.ok, !r.ok && r.code], [false, 'no-target']);
    assert.equal(zk.sets, 0);
  });

  test('a lost reply to an applied write is found in the history, not applied again', async () => {
    const zk = new FakeZk();
    const store = new GameStore(zk, '/g', fast);
    zk.beforeSet = (_call, apply) => {
      zk.beforeSet = undefined;
      apply();
      throw new ConnectionLossError(ZkCode.CONNECTIONLOSS, 'CONNECTIONLOSS', 'setData', '/g');
    };
    const r = await store.play('write', 9, 'ann');
    assert.ok(r.ok);
    assert.equal(r.move.seq, 1);
    assert.equal(zk.state('/g').moves, 1);
    assert.equal(zk.nodes.get('/g')!.version, 1);
  });

  test('a lost write that was not applied is retried once', async () => {
    const zk = new FakeZk();
    const store = new GameStore(zk, '/g', fast);
    zk.beforeSet = () => {
      zk.beforeSet = undefined;
      throw new ConnectionLossError(ZkCode.CONNECTIONLOSS, 'CONNECTIONLOSS', 'setData', '/g');
    };
    const r = await store.play('write', 9, 'ann');
    assert.ok(r.ok);
    assert.equal(r.attempts, 2);
    assert.equal(zk.state('/g').moves, 1);
  });

  test('a lost write that lands late, after our retry read, still counts once', async () => {
    const zk = new FakeZk();
    const store = new GameStore(zk, '/g', fast);
    let late: (() => ZkStat) | undefined;
    zk.beforeSet = (call, apply) => {
      if (call === 1) {
        late = apply; // held back: not applied yet when we re-read
        throw new ConnectionLossError(ZkCode.CONNECTIONLOSS, 'CONNECTIONLOSS', 'setData', '/g');
      }
      late!(); // ... and applied just before the retry, which then conflicts
      zk.beforeSet = undefined;
      return 'default';
    };
    const r = await store.play('write', 9, 'ann');
    assert.ok(r.ok);
    assert.equal(r.move.seq, 1);
    assert.equal(zk.state('/g').moves, 1, 'applied exactly once');
    assert.equal(zk.sets, 2);
  });

  test('endless conflicts give up after the bounded attempts with nothing changed', async () => {
    const zk = new FakeZk();
    const store = new GameStore(zk, '/g', { ...fast, maxAttempts: 5 });
    await store.read();
    zk.beforeSet = () => {
      zk.set('/g', encodeState(initialState()), -1); // someone else always gets in first
      return 'default';
    };
    const r = await store.play('write', 1, 'ann');
    assert.deepEqual([r.ok, !r.ok && r.code, r.attempts], [false, 'contention', 5]);
    assert.equal(zk.state('/g').moves, 0);
  });

  test('foreign data in the game node is reported and never overwritten', async () => {
    const zk = new FakeZk();
    zk.nodes.set('/g', { data: Buffer.from('hello'), version: 3 });
    const store = new GameStore(zk, '/g', fast);
    await assert.rejects(store.play('write', 1, 'ann'), GameStateError);
    assert.equal(zk.sets, 0);
    assert.equal(zk.nodes.get('/g')!.data.toString(), 'hello');
  });
});
