/** Errors shaped like Node's fs errors, so storage code branching on `err.code` behaves as on a real disk. */

const MESSAGES: Record<string, string> = {
  EBADF: 'bad file descriptor',
  EBUSY: 'resource busy or locked',
  EEXIST: 'file already exists',
  EINVAL: 'invalid argument',
  EIO: 'i/o error',
  EISDIR: 'illegal operation on a directory',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space left on device',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  EPERM: 'operation not permitted',
};

// Linux errno values, negated as libuv reports them; only informative.
const ERRNO: Record<string, number> = {
  EBADF: -9,
  EBUSY: -16,
  EEXIST: -17,
  EINVAL: -22,
  EIO: -5,
  EISDIR: -21,
  ENOENT: -2,
  ENOSPC: -28,
  ENOTDIR: -20,
  ENOTEMPTY: -39,
  EPERM: -1,
};

export type SimErrno = NodeJS.ErrnoException & { code: string; syscall: string; dest?: string };

export function fsError(code: string, syscall: string, path?: string, dest?: string): SimErrno {
  const where = path === undefined ? '' : dest === undefined ? ` '${path}'` : ` '${path}' -> '${dest}'`;
  const message = `${code}: ${MESSAGES[code] ?? 'simulated failure'}, ${syscall}${where}`;
  const props: Partial<SimErrno> = { code, syscall, errno: ERRNO[code] ?? -5 };
  if (path !== undefined) props.path = path;
  if (dest !== undefined) props.dest = dest;
  return Object.assign(new Error(message), props) as SimErrno;
}
