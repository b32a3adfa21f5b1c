/** The number-guessing game's pure rules: parsing, transitions, encoding, and their invariants. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseConnectString } from '../../src/election/connect-string.js';
import {
  applyMove,
  decodeState,
  encodeState,
  GameStateError,
  HISTORY_LIMIT,
  initialState,
  parseCommand,
  parseGameNumber,
  validatePlayer,
  type GameState,
  type Intent,
  type Op,
} from '../../src/game/rules.js';

let ids = 0;
const intent = (op: Op, value: number, player = 'p'): Intent => ({ op, value, player, id: `m${++ids}` });

/** Applies moves that must all be accepted. */
function play(state: GameState, ...moves: Array<[Op, number, string?]>): GameState {
  for (const [op, value, player] of moves) {
    const r = applyMove(state, intent(op, value, player));
    assert.ok(r.ok, `${op} ${value} refused: ${r.ok ? '' : r.message}`);
    state = r.state;
  }
  return state;
}

describe('parseCommand', () => {
  test('accepts each command, case-insensitive, with surrounding blanks', () => {
    assert.deepEqual(parseCommand('write 42'), { ok: true, command: { name: 'write', value: 42 } });
    assert.deepEqual(parseCommand('  GUESS   0 '), { ok: true, command: { name: 'guess', value: 0 } });
    assert.deepEqual(parseCommand('guess 100'), { ok: true, command: { name: 'guess', value: 100 } });
    assert.deepEqual(parseCommand('guess 007'), { ok: true, command: { name: 'guess', value: 7 } });
    assert.deepEqual(parseCommand('read'), { ok: true, command: { name: 'read' } });
    assert.deepEqual(parseCommand('help'), { ok: true, command: { name: 'help' } });
    assert.deepEqual(parseCommand('?'), { ok: true, command: { name: 'help' } });
    assert.deepEqual(parseCommand('quit'), { ok: true, command: { name: 'quit' } });
    assert.deepEqual(parseCommand('exit'), { ok: true, command: { name: 'quit' } });
    assert.deepEqual(parseCommand('connect a:1,b:2', parseConnectString), { ok: true, command: { name: 'connect', connect: 'a:1,b:2' } });
  });

  test('refuses anything that is not a plain whole number from 0 to 100', () => {
    for (const bad of ['101', '-1', '-0', '+5', '4.0', '4.5', '1e1', '0x10', 'abc', '4x', '1000', 'NaN', 'Infinity', '٤٢']) {
      const r = parseCommand(`guess ${bad}`);
      assert.equal(r.ok, false, bad);
      assert.match(r.ok ? '' : r.error, /whole number from 0 to 100/, bad);
      assert.equal(parseGameNumber(bad), undefined, bad);
    }
  });

  test('wrong argument counts, unknown and empty commands say what is wrong', () => {
    const error = (line: string) => {
      const r = parseCommand(line, parseConnectString);
      assert.equal(r.ok, false, line);
      return r.ok ? '' : r.error;
    };
    assert.match(error('guess'), /guess takes one argument, got 0: usage guess <0-100>/);
    assert.match(error('write 1 2'), /write takes one argument, got 2/);
    assert.match(error('read now'), /read takes no arguments, got 1/);
    assert.match(error('quit please'), /quit takes no arguments/);
    assert.match(error('connect'), /connect takes one argument/);
    assert.match(error('connect nohost'), /invalid connect string "nohost"/);
    assert.match(error('connect a:99999'), /out of range/);
    assert.match(error('frobnicate 3'), /unknown command "frobnicate"; commands: connect, write, guess, read, help, quit/);
    assert.match(error('toString'), /unknown command/, 'no Object.prototype names');
    assert.match(error('   '), /empty command/);
  });
});

describe('applyMove', () => {
  test('write starts a round only when there is no target', () => {
    const s = play(initialState(), ['write', 42, 'ann']);
    assert.equal(s.target, 42);
    assert.equal(s.setBy, 'ann');
    assert.equal(s.round, 1);
    assert.equal(s.best, null);
    const again = applyMove(s, intent('write', 7, 'bob'));
    assert.equal(again.ok, false);
    assert.equal(again.ok ? '' : again.code, 'round-in-progress');
  });

  test('a guess with no target is refused', () => {
    const r = applyMove(initialState(), intent('guess', 5));
    assert.equal(r.ok ? '' : r.code, 'no-target');
  });

  test('the closest guess so far becomes the target; ties and worse guesses are farther', () => {
    let s = play(initialState(), ['write', 42]);
    let r = applyMove(s, intent('guess', 50)); // the round's first guess is always the closest so far
    assert.ok(r.ok);
    assert.deepEqual([r.move.outcome, r.move.distance, r.state.target, r.state.best], ['closer', 8, 50, 8]);
    s = r.state;
    r = applyMove(s, intent('guess', 58)); // 8 from 50: a tie keeps the earlier guess
    assert.ok(r.ok);
    assert.deepEqual([r.move.outcome, r.move.distance, r.state.target, r.state.best], ['farther', 8, 50, 8]);
    s = r.state;
    r = applyMove(s, intent('guess', 47, 'cat'));
    assert.ok(r.ok);
    assert.deepEqual([r.move.outcome, r.move.distance, r.state.target, r.state.setBy], ['closer', 3, 47, 'cat']);
    s = r.state;
    r = applyMove(s, intent('guess', 0));
    assert.ok(r.ok);
    assert.deepEqual([r.move.outcome, r.state.target], ['farther', 47]);
    assert.equal(r.state.moves, 5);
  });

  test('a hit wins, ends the round and lets the next write start another', () => {
    let s = play(initialState(), ['write', 10, 'ann'], ['guess', 12, 'bob']);
    const r = applyMove(s, intent('guess', 12, 'cat'));
    assert.ok(r.ok);
    assert.equal(r.move.outcome, 'won');
    assert.equal(r.move.distance, 0);
    assert.deepEqual([r.state.target, r.state.setBy, r.state.best], [null, null, null]);
    assert.deepEqual(r.state.lastWinner, { player: 'cat', value: 12, round: 1 });
    s = play(r.state, ['write', 99, 'bob']);
    assert.deepEqual([s.round, s.target, s.best], [2, 99, null]);
    // A hit on the written target itself wins too.
    const hit = applyMove(s, intent('guess', 99));
    assert.equal(hit.ok && hit.move.outcome, 'won');
  });

  test('refusals change nothing; moves are numbered and the history is bounded', () => {
    let s = play(initialState(), ['write', 50]);
    const before = encodeState(s);
    applyMove(s, intent('write', 1));
    assert.deepEqual(encodeState(s), before, 'inputs are never mutated');
    s = play(s, ['guess', 100]); // the target moves to 100, so every 0 after it is farther
    for (let i = 0; i < HISTORY_LIMIT + 19; i++) s = play(s, ['guess', 0]);
    assert.equal(s.moves, HISTORY_LIMIT + 21);
    assert.equal(s.history.length, HISTORY_LIMIT);
    assert.deepEqual(
      s.history.map((m) => m.seq),
      Array.from({ length: HISTORY_LIMIT }, (_, i) => 22 + i),
    );
  });

  test('values outside 0-100 are a programming error, not a move', () => {
    assert.throws(() => applyMove(initialState(), intent('write', 101)), RangeError);
    assert.throws(() => applyMove(initialState(), intent('write', 1.5)), RangeError);
  });

  test('invariants over random games', () => {
    const moveArb = fc.record({ op: fc.constantFrom<Op>('write', 'guess', 'guess', 'guess'), value: fc.integer({ min: 0, max: 100 }) });
    fc.assert(
      fc.property(fc.array(moveArb, { maxLength: 150 }), (moves) => {
        let s = initialState();
        let accepted = 0;
        for (const m of moves) {
          const r = applyMove(s, intent(m.op, m.value));
          if (!r.ok) {
            assert.equal(r.code, m.op === 'write' ? 'round-in-progress' : 'no-target');
            continue;
          }
          accepted++;
          const prev = s;
          s = r.state;
          assert.equal(r.move.seq, accepted);
          assert.equal(s.moves, accepted);
          assert.ok(s.history.length <= HISTORY_LIMIT);
          if (r.move.outcome === 'closer') assert.ok(prev.best === null || s.best! < prev.best, 'the distance to beat only shrinks');
          if (r.move.outcome === 'farther') assert.deepEqual([s.target, s.best], [prev.target, prev.best]);
          if (r.move.outcome === 'won') assert.deepEqual([s.target, s.best, s.setBy], [null, null, null]);
          else assert.notEqual(s.target, null);
          assert.deepEqual(decodeState(encodeState(s)), s);
        }
      }),
    );
  });
});

describe('encoding', () => {
  test('empty data is a fresh game; anything else must be game state', () => {
    assert.deepEqual(decodeState(Buffer.alloc(0)), initialState());
    const bad = ['not json', '[]', '42', '{}', JSON.stringify({ ...initialState(), format: 2 }), JSON.stringify({ ...initialState(), target: 101 }), JSON.stringify({ ...initialState(), history: [{ seq: 1 }] })];
    for (const text of bad) assert.throws(() => decodeState(Buffer.from(text)), GameStateError, text);
  });
});

test('player names', () => {
  assert.equal(validatePlayer('ann-1'), 'ann-1');
  assert.throws(() => validatePlayer(''), /empty/);
  assert.throws(() => validatePlayer('  '), /empty/);
  assert.throws(() => validatePlayer('a\nb'), /control/);
  assert.throws(() => validatePlayer('x'.repeat(41)), /at most 40/);
});
