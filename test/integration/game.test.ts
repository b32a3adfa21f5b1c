/**
 * The number-guessing game against real servers (Apache ZooKeeper standalone and zk-elect's
 * own): concurrent players lose no update and the committed state is exactly the rules
 * replayed over every accepted move; bad input changes nothing; the console works through a
 * real process's stdin and stdout.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { parseConnectString } from '../../src/election/connect-string.js';
import { ZkSession } from '../../src/election/session.js';
import { GameConsole, type Result } from '../../src/game/console.js';
import { applyMove, initialState, type GameState, type Move } from '../../src/game/rules.js';
import { GameStore, type Snapshot } from '../../src/game/store.js';
import { startZooKeeper, type ZkEnsemble } from '../support/apache-zookeeper.js';
import { CLI } from '../../src/launcher/cli-process.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { uniquePath } from '../support/zk.js';

const SERVERS = [
  { name: 'Apache ZooKeeper (standalone)', start: () => startZooKeeper({ nodes: 1 }) },
  { name: 'zk-elect server (standalone)', start: () => startZkElectServer({ nodes: 1 }) },
  { name: 'zk-elect 3-node cluster', start: () => startZkElectServer({ nodes: 3 }) },
];

const PLAYERS = 6;
const MOVES_EACH = 30;

/** A seeded PRNG so a failing run can be replayed with the seed it printed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The checker, outside the code under test: every accepted move holds exactly one seq from
 * 1 to N, N is the znode's version, the history is the last moves in seq order, and the
 * rules replayed over all moves give exactly the committed state.
 */
function assertNoLostUpdate(moves: Move[], final: Snapshot): void {
  const bySeq = [...moves].sort((a, b) => a.seq - b.seq);
  assert.deepEqual(
    bySeq.map((m) => m.seq),
    Array.from({ length: moves.length }, (_, i) => i + 1),
    'each accepted move got its own seq, with no gap',
  );
  assert.equal(new Set(moves.map((m) => m.id)).size, moves.length, 'move ids are unique');
  assert.equal(final.state.moves, moves.length, 'the state counts every accepted move');
  assert.equal(final.version, moves.length, 'one successful setData per accepted move');
  assert.deepEqual(final.state.history, bySeq.slice(-final.state.history.length), 'the history holds the last moves, each once, in order');
  let replayed: GameState = initialState();
  for (const m of bySeq) {
    const r = applyMove(replayed, { op: m.op, value: m.value, player: m.player, id: m.id });
    assert.ok(r.ok, `move ${m.seq} is refused on replay`);
    assert.deepEqual(r.move, m, `move ${m.seq} replays to the same outcome`);
    replayed = r.state;
  }
  assert.deepEqual(replayed, final.state, 'the committed state is the closest-guess rule replayed over every move');
}

/** A console process; `line()` returns its next stdout line. */
class ConsoleProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private buffered = '';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, 'game', ...args], { stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffered += chunk;
      const parts = this.buffered.split('\n');
      this.buffered = parts.pop()!;
      this.lines.push(...parts);
      this.wake?.();
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async line(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`no output line (exit ${this.child.exitCode}); stderr: ${this.stderr}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
    return this.lines.shift()!;
  }

  /** Sends one command and returns its (first) output line. */
  async send(command: string): Promise<string> {
    this.child.stdin.write(command + '\n');
    return this.line();
  }

  remaining(): string[] {
    return this.lines.splice(0);
  }
}

function runExec(connect: string, path: string, name: string, commands: string[]): Promise<{ code: number | null; results: Result[]; stderr: string }> {
  const proc = new ConsoleProcess(['--connect', connect, '--path', path, '--name', name, ...commands.flatMap((c) => ['--exec', c])]);
  proc.child.stdin.end();
  return proc.exited.then((code) => ({ code, stderr: proc.stderr, results: proc.remaining().filter((l) => l !== '').map((l) => parseLine(l, proc.stderr)) }));
}

function parseLine(line: string, stderr: string): Result {
  try {
    return JSON.parse(line) as Result;
  } catch {
    throw new Error(`not a JSON result: ${JSON.stringify(line)}; stderr: ${stderr}`);
  }
}

/** The Move a successful write/guess result stands for, rebuilt from its JSON fields. */
function moveOf(r: Result): Move {
  assert.ok(r.ok && (r.cmd === 'write' || r.cmd === 'guess'), JSON.stringify(r));
  const target = r.outcome === 'farther' ? r.target : r.outcome === 'won' ? null : r.value;
  return { seq: r.seq, id: r.id, player: r.player, op: r.cmd, value: r.value, outcome: r.outcome, distance: r.distance, target };
}

for (const server of SERVERS) {
  describe(`game against ${server.name}`, () => {
    let zk: ZkEnsemble;
    const sessions: ZkSession[] = [];
    const connect = async () => {
      const s = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 6000 });
      sessions.push(s);
      return s;
    };

    before(async () => {
      zk = await server.start();
    });
    after(async () => {
      for (const s of sessions) await s.close();
      await zk?.stop();
    });

    test(`${PLAYERS} sessions x ${MOVES_EACH} moves at once: no lost update, the rule replays`, async (t) => {
      const path = uniquePath('game');
      const seed = Date.now() >>> 0;
      t.diagnostic(`seed ${seed}`);
      const moves: Move[] = [];
      const refused: string[] = [];
      let attempts = 0;
      const player = async (n: number) => {
        const random = prng(seed + n);
        const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
        const store = new GameStore(await connect(), path);
        for (let i = 0; i < MOVES_EACH; i++) {
          // Decide on a read that may be stale by the time the move commits: that is the point.
          const { state } = await store.read();
          const r =
            state.target === null
              ? await store.play('write', int(0, 100), `p${n}`)
              : await store.play('guess', random() < 0.5 ? Math.min(100, Math.max(0, state.target + int(-3, 3))) : int(0, 100), `p${n}`);
          attempts += r.attempts;
          if (r.ok) moves.push(r.move);
          else refused.push(r.code);
        }
      };
      await Promise.all(Array.from({ length: PLAYERS }, (_, n) => player(n)));
      const final = await new GameStore(await connect(), path).read();
      t.diagnostic(`${moves.length} moves accepted, ${refused.length} refused, ${attempts} attempts, ${final.state.round} rounds`);
      assert.ok(refused.every((c) => c === 'round-in-progress' || c === 'no-target'), `only rule refusals: ${refused.join(',')}`);
      assert.equal(moves.length + refused.length, PLAYERS * MOVES_EACH);
      assert.ok(attempts > moves.length + refused.length, 'players did conflict (some setData got BADVERSION)');
      assertNoLostUpdate(moves, final);
    });

    test('three CLI processes running --exec scripts at once lose nothing either', async () => {
      const path = uniquePath('game-cli');
      const random = prng(7);
      const script = (n: number) =>
        Array.from({ length: 20 }, (_, i) => (i % 5 === 0 ? `write ${(n * 31 + i) % 101}` : `guess ${Math.floor(random() * 101)}`));
      const runs = await Promise.all([0, 1, 2].map((n) => runExec(zk.connectString, path, `cli${n}`, script(n))));
      const moves: Move[] = [];
      for (const run of runs) {
        assert.equal(run.results.length, 20, run.stderr);
        for (const r of run.results) {
          if (r.ok) moves.push(moveOf(r));
          else assert.ok(r.error === 'round-in-progress' || r.error === 'no-target', JSON.stringify(r));
        }
        assert.equal(run.code, run.results.every((r) => r.ok) ? 0 : 1, `exit 1 when a command was refused; stderr: ${run.stderr}`);
      }
      assertNoLostUpdate(moves, await new GameStore(await connect(), path).read());
    });

    test('bad input and refused moves change nothing', async () => {
      const path = uniquePath('game-bad');
      const session = await connect();
      const store = new GameStore(session, path);
      const conn = { connect: zk.connectString, sessionId: session.sessionId, store, close: async () => undefined };
      const game = new GameConsole('tester', async () => conn, parseConnectString, conn);
      const refused = await game.run('guess 5');
      assert.equal(!refused.ok && refused.error, 'no-target');
      const before = await store.read();
      assert.ok((await game.run(`connect ${zk.connectString}`)).ok);
      const write = await game.run('write 60');
      assert.ok(write.ok);
      const at = await store.read();
      for (const line of ['guess abc', 'guess 101', 'guess -1', 'guess 4.5', 'guess', 'guess 1 2', 'write 7', 'frobnicate', 'connect nohost', 'read extra']) {
        const r = await game.run(line);
        assert.equal(r.ok, false, line);
      }
      assert.deepEqual(await store.read(), at, 'nothing changed');
      assert.deepEqual([before.version, at.version], [0, 1]);

      const script = await runExec(zk.connectString, path, 'cli', ['guess 61', 'guess sixty']);
      assert.equal(script.code, 2, 'an unparsable --exec command is a usage error');
      assert.deepEqual(script.results, [], 'and nothing runs, not even the good command before it');
      assert.match(script.stderr, /--exec "guess sixty": guess needs a whole number from 0 to 100/);
      assert.deepEqual(await store.read(), at, 'nothing changed');
    });

    test('the console through a real process\'s stdin and stdout', async () => {
      const path = uniquePath('game-repl');
      const repl = new ConsoleProcess(['--connect', zk.connectString, '--path', path, '--name', 'repl']);
      try {
        assert.match(await repl.line(), /^connected to .* \(session 0x[0-9a-f]+\)$/);
        assert.match(await repl.send('read'), /: no target \(round 0 not started\); 0 moves/);
        assert.equal(await repl.send('write 42'), 'target set to 42: round 1 starts (move 1, version 1)');
        assert.equal(await repl.send('guess abc'), 'bad input: guess needs a whole number from 0 to 100, got "abc"');
        assert.equal(await repl.send('guess 40'), 'closer: 40 is 2 away, the closest so far; the target is now 40 (move 2, version 2)');
        assert.equal(await repl.send('guess 45'), 'farther: 45 is 5 away, not closer than 2; the target stays 40 (move 3, version 3)');
        assert.match(await repl.send('write 3'), /^refused: round 1 is in progress \(target 40, set by repl\)/);
        assert.match(await repl.send('dance'), /^bad input: unknown command "dance"/);
        assert.match(await repl.send(`connect ${zk.connectString}`), /^connected to /);
        assert.match(await repl.send('help'), /^ {2}connect <host:port/);
        for (let i = 0; i < 5; i++) await repl.line(); // the rest of help
        assert.equal(await repl.send('guess 40'), 'won: 40 hits the target; round 1 is over, write <0-100> starts the next (move 4, version 4)');
        assert.match(await repl.send('read'), /no target \(round 1 over\); 4 moves \(last 4 kept\), version 4; last winner repl with 40 in round 1$/);
        assert.equal(await repl.send('quit'), 'bye');
        assert.equal(await repl.exited, 0);
      } finally {
        repl.child.kill('SIGKILL');
      }

      // --json, and end of input instead of quit.
      const json = new ConsoleProcess(['--connect', zk.connectString, '--path', path, '--name', 'eof', '--json']);
      json.child.stdin.end('read\n');
      assert.equal(await json.exited, 0);
      const [connected, read] = json.remaining().filter((l) => l !== '').map((l) => parseLine(l, json.stderr));
      assert.equal(connected?.cmd, 'connect');
      assert.deepEqual(read, { cmd: 'read', ok: true, path, target: null, setBy: null, best: null, round: 1, moves: 4, kept: 4, lastWinner: { player: 'repl', value: 40, round: 1 }, version: 4 });
    });
  });
}
