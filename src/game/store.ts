/**
 * The game's state in one znode, updated only by compare-and-swap: read the data and its
 * version, apply the rules, setData with that version. A concurrent writer makes ours fail
 * with BADVERSION, and we start again from a fresh read, so no update is ever lost.
 *
 * A write whose reply never came (connection loss, our own timeout, session expiry) may or
 * may not have been applied. If it was, it is the move numbered `moves + 1` of the state it
 * was computed from; so before trying again we look that number up in the history and stop
 * if it carries our move id. That keeps a retried move from being applied twice.
 *
 * Refusals (a write during a round, a guess without a target) are decided on the state we
 * read and write nothing. On an ensemble that read may come from a follower a moment
 * behind, so a refusal can be stale; an accepted move cannot, its write being conditional.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ConnectionLossError, OperationTimeoutError, SessionExpiredError, ZooKeeperError } from '../election/errors.js';
import { ZkCode, type CreateMode, type ZkStat } from '../election/zk-types.js';
import { applyMove, decodeState, encodeState, HISTORY_LIMIT, initialState, type GameState, type Move, type Op, type RefusalCode } from './rules.js';

/** The ZooKeeper operations the game needs; ZkSession provides them. */
export interface GameZk {
  create(path: string, data: Buffer, mode: CreateMode): Promise<string>;
  getData(path: string): Promise<{ data: Buffer; stat: ZkStat }>;
  setData(path: string, data: Buffer, version: number): Promise<ZkStat>;
}

export interface Snapshot {
  readonly state: GameState;
  /** The znode's data version: with a node the game created, equal to `state.moves`. */
  readonly version: number;
}

export type PlayResult =
  | { readonly ok: true; readonly move: Move; readonly state: GameState; readonly version: number; readonly attempts: number }
  | {
      readonly ok: false;
      /** A rule refused the move, or we could not get it committed (or tell whether it was). */
      readonly code: RefusalCode | 'contention' | 'unknown-outcome';
      readonly message: string;
      readonly attempts: number;
    };

export interface StoreOptions {
  /** Reads + conditional writes per move before giving up. Default 40. */
  maxAttempts?: number;
  /** Upper bound of the random pause between attempts after a conflict. Default 20 ms, doubling up to 8x. */
  conflictBackoffMs?: number;
  /** Pause after an unknown outcome (the client is reconnecting). Default 200 ms. */
  lossBackoffMs?: number;
  /** No new attempt starts after this long, so a dead server cannot hold a move for minutes. Default 30000. */
  giveUpAfterMs?: number;
  random?: () => number;
  newMoveId?: () => string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class GameStore {
  private readonly maxAttempts: number;
  private readonly conflictBackoffMs: number;
  private readonly lossBackoffMs: number;
  private readonly giveUpAfterMs: number;
  private readonly random: () => number;
  private readonly newMoveId: () => string;

  constructor(
    private readonly zk: GameZk,
    readonly path: string,
    options: StoreOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 40;
    this.conflictBackoffMs = options.conflictBackoffMs ?? 20;
    this.lossBackoffMs = options.lossBackoffMs ?? 200;
    this.giveUpAfterMs = options.giveUpAfterMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.newMoveId = options.newMoveId ?? (() => randomBytes(6).toString('base64url'));
  }

  /** The committed state; creates the game node (and its parents) on first use. */
  async read(): Promise<Snapshot> {
    // Creating it twice is plenty; a third NONODE means someone keeps deleting it.
    for (let i = 0; ; i++) {
      try {
        const { data, stat } = await this.zk.getData(this.path);
        return { state: decodeState(data), version: stat.version };
      } catch (e) {
        if (!hasCode(e, ZkCode.NONODE) || i === 2) throw e;
      }
      await this.createGameNode();
    }
  }

  async play(op: Op, value: number, player: string): Promise<PlayResult> {
    const id = this.newMoveId();
    // Seqs our unanswered writes would have got. A delayed one can still land later, so each
    // stays here until a read shows that seq taken (by us: done; by another move: dropped).
    const unconfirmed = new Set<number>();
    const startedMs = performance.now();
    let attempt = 0;
    while (attempt < this.maxAttempts && (attempt === 0 || performance.now() - startedMs < this.giveUpAfterMs)) {
      attempt += 1;
      let snap: Snapshot;
      try {
        snap = await this.read();
      } catch (e) {
        if (!isUnknownOutcome(e)) throw e;
        await sleep(this.lossBackoffMs);
        continue;
      }
      for (const seq of unconfirmed) {
        const verdict = findOwnMove(snap.state, seq, id);
        if (verdict === 'pending') continue;
        if (verdict === 'unknowable') {
          return { ok: false, code: 'unknown-outcome', message: `lost the reply to ${op} ${value} and more than ${HISTORY_LIMIT} moves have happened since: it may or may not have been applied`, attempts: attempt };
        }
        if (verdict) return { ok: true, move: verdict, state: snap.state, version: snap.version, attempts: attempt };
        unconfirmed.delete(seq);
      }
      const next = applyMove(snap.state, { op, value, player, id });
      if (!next.ok) return { ...next, attempts: attempt };
      try {
        const stat = await this.zk.setData(this.path, encodeState(next.state), snap.version);
        return { ok: true, move: next.move, state: next.state, version: stat.version, attempts: attempt };
      } catch (e) {
        if (hasCode(e, ZkCode.BADVERSION) || hasCode(e, ZkCode.NONODE)) {
          // Someone else committed first (or removed the node): start again from their state.
          await sleep(this.random() * this.conflictBackoffMs * 2 ** Math.min(attempt - 1, 3));
        } else if (isUnknownOutcome(e)) {
          unconfirmed.add(next.move.seq);
          await sleep(this.lossBackoffMs);
        } else {
          throw e;
        }
      }
    }
    return {
      ok: false,
      code: unconfirmed.size === 0 ? 'contention' : 'unknown-outcome',
      message: `gave up on ${op} ${value} after ${attempt} attempts in ${Math.round(performance.now() - startedMs)} ms (concurrent writers or no answer)${unconfirmed.size === 0 ? '; nothing was changed' : '; an unanswered attempt may still have been applied'}`,
      attempts: attempt,
    };
  }

  private async createGameNode(): Promise<void> {
    const parts = this.path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = '/' + parts.slice(0, i).join('/');
      const data = i === parts.length ? encodeState(initialState()) : Buffer.alloc(0);
      try {
        await this.zk.create(p, data, 'persistent');
      } catch (e) {
        if (!hasCode(e, ZkCode.NODEEXISTS)) throw e;
      }
    }
  }
}

/** Our move if the history shows it at `seq`; false if another move holds `seq`; 'unknowable' if `seq` left the history. */
function findOwnMove(state: GameState, seq: number, id: string): Move | false | 'pending' | 'unknowable' {
  if (state.moves < seq) return 'pending';
  const move = state.history.find((m) => m.seq === seq);
  if (!move) return 'unknowable';
  return move.id === id ? move : false;
}

function hasCode(e: unknown, code: number): boolean {
  return e instanceof ZooKeeperError && e.code === code;
}

/** Failures after which the request may or may not have been applied. */
function isUnknownOutcome(e: unknown): boolean {
  return e instanceof ConnectionLossError || e instanceof OperationTimeoutError || e instanceof SessionExpiredError;
}
