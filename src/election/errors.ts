/**
 * One error class per failure, each chaining the underlying `cause`, so callers
 * can branch with `instanceof` instead of parsing messages.
 */

/** Base class of every error this package throws. */
export class ZkElectError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A caller passed something that can never work (bad path, bad connect string, bad option). */
export class InvalidArgumentError extends ZkElectError {}

/** No server in the connect string answered within the bounded connect wait. */
export class ConnectTimeoutError extends ZkElectError {
  constructor(
    readonly connectString: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown; detail?: string | undefined },
  ) {
    super(`could not connect to ZooKeeper at ${connectString} within ${timeoutMs} ms${options?.detail ? ` (${options.detail})` : ''}`, options);
  }
}

/**
 * A ZooKeeper operation failed with a ZooKeeper return code (ZNONODE, ZNODEEXISTS, ...).
 * `code` is the numeric code from the wire/C client, `codeName` its symbolic name.
 */
export class ZooKeeperError extends ZkElectError {
  constructor(
    readonly code: number,
    readonly codeName: string,
    readonly operation: string,
    readonly path: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`${operation}${path === undefined ? '' : ` ${path}`} failed: ${codeName} (${code})`, options);
  }
}

/** The connection dropped while the request was in flight: the outcome is unknown. */
export class ConnectionLossError extends ZooKeeperError {}

/** The session is gone (expired on the server, or closed by us). */
export class SessionExpiredError extends ZooKeeperError {}

/** No reply arrived within our own per-operation bound: the outcome is unknown. */
export class OperationTimeoutError extends ZkElectError {
  constructor(
    readonly operation: string,
    readonly path: string | undefined,
    readonly timeoutMs: number,
  ) {
    super(`${operation}${path === undefined ? '' : ` ${path}`} got no reply within ${timeoutMs} ms`);
  }
}

/**
 * The election's ACL does not let this session do what it asked (join: CREATE on the election
 * path). Retrying cannot help: it needs other credentials (`auth`).
 */
export class NotAuthorizedError extends ZkElectError {}

/** The object was closed; no further operations are possible. */
export class ClosedError extends ZkElectError {}

/** `waitForLeadership` gave up: timeout or abort. */
export class LeadershipWaitError extends ZkElectError {}

/** Leadership ended while `runAsLeader`'s function was running. */
export class LeadershipLostError extends ZkElectError {}

/** A named handoff cannot start: we do not lead, or the target names several candidates. */
export class HandoffError extends ZkElectError {}

/**
 * A node we had just created was changed by another session before its ACL was in place
 * (the C binding creates every node world-open; see guard.ts). It was deleted; retrying is safe.
 */
export class TamperedNodeError extends ZkElectError {}
