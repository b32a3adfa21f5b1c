/**
 * The distributed number-guessing game, as pure rules: the state kept in one znode, how a
 * move changes it, its JSON encoding, and the parsing of console commands. No I/O here, so
 * every rule is unit-tested and replayable (a history replayed through `applyMove` must
 * reproduce the committed state).
 *
 * The rules, made precise from the seed projects' "the first client sets a target (0-100),
 * the others guess, the closest guess becomes the new target":
 * - `write n` starts a round with target n. It is refused while a round is in progress, so
 *   a late writer cannot wipe out the guesses already made against the current target.
 * - `guess g` is measured against the current target t: d = |g - t|.
 *   - d = 0: the guess wins. The round ends, the target is cleared and the next `write`
 *     starts a new round.
 *   - d smaller than every earlier guess's distance in this round ("the closest guess so
 *     far"): the guess becomes the new target and d the distance to beat. The first guess
 *     of a round is therefore always closer.
 *   - otherwise (ties included: the earlier guess keeps the target): farther; the target
 *     stays.
 *   Every guess against a target is a move, recorded in the history, so the history shows
 *   all accepted moves in commit order. Because the distance to beat only shrinks, a round
 *   has at most 100 closer moves.
 * - A `write` during a round and a `guess` with no target are refused and change nothing.
 */

export const TARGET_MIN = 0;
export const TARGET_MAX = 100;
/** Moves kept in the znode; older ones are dropped so the node stays far below jute.maxbuffer. */
export const HISTORY_LIMIT = 50;
export const PLAYER_MAX_CHARS = 40;
const FORMAT = 1;

export type Op = 'write' | 'guess';
export type Outcome = 'set' | 'won' | 'closer' | 'farther';

export interface Move {
  /** 1-based position among all accepted moves (the game's own counter, `moves` after it). */
  readonly seq: number;
  /** Unique per play: a retry after an unknown outcome looks for it to avoid applying twice. */
  readonly id: string;
  readonly player: string;
  readonly op: Op;
  readonly value: number;
  readonly outcome: Outcome;
  /** For guesses, |value - target before|; null for writes. */
  readonly distance: number | null;
  /** The target after the move (null after a win). */
  readonly target: number | null;
}

export interface Winner {
  readonly player: string;
  readonly value: number;
  readonly round: number;
}

export interface GameState {
  readonly format: typeof FORMAT;
  /** The committed target; null before the first write and after a win. */
  readonly target: number | null;
  /** The player whose move set the current target. */
  readonly setBy: string | null;
  /** The distance to beat in this round; null until the round's first guess. */
  readonly best: number | null;
  /** Rounds started so far (the current one, while a target is set). */
  readonly round: number;
  /** Moves accepted so far, over the game's whole life. */
  readonly moves: number;
  /** Who won the last finished round. */
  readonly lastWinner: Winner | null;
  /** The last HISTORY_LIMIT moves, oldest first. */
  readonly history: readonly Move[];
}

export interface Intent {
  readonly op: Op;
  readonly value: number;
  readonly player: string;
  readonly id: string;
}

export type RefusalCode = 'round-in-progress' | 'no-target';

export type Transition =
  | { readonly ok: true; readonly state: GameState; readonly move: Move }
  | { readonly ok: false; readonly code: RefusalCode; readonly message: string };

export function initialState(): GameState {
  return { format: FORMAT, target: null, setBy: null, best: null, round: 0, moves: 0, lastWinner: null, history: [] };
}

/** The whole game in one function: a move against a state gives the next state, or a refusal. */
export function applyMove(state: GameState, intent: Intent): Transition {
  assertValue(intent.value);
  const t = state.target;
  const seq = state.moves + 1;
  if (intent.op === 'write') {
    if (t !== null) {
      return { ok: false, code: 'round-in-progress', message: `round ${state.round} is in progress (target ${t}, set by ${state.setBy}): guess instead; write is allowed again once someone hits the target` };
    }
    const move: Move = { seq, id: intent.id, player: intent.player, op: 'write', value: intent.value, outcome: 'set', distance: null, target: intent.value };
    return { ok: true, move, state: { ...state, target: intent.value, setBy: intent.player, best: null, round: state.round + 1, moves: seq, history: appendBounded(state.history, move) } };
  }
  if (t === null) return { ok: false, code: 'no-target', message: 'there is no target yet: write <0-100> starts a round' };
  const distance = Math.abs(intent.value - t);
  const base = { seq, id: intent.id, player: intent.player, op: 'guess' as const, value: intent.value, distance };
  if (distance === 0) {
    const move: Move = { ...base, outcome: 'won', target: null };
    const lastWinner = { player: intent.player, value: intent.value, round: state.round };
    return { ok: true, move, state: { ...state, target: null, setBy: null, best: null, moves: seq, lastWinner, history: appendBounded(state.history, move) } };
  }
  if (state.best === null || distance < state.best) {
    const move: Move = { ...base, outcome: 'closer', target: intent.value };
    return { ok: true, move, state: { ...state, target: intent.value, setBy: intent.player, best: distance, moves: seq, history: appendBounded(state.history, move) } };
  }
  const move: Move = { ...base, outcome: 'farther', target: t };
  return { ok: true, move, state: { ...state, moves: seq, history: appendBounded(state.history, move) } };
}

function appendBounded(history: readonly Move[], move: Move): Move[] {
  const next = [...history, move];
  return next.length > HISTORY_LIMIT ? next.slice(next.length - HISTORY_LIMIT) : next;
}

function assertValue(value: number): void {
  if (!isTargetValue(value)) throw new RangeError(`a game number is a whole number from ${TARGET_MIN} to ${TARGET_MAX}, got ${value}`);
}

export function isTargetValue(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= TARGET_MIN && (v as number) <= TARGET_MAX;
}

/** Player names go into every move; printable, short, and not blank. */
export function validatePlayer(name: string): string {
  if (name.trim() === '') throw new RangeError('a player name must not be empty');
  if ([...name].length > PLAYER_MAX_CHARS) throw new RangeError(`a player name has at most ${PLAYER_MAX_CHARS} characters`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) throw new RangeError('a player name must not contain control characters');
  return name;
}

// ---- encoding ----------------------------------------------------------------------------

/** The znode holds something that is not this game's state; we never overwrite it. */
export class GameStateError extends Error {
  override name = 'GameStateError';
}

export function encodeState(state: GameState): Buffer {
  return Buffer.from(JSON.stringify(state), 'utf8');
}

/** Empty data counts as a fresh game (a node created empty by someone else is adopted). */
export function decodeState(data: Buffer): GameState {
  if (data.length === 0) return initialState();
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch {
    throw new GameStateError(`the znode holds ${data.length} bytes that are not JSON`);
  }
  const bad = (why: string): never => {
    throw new GameStateError(`the znode does not hold game state: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o.format !== FORMAT) bad(`format ${JSON.stringify(o.format)} (expected ${FORMAT})`);
  if (o.target !== null && !isTargetValue(o.target)) bad('target');
  if (o.best !== null && !isTargetValue(o.best)) bad('best');
  if (o.setBy !== null && typeof o.setBy !== 'string') bad('setBy');
  if (!isCount(o.round) || !isCount(o.moves)) bad('round/moves');
  if (o.lastWinner !== null && !isWinner(o.lastWinner)) bad('lastWinner');
  if (!Array.isArray(o.history) || o.history.length > HISTORY_LIMIT || !o.history.every(isMove)) bad('history');
  return {
    format: FORMAT,
    target: o.target as number | null,
    setBy: o.setBy as string | null,
    best: o.best as number | null,
    round: o.round as number,
    moves: o.moves as number,
    lastWinner: o.lastWinner as Winner | null,
    history: o.history as Move[],
  };
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isWinner(v: unknown): boolean {
  const w = v as Record<string, unknown>;
  return typeof v === 'object' && v !== null && typeof w.player === 'string' && isTargetValue(w.value) && isCount(w.round);
}

function isMove(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return (
    isCount(m.seq) &&
    typeof m.id === 'string' &&
    typeof m.player === 'string' &&
    (m.op === 'write' || m.op === 'guess') &&
    isTargetValue(m.value) &&
    (m.outcome === 'set' || m.outcome === 'won' || m.outcome === 'closer' || m.outcome === 'farther') &&
    (m.distance === null || isTargetValue(m.distance)) &&
    (m.target === null || isTargetValue(m.target))
  );
}

// ---- console commands --------------------------------------------------------------------

export type Command =
  | { readonly name: 'connect'; readonly connect: string }
  | { readonly name: 'write' | 'guess'; readonly value: number }
  | { readonly name: 'read' | 'help' | 'quit' };

export type Parsed = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: string };

/** One line per command, for `help` and for the usage text; parseCommand accepts exactly these. */
export const COMMAND_HELP: ReadonlyArray<readonly [usage: string, what: string]> = [
  ['connect <host:port[,host:port...]>', 'switch to another server or ensemble (the game path stays)'],
  ['write <0-100>', 'start a round with this target (refused while a round is in progress)'],
  ['guess <0-100>', 'guess: a hit wins the round; the closest guess so far becomes the target'],
  ['read', 'print the committed state'],
  ['help', 'print this list'],
  ['quit', 'leave (end of input does the same)'],
];

const ARITY: Record<Command['name'], 0 | 1> = { connect: 1, write: 1, guess: 1, read: 0, help: 0, quit: 0 };
const ALIASES: Record<string, Command['name']> = { exit: 'quit', '?': 'help' };

/**
 * Parses one console line. Numbers are plain decimal digits only: "4.0", "1e1", "0x10",
 * "+5" and "-1" are refused rather than silently coerced the way Number() would.
 * `validateConnect` checks a connect string (kept out of here so rules stay free of other modules).
 */
export function parseCommand(line: string, validateConnect: (s: string) => void = () => undefined): Parsed {
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  const first = words[0];
  if (first === undefined) return { ok: false, error: 'empty command; type help' };
  const word = first.toLowerCase();
  const name = ALIASES[word] ?? (Object.hasOwn(ARITY, word) ? (word as Command['name']) : undefined);
  if (name === undefined) return { ok: false, error: `unknown command ${JSON.stringify(first)}; commands: ${Object.keys(ARITY).join(', ')}` };
  const args = words.slice(1);
  const arity = ARITY[name];
  if (args.length !== arity) {
    const usage = COMMAND_HELP.find(([u]) => u.split(' ')[0] === name)?.[0] ?? name;
    return { ok: false, error: `${name} takes ${arity === 0 ? 'no arguments' : 'one argument'}, got ${args.length}: usage ${usage}` };
  }
  const arg = args[0] ?? '';
  switch (name) {
    case 'write':
    case 'guess': {
      const value = parseGameNumber(arg);
      return value === undefined
        ? { ok: false, error: `${name} needs a whole number from ${TARGET_MIN} to ${TARGET_MAX}, got ${JSON.stringify(arg)}` }
        : { ok: true, command: { name, value } };
    }
    case 'connect':
      try {
        validateConnect(arg);
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
      return { ok: true, command: { name, connect: arg } };
    default:
      return { ok: true, command: { name } };
  }
}

export function parseGameNumber(text: string): number | undefined {
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const n = Number(text);
  return isTargetValue(n) ? n : undefined;
}
