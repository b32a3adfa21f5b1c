/**
 * What a console line does, independent of where lines come from (the REPL or --exec) and
 * of how results are shown: one `Result` per command, a plain JSON-able record.
 */
import { COMMAND_HELP, GameStateError, parseCommand, type Command, type GameState, type Outcome, type Winner } from './rules.js';
import type { GameStore } from './store.js';

export interface GameConnection {
  readonly connect: string;
  readonly sessionId: string;
  readonly store: GameStore;
  close(): Promise<void>;
}

/** Opens a session to `connect`; the console owns what it returns and closes it. */
export type Connector = (connect: string) => Promise<GameConnection>;

export type ErrorCode = 'bad-input' | 'round-in-progress' | 'no-target' | 'contention' | 'unknown-outcome' | 'not-connected' | 'connect-failed' | 'bad-state' | 'zookeeper';

export type Result =
  | {
      readonly cmd: 'write' | 'guess';
      readonly ok: true;
      readonly player: string;
      readonly value: number;
      readonly outcome: Outcome;
      readonly distance: number | null;
      readonly target: number | null;
      readonly best: number | null;
      readonly round: number;
      readonly seq: number;
      /** The move's id in the history, for scripts that match their moves to it. */
      readonly id: string;
      readonly version: number;
      readonly attempts: number;
    }
  | {
      readonly cmd: 'read';
      readonly ok: true;
      readonly path: string;
      readonly target: number | null;
      readonly setBy: string | null;
      readonly best: number | null;
      readonly round: number;
      readonly moves: number;
      readonly kept: number;
      readonly version: number;
      readonly lastWinner: Winner | null;
    }
  | { readonly cmd: 'connect'; readonly ok: true; readonly connect: string; readonly session: string }
  | { readonly cmd: 'help'; readonly ok: true; readonly commands: ReadonlyArray<readonly [string, string]> }
  | { readonly cmd: 'quit'; readonly ok: true }
  | { readonly cmd: string; readonly ok: false; readonly error: ErrorCode; readonly message: string };

export class GameConsole {
  private conn: GameConnection | undefined;

  constructor(
    private readonly player: string,
    private readonly connector: Connector,
    private readonly validateConnect: (connect: string) => void,
    initial?: GameConnection,
  ) {
    this.conn = initial;
  }

  get connection(): GameConnection | undefined {
    return this.conn;
  }

  parse(line: string) {
    return parseCommand(line, this.validateConnect);
  }

  /** Parses and runs one line; bad input is a result, never an exception. */
  async run(line: string): Promise<Result> {
    const parsed = this.parse(line);
    if (!parsed.ok) return { cmd: line.trim().split(/\s+/)[0]?.toLowerCase() ?? '', ok: false, error: 'bad-input', message: parsed.error };
    return this.execute(parsed.command);
  }

  async execute(command: Command): Promise<Result> {
    try {
      return await this.dispatch(command);
    } catch (e) {
      const error: ErrorCode = e instanceof GameStateError ? 'bad-state' : 'zookeeper';
      return { cmd: command.name, ok: false, error, message: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
  }

  private async dispatch(command: Command): Promise<Result> {
    switch (command.name) {
      case 'help':
        return { cmd: 'help', ok: true, commands: COMMAND_HELP };
      case 'quit':
        return { cmd: 'quit', ok: true };
      case 'connect':
        return this.reconnect(command.connect);
      case 'read': {
        const conn = this.conn;
        if (!conn) return notConnected('read');
        const { state, version } = await conn.store.read();
        return { cmd: 'read', ok: true, path: conn.store.path, ...summary(state), version };
      }
      case 'write':
      case 'guess': {
        const conn = this.conn;
        if (!conn) return notConnected(command.name);
        const r = await conn.store.play(command.name, command.value, this.player);
        if (!r.ok) return { cmd: command.name, ok: false, error: r.code, message: r.message };
        const { move, state } = r;
        return {
          cmd: command.name,
          ok: true,
          player: move.player,
          value: move.value,
          outcome: move.outcome,
          distance: move.distance,
          target: state.target,
          best: state.best,
          round: state.round,
          seq: move.seq,
          id: move.id,
          version: r.version,
          attempts: r.attempts,
        };
      }
    }
  }

  /** The old session stays in use until the new one is connected, so a typo loses nothing. */
  private async reconnect(connect: string): Promise<Result> {
    let next: GameConnection;
    try {
      next = await this.connector(connect);
    } catch (e) {
      return { cmd: 'connect', ok: false, error: 'connect-failed', message: `${(e as Error).message}; still using ${this.conn?.connect ?? 'no server'}` };
    }
    await this.close();
    this.conn = next;
    return { cmd: 'connect', ok: true, connect, session: next.sessionId };
  }
}

function notConnected(cmd: string): Result {
  return { cmd, ok: false, error: 'not-connected', message: 'not connected to ZooKeeper: use connect <host:port>' };
}

function summary(state: GameState) {
  return {
    target: state.target,
    setBy: state.setBy,
    best: state.best,
    round: state.round,
    moves: state.moves,
    kept: state.history.length,
    lastWinner: state.lastWinner,
  };
}
