import { InvalidArgumentError } from './errors.js';
import { validatePath } from './names.js';

export interface ParsedConnectString {
  readonly servers: ReadonlyArray<{ host: string; port: number }>;
  readonly chroot: string | undefined;
}

/**
 * Parses `host:port[,host:port...][/chroot]` strictly. The C client accepts some malformed
 * strings and then retries them forever; we refuse them up front with the reason.
 */
export function parseConnectString(connect: string): ParsedConnectString {
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`invalid connect string ${JSON.stringify(connect)}: ${why} (expected host:port[,host:port...][/chroot])`);
  };
  if (typeof connect !== 'string' || connect.trim() === '') bad('it is empty');
  const slash = connect.indexOf('/');
  const hosts = slash === -1 ? connect : connect.slice(0, slash);
  let chroot: string | undefined;
  if (slash !== -1) {
    const raw = connect.slice(slash);
    if (raw !== '/') {
      try {
        chroot = validatePath(raw);
      } catch (e) {
        bad(`bad chroot: ${(e as Error).message}`);
      }
    }
  }
  const servers = hosts.split(',').map((entry) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry.trim());
    if (!m) return bad(`server ${JSON.stringify(entry)} is not host:port`);
    const port = Number(m[2]);
    if (port < 1 || port > 65535) bad(`port ${port} is out of range 1-65535`);
    return { host: m[1]!, port };
  });
  return { servers, chroot };
}
