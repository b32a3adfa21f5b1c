/**
 * The sequential specification the linearizability checker judges against: one znode used as a
 * register, with ZooKeeper's create / setData / delete / (sync+)getData semantics. It is written
 * from the ZooKeeper documentation, not from our server, so the checker stays independent of the
 * code under test.
 */

/** An operation a client issued on one znode. `expectedVersion` -1 means unconditional. */
export type RegisterOp =
  | { readonly type: 'create'; readonly value: string }
  | { readonly type: 'set'; readonly value: string; readonly expectedVersion: number }
  | { readonly type: 'delete'; readonly expectedVersion: number }
  | { readonly type: 'read' };

export type ZkErrorCode = 'NODEEXISTS' | 'BADVERSION' | 'NONODE';

/** What the server answered. Which variants fit which op is fixed by `RESULT_TYPES`. */
export type RegisterResult =
  /** create (the node now has version 0) or delete succeeded. */
  | { readonly type: 'ok' }
  /** set succeeded; `version` is the node's new version. */
  | { readonly type: 'written'; readonly version: number }
  /** read found the node. */
  | { readonly type: 'data'; readonly value: string; readonly version: number }
  | { readonly type: 'error'; readonly code: ZkErrorCode };

/** The register's state: absent, or present with data and version. Treated as immutable. */
export type RegisterState = null | { readonly value: string; readonly version: number };

/** One client operation in a history. No `result` means indeterminate (timeout, lost connection). */
export interface HistoryOp {
  id: number;
  client: string;
  key: string;
  op: RegisterOp;
  invokeMs: number;
  completeMs?: number;
  result?: RegisterResult;
}

/** Terse constructors, so simulators and tests build histories without object noise. */
export const Op = {
  create: (value: string): RegisterOp => ({ type: 'create', value }),
  set: (value: string, expectedVersion = -1): RegisterOp => ({ type: 'set', value, expectedVersion }),
  delete: (expectedVersion = -1): RegisterOp => ({ type: 'delete', expectedVersion }),
  read: (): RegisterOp => ({ type: 'read' }),
} as const;

export const Res = {
  ok: (): RegisterResult => ({ type: 'ok' }),
  written: (version: number): RegisterResult => ({ type: 'written', version }),
  data: (value: string, version: number): RegisterResult => ({ type: 'data', value, version }),
  err: (code: ZkErrorCode): RegisterResult => ({ type: 'error', code }),
} as const;

/** Result shapes each op can legally produce; anything else is a harness bug, not a server bug. */
const RESULT_TYPES: Record<RegisterOp['type'], ReadonlyArray<string>> = {
  create: ['ok', 'error:NODEEXISTS'],
  set: ['written', 'error:BADVERSION', 'error:NONODE'],
  delete: ['ok', 'error:BADVERSION', 'error:NONODE'],
  read: ['data', 'error:NONODE'],
};

export function resultFits(op: RegisterOp, r: RegisterResult): boolean {
  const tag = r.type === 'error' ? `error:${r.code}` : r.type;
  return RESULT_TYPES[op.type].includes(tag);
}

const versionMatches = (expected: number, s: { version: number }): boolean => expected === -1 || expected === s.version;

/**
 * Apply `op` to `s`. The model is deterministic, so an op's result is a function of the state it is
 * linearized at; an indeterminate op simply takes whatever this returns.
 * ZooKeeper checks existence before the version, so set/delete on an absent node is NONODE.
 */
export function step(s: RegisterState, op: RegisterOp): { result: RegisterResult; next: RegisterState } {
  switch (op.type) {
    case 'create':
      if (s !== null) return { result: Res.err('NODEEXISTS'), next: s };
      return { result: Res.ok(), next: { value: op.value, version: 0 } };
    case 'set':
      if (s === null) return { result: Res.err('NONODE'), next: s };
      if (!versionMatches(op.expectedVersion, s)) return { result: Res.err('BADVERSION'), next: s };
      return { result: Res.written(s.version + 1), next: { value: op.value, version: s.version + 1 } };
    case 'delete':
      if (s === null) return { result: Res.err('NONODE'), next: s };
      if (!versionMatches(op.expectedVersion, s)) return { result: Res.err('BADVERSION'), next: s };
      return { result: Res.ok(), next: null };
    case 'read':
      if (s === null) return { result: Res.err('NONODE'), next: s };
      return { result: Res.data(s.value, s.version), next: s };
  }
}

export function sameResult(a: RegisterResult, b: RegisterResult): boolean {
  switch (a.type) {
    case 'ok':
      return b.type === 'ok';
    case 'written':
      return b.type === 'written' && b.version === a.version;
    case 'data':
      return b.type === 'data' && b.value === a.value && b.version === a.version;
    case 'error':
      return b.type === 'error' && b.code === a.code;
  }
}

/**
 * True if the op can never change the state when it has this result: reads, and any failed op.
 * Removing such an op from a history cannot make a non-linearizable history linearizable, which is
 * what lets the explanation drop it soundly.
 */
export function preservesState(op: RegisterOp, r: RegisterResult | undefined): boolean {
  return op.type === 'read' || r?.type === 'error';
}

/** A string that identifies a state exactly (used in memo keys and to dedupe state sets). */
export function stateKey(s: RegisterState): string {
  return s === null ? '' : `${s.version}:${s.value}`;
}

// ---- formatting, for explanations ----

export function formatState(s: RegisterState): string {
  return s === null ? 'absent' : `${JSON.stringify(s.value)} ver ${s.version}`;
}

const ver = (v: number): string => (v === -1 ? 'ver any' : `ver ${v}`);

export function formatOp(key: string, op: RegisterOp): string {
  switch (op.type) {
    case 'create':
      return `create(${key}, ${JSON.stringify(op.value)})`;
    case 'set':
      return `set(${key}, ${JSON.stringify(op.value)}, ${ver(op.expectedVersion)})`;
    case 'delete':
      return `delete(${key}, ${ver(op.expectedVersion)})`;
    case 'read':
      return `read(${key})`;
  }
}

export function formatResult(r: RegisterResult | undefined): string {
  if (r === undefined) return '? (indeterminate)';
  switch (r.type) {
    case 'ok':
      return 'ok';
    case 'written':
      return `ok ver ${r.version}`;
    case 'data':
      return `${JSON.stringify(r.value)} ver ${r.version}`;
    case 'error':
      return r.code;
  }
}

/** `c3 set(k1, "v7", ver 4) -> ok ver 5   [1203..1240 ms] #17` */
export function formatHistoryOp(h: HistoryOp, resultText = formatResult(h.result)): string {
  const done = h.result === undefined ? '?' : String(h.completeMs);
  return `${h.client} ${formatOp(h.key, h.op)} -> ${resultText}   [${h.invokeMs}..${done} ms] #${h.id}`;
}
