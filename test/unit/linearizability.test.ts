/** The register linearizability checker, on hand-written and generated histories. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CheckResult, type HistoryOp, type RegisterOp, type RegisterResult, Op, Res, checkLinearizable } from '../sim/checkers/linearizability.js';
import { searchJit } from '../sim/checkers/jit.js';
import { clientHistory, corruptResult, windowedHistory } from '../sim/checkers/register-histories.js';
import { type RegisterState, sameResult, step } from '../sim/checkers/register-model.js';
import { type SearchOp, search } from '../sim/checkers/wgl.js';
import { Prng } from '../sim/prng.js';

/** Builds a history; `[t0, t1]` is invoke..complete, omitting `r` makes the op indeterminate. */
class H {
  readonly ops: HistoryOp[] = [];
  add(client: string, key: string, op: RegisterOp, [t0, t1]: [number, number?], r?: RegisterResult): HistoryOp {
    const h: HistoryOp = { id: this.ops.length + 1, client, key, op, invokeMs: t0 };
    if (r !== undefined) Object.assign(h, { completeMs: t1, result: r });
    this.ops.push(h);
    return h;
  }
}

const pass = (r: CheckResult): void => assert.deepEqual(r, { ok: true }, r.ok === true ? '' : r.explanation.join('\n'));
function fail(r: CheckResult, key = 'k'): Extract<CheckResult, { ok: false }> {
  assert.equal(r.ok, false, JSON.stringify(r));
  if (r.ok !== false) throw new Error('unreachable');
  assert.equal(r.key, key);
  return r;
}
const ids = (r: Extract<CheckResult, { ok: false }>): number[] => r.witness.map((w) => w.id).sort((a, b) => a - b);

describe('linearizable histories', () => {
  test('sequential create / set / read / delete with every result kind', () => {
    const h = new H();
    const k = 'k';
    h.add('c1', k, Op.read(), [0, 1], Res.err('NONODE'));
    h.add('c1', k, Op.set('x'), [2, 3], Res.err('NONODE'));
    h.add('c1', k, Op.create('a'), [4, 5], Res.ok());
    h.add('c2', k, Op.create('b'), [6, 7], Res.err('NODEEXISTS'));
    h.add('c2', k, Op.read(), [8, 9], Res.data('a', 0));
    h.add('c2', k, Op.set('b', 5), [10, 11], Res.err('BADVERSION'));
    h.add('c1', k, Op.set('b', 0), [12, 13], Res.written(1));
    h.add('c1', k, Op.set('c'), [14, 15], Res.written(2));
    h.add('c3', k, Op.delete(1), [16, 17], Res.err('BADVERSION'));
    h.add('c3', k, Op.read(), [18, 19], Res.data('c', 2));
    h.add('c3', k, Op.delete(2), [20, 21], Res.ok());
    h.add('c3', k, Op.delete(), [22, 23], Res.err('NONODE'));
    pass(checkLinearizable(h.ops));
  });

  test('overlapping ops may take effect in any order that fits', () => {
    const h = new H();
    h.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    h.add('c1', 'k', Op.set('b', 0), [20, 50], Res.written(1));
    h.add('c2', 'k', Op.read(), [25, 30], Res.data('a', 0)); // before the set took effect
    h.add('c3', 'k', Op.read(), [30, 60], Res.data('b', 1)); // after it
    h.add('c4', 'k', Op.set('c', 1), [40, 70], Res.written(2)); // must follow the first set
    h.add('c2', 'k', Op.read(), [45, 80], Res.data('c', 2));
    h.add('c5', 'k', Op.delete(2), [21, 90], Res.ok()); // long-running, lands last
    pass(checkLinearizable(h.ops));
  });

  test('ops sharing a timestamp are concurrent', () => {
    const h = new H();
    h.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    h.add('c1', 'k', Op.set('b'), [20, 30], Res.written(1));
    h.add('c2', 'k', Op.read(), [30, 40], Res.data('a', 0));
    pass(checkLinearizable(h.ops));
  });

  test('an indeterminate write may take effect (read later) or never (never read)', () => {
    const seen = new H();
    seen.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    seen.add('c1', 'k', Op.set('b'), [20]);
    seen.add('c2', 'k', Op.read(), [100, 110], Res.data('b', 1));
    pass(checkLinearizable(seen.ops));

    const never = new H();
    never.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    never.add('c1', 'k', Op.set('b'), [20]);
    never.add('c2', 'k', Op.read(), [100, 110], Res.data('a', 0));
    never.add('c2', 'k', Op.set('c', 0), [120, 130], Res.written(1));
    never.add('c3', 'k', Op.create('x'), [5]); // indeterminate and impossible in order: just never happened
    pass(checkLinearizable(never.ops));
  });

  test('delete / create cycles restart the version at 0', () => {
    const h = new H();
    for (let i = 0; i < 5; i++) {
      const t = i * 100;
      h.add('c1', 'k', Op.create(`a${i}`), [t, t + 5], Res.ok());
      h.add('c2', 'k', Op.set(`b${i}`, 0), [t + 10, t + 15], Res.written(1));
      h.add('c3', 'k', Op.read(), [t + 12, t + 30], Res.data(`b${i}`, 1));
      h.add('c1', 'k', Op.delete(1), [t + 40, t + 45], Res.ok());
      h.add('c2', 'k', Op.read(), [t + 50, t + 55], Res.err('NONODE'));
    }
    pass(checkLinearizable(h.ops));
  });
});

describe('violations', () => {
  test('stale read after an acknowledged write', () => {
    const h = new H();
    h.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    h.add('c1', 'k', Op.set('b'), [20, 30], Res.written(1));
    const r = h.add('c2', 'k', Op.read(), [40, 50], Res.data('a', 0));
    const f = fail(checkLinearizable(h.ops));
    // The earlier ops are folded into the state they force; the write is named as its source.
    assert.deepEqual(ids(f), [r.id]);
    const text = f.explanation.join('\n');
    assert.match(text, /state before \(forced by 2 earlier ops\): "b" ver 1 {3}\(last changed by: c1 set\(k, "b", ver any\) -> ok ver 1 {3}\[20\.\.30 ms\] #2\)/);
    assert.match(text, /c2 read\(k\) -> "a" ver 0 {3}\[40\.\.50 ms\] #3: here the register would answer "b" ver 1/);
  });

  test('lost update: two CAS with the same expected version both succeed', () => {
    const h = new H();
    h.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    const s1 = h.add('c1', 'k', Op.set('b', 0), [20, 40], Res.written(1));
    const s2 = h.add('c2', 'k', Op.set('c', 0), [25, 45], Res.written(1));
    const f = fail(checkLinearizable(h.ops));
    assert.deepEqual(ids(f), [s1.id, s2.id]);
    assert.match(f.explanation.join('\n'), /longest linearizable prefix \(1 of 2 ops, from "a" ver 0\)/);
  });

  test('an indeterminate write cannot explain a value nobody wrote', () => {
    const h = new H();
    h.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    h.add('c1', 'k', Op.set('b'), [20]);
    h.add('c2', 'k', Op.read(), [100, 110], Res.data('zzz', 1));
    fail(checkLinearizable(h.ops));
  });

  test('an indeterminate write, once observed, cannot be un-done', () => {
    const h = new H();
    h.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    h.add('c1', 'k', Op.set('b'), [20]);
    h.add('c2', 'k', Op.read(), [100, 110], Res.data('b', 1));
    h.add('c2', 'k', Op.read(), [120, 130], Res.data('a', 0));
    fail(checkLinearizable(h.ops));
  });

  test('real-time order: a read that could be explained if it overlapped the write', () => {
    const overlapping = new H();
    overlapping.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    overlapping.add('c1', 'k', Op.set('b'), [20, 30], Res.written(1));
    overlapping.add('c2', 'k', Op.read(), [29, 40], Res.data('a', 0));
    pass(checkLinearizable(overlapping.ops));
    const after = new H();
    after.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    after.add('c1', 'k', Op.set('b'), [20, 30], Res.written(1));
    after.add('c2', 'k', Op.read(), [31, 40], Res.data('a', 0));
    fail(checkLinearizable(after.ops));
  });

  test('delete / create cycles: a read of a deleted incarnation fails', () => {
    const h = new H();
    h.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    h.add('c1', 'k', Op.delete(0), [20, 30], Res.ok());
    h.add('c1', 'k', Op.create('b'), [40, 50], Res.ok());
    const r = h.add('c2', 'k', Op.read(), [60, 70], Res.data('a', 0));
    assert.deepEqual(ids(fail(checkLinearizable(h.ops))), [r.id]);
    const twice = new H();
    twice.add('c1', 'k', Op.create('a'), [0, 10], Res.ok());
    twice.add('c2', 'k', Op.create('b'), [20, 30], Res.ok());
    fail(checkLinearizable(twice.ops));
  });

  test('several keys: only the failing key is named', () => {
    const h = new H();
    for (const k of ['k1', 'k2', 'k3', 'k4']) {
      h.add('c1', k, Op.create('a'), [0, 10], Res.ok());
      h.add('c2', k, Op.set('b'), [20, 30], Res.written(1));
    }
    h.add('c3', 'k1', Op.read(), [40, 50], Res.data('b', 1));
    h.add('c3', 'k3', Op.read(), [40, 50], Res.data('a', 0));
    h.add('c3', 'k4', Op.read(), [40, 50], Res.data('b', 1));
    const f = fail(checkLinearizable(h.ops), 'k3');
    assert.ok(f.witness.every((w) => w.key === 'k3'));
  });

  test('explanation is minimal: noise before, around and after a stale read is shrunk away', () => {
    const h = new H();
    h.add('c1', 'k', Op.create('v0'), [0, 5], Res.ok());
    for (let i = 1; i <= 9; i++) {
      h.add('c1', 'k', Op.set(`v${i}`, i - 1), [10 * i, 10 * i + 5], Res.written(i));
      h.add('c2', 'k', Op.read(), [10 * i + 6, 10 * i + 8], Res.data(`v${i}`, i));
      h.add('c4', 'other', Op.create(`o${i}`), [10 * i, 10 * i + 1], Res.ok());
      h.add('c4', 'other', Op.delete(), [10 * i + 2, 10 * i + 3], Res.ok());
    }
    h.add('c5', 'k', Op.set('lost'), [12, 200]); // indeterminate, overlaps everything after it
    h.add('c2', 'k', Op.read(), [96, 130], Res.data('v9', 9));
    const stale = h.add('c3', 'k', Op.read(), [100, 120], Res.data('v8', 8));
    h.add('c1', 'k', Op.set('v10', 9), [130, 135], Res.written(10));
    h.add('c2', 'k', Op.read(), [140, 145], Res.data('v10', 10));
    const f = fail(checkLinearizable(h.ops));
    // The indeterminate set overlaps the read but can't explain "v8" ver 8 after "v9" ver 9 was
    // acknowledged, so it is only mentioned.
    assert.deepEqual(ids(f), [stale.id]);
    const text = f.explanation.join('\n');
    assert.match(text, /state before \(forced by 19 earlier ops\): "v9" ver 9 {3}\(last changed by: c1 set\(k, "v9", ver 8\)/);
    assert.match(text, /1 more indeterminate op not shown/);
  });
});

describe('bounds and input checks', () => {
  test("reports 'unknown' when the search exceeds maxStates", () => {
    const h = new H();
    // Indeterminate create/delete pairs let ten concurrent reads happen in any order, so
    // proving that the last read is impossible visits every subset of them.
    for (let i = 0; i < 10; i++) {
      h.add(`c${i}`, 'k', Op.create(`v${i}`), [0]);
      h.add(`c${i}`, 'k', Op.delete(), [0]);
      h.add(`r${i}`, 'k', Op.read(), [0, 100], Res.data(`v${i}`, 0));
    }
    h.add('c1', 'k', Op.read(), [200, 210], Res.data('nobody', 77));
    const r = checkLinearizable(h.ops, { maxStates: 50 });
    assert.equal(r.ok, 'unknown');
    assert.ok(r.ok === 'unknown' && r.key === 'k' && r.states > 50);
    assert.match(r.explanation.join('\n'), /no verdict after \d+ search states/);
    assert.equal(checkLinearizable(h.ops, { explain: false }).ok, false);
  });

  test('malformed ops throw', () => {
    const bad = (h: HistoryOp): void => assert.throws(() => checkLinearizable([h]), /malformed/);
    bad({ id: 1, client: 'c', key: 'k', op: Op.read(), invokeMs: 5, completeMs: 4, result: Res.err('NONODE') });
    bad({ id: 1, client: 'c', key: 'k', op: Op.create('a'), invokeMs: 5, completeMs: 6, result: Res.written(1) });
    bad({ id: 1, client: 'c', key: 'k', op: Op.read(), invokeMs: 5, result: Res.data('a', 0) });
  });
});

describe('generated histories', () => {
  test('random linearizable histories pass; one corrupted result makes them fail', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const rng = new Prng(seed);
      const ops = windowedHistory(rng, { ops: rng.int(10, 60), keys: ['a', 'b', 'c'].slice(0, rng.int(1, 3)), window: rng.int(0, 12), pIndet: 0.1 });
      pass(checkLinearizable(ops));
      // Corruptions no interleaving can explain: a value nobody wrote, or a version never reached.
      const victims = ops.filter((o) => o.result?.type === 'data' || o.result?.type === 'written');
      if (victims.length === 0) continue;
      const v = rng.pick(victims);
      const r = v.result!;
      const bad = r.type === 'data' ? Res.data('corrupt', r.version) : Res.written(r.type === 'written' ? r.version + 1000 : 0);
      const corrupted = ops.map((o) => (o === v ? { ...o, result: bad } : o));
      const f = fail(checkLinearizable(corrupted), v.key);
      assert.ok(f.witness.some((w) => w.id === v.id), `seed ${seed}: witness should include #${v.id}\n${f.explanation.join('\n')}`);
    }
  });

  test('both search engines agree with a brute-force oracle on small histories', () => {
    // The oracle tries every order with no memo and no reductions, so it checks those too.
    const oracle = (es: SearchOp[], used = new Set<number>(), s: RegisterState = null): boolean => {
      const open = es.map((_, i) => i).filter((i) => !used.has(i));
      if (open.every((i) => es[i]!.result === undefined)) return true;
      const limit = Math.min(...open.map((i) => es[i]!.complete));
      return open.some((i) => {
        const e = es[i]!;
        const { result, next } = step(s, e.op);
        if (e.invoke > limit || (e.result !== undefined && !sameResult(result, e.result))) return false;
        used.add(i);
        const ok = oracle(es, used, next);
        used.delete(i);
        return ok;
      });
    };
    let violations = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const rng = new Prng(seed);
      const ops = windowedHistory(rng, { ops: rng.int(2, 8), keys: ['k'], window: rng.int(0, 6), pIndet: 0.25, values: 3 });
      const v = rng.pick(ops);
      if (v.result !== undefined && rng.chance(0.5)) v.result = corruptResult(rng, v.op, v.result);
      const es = ops.map((h): SearchOp => ({ op: h.op, result: h.result, invoke: h.invokeMs, complete: h.result === undefined ? Infinity : h.completeMs! }));
      const expected = oracle(es) ? 'linearizable' : 'violation';
      if (expected === 'violation') violations++;
      assert.equal(search(es, null, { maxStates: 1e6 }).verdict, expected, `wgl, seed ${seed}`);
      assert.equal(searchJit(es, null, { maxStates: 1e6 }).verdict, expected, `jit, seed ${seed}`);
    }
    assert.ok(violations > 50, `only ${violations} violations: the corruption is too weak`);
  });

  test('a stale read amid ten concurrent clients and many timeouts is shrunk to a few lines', () => {
    const ops = clientHistory(new Prng(7), { ops: 600, clients: 10, keys: ['k'], pIndet: 0.1 });
    pass(checkLinearizable(ops));
    // A read made to return what an earlier read saw, though an acknowledged write came between:
    // values are unique, so that is a violation.
    const reads = ops.filter((o) => o.result?.type === 'data');
    const acked = ops.filter((o) => o.result?.type === 'written' || (o.result?.type === 'ok' && o.op.type !== 'read'));
    const between = (a: HistoryOp, b: HistoryOp): boolean => acked.some((w) => w.invokeMs > a.completeMs! && w.completeMs! < b.invokeMs);
    const r = reads.slice(reads.length / 2).find((x) => reads.some((o) => between(o, x)))!;
    const old = reads.find((o) => between(o, r))!;
    const t0 = performance.now();
    const f = fail(checkLinearizable(ops.map((o) => (o === r ? { ...o, result: old.result } : o))));
    assert.ok(performance.now() - t0 < 10_000);
    assert.ok(f.witness.some((w) => w.id === r.id));
    assert.ok(f.witness.length <= 6, f.explanation.join('\n'));
  });

  test('performance: 200 ops over 5 keys with heavy concurrency', () => {
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
    for (let seed = 1; seed <= 5; seed++) {
      const ops = windowedHistory(new Prng(1000 + seed), { ops: 200, keys, window: 40, pIndet: 0.05 });
      const t0 = performance.now();
      pass(checkLinearizable(ops));
      const ms = performance.now() - t0;
      assert.ok(ms < 500, `seed ${seed}: ${ms.toFixed(0)} ms`);
    }
  });
});
