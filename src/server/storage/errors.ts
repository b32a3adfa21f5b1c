/**
 * Errors of the durability layer. Every error that concerns bytes on disk carries the file
 * and the byte offset, so an operator can look at exactly the spot (e.g. with `xxd -s`).
 */

/** A log segment is damaged somewhere other than a torn tail: the log refuses to open. */
export class CorruptLogError extends Error {
  override name = 'CorruptLogError';
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`corrupt transaction log ${file} at offset ${offset}: ${reason}`);
  }
}

/** A write or fsync of the log failed; the log accepts nothing more (it cannot prove durability). */
export class LogPoisonedError extends Error {
  override name = 'LogPoisonedError';
  constructor(
    readonly file: string,
    readonly offset: number,
    override readonly cause: unknown,
  ) {
    super(`transaction log ${file} failed at offset ${offset} (${describe(cause)}); the log refuses further writes, restart to recover`);
  }
}

/** The records asked for are not in the log (purged, or never written): the caller needs a snapshot. */
export class LogRangeError extends Error {
  override name = 'LogRangeError';
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(`transaction log ${dir}: ${message}`);
  }
}

export class CorruptSnapshotError extends Error {
  override name = 'CorruptSnapshotError';
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`invalid snapshot ${file} at offset ${offset}: ${reason}`);
  }
}

export class CorruptEpochError extends Error {
  override name = 'CorruptEpochError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`corrupt epoch file ${file}: ${reason}`);
  }
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  constructor(
    readonly file: string,
    readonly pid: number,
    reason: string,
  ) {
    super(`data directory is locked: ${file} is held by pid ${pid} (${reason})`);
  }
}

/** Snapshot and log together cannot reproduce the durable state: refuse rather than lose data. */
export class RecoveryError extends Error {
  override name = 'RecoveryError';
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`cannot recover ${dir}: ${reason}`);
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ? `${(err as NodeJS.ErrnoException).code}: ${err.message}` : err.message;
  return String(err);
}
