/**
 * The tests prove behaviour against real parts from Debian's packages (ZooKeeper, Chromium,
 * kazoo, openssl). A missing part fails its test file at once, never skips it, and the
 * message says how to install it (`bash .ci/run` installs them all).
 */
export function requirePart(present: boolean, what: string, install: string): void {
  if (!present) throw new Error(`${what} is missing: ${install} (or run bash .ci/run, which installs every part the tests use)`);
}
