/** A byte string that is not a valid quorum message (truncated, unknown type, out-of-range field). */
export class ZabCodecError extends Error {
  override readonly name = 'ZabCodecError';
  constructor(message: string) {
    super(message);
  }
}

/**
 * A broken protocol invariant inside the core: a bug, or a driver that broke the contract (e.g.
 * reordered actions). Never caused by network input alone; the core drops bad messages instead.
 */
export class ZabInvariantError extends Error {
  override readonly name = 'ZabInvariantError';
  constructor(message: string) {
    super(message);
  }
}

export function invariant(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new ZabInvariantError(typeof message === 'string' ? message : message());
}
