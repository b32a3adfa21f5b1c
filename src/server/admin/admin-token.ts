/**
 * The admin token: a random secret that every request changing state must present (kill,
 * pause, resume, restart of nodes, stat resets), on a node's admin server and on a local
 * cluster launcher's control endpoint. It lives in a file only its owner can read (mode 0600):
 * `<dataDir>/admin-token` for a standalone server, one file per local cluster, named by the
 * cluster file (`adminTokenFile`), so that its nodes, its launcher and `zk-elect cluster
 * kill-leader` share it. A file that others can read is refused, as ssh refuses such keys.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin-token';
/** HTTP header schemes accepted: `Authorization: Bearer <token>`. */
export const TOKEN_SCHEME = 'Bearer';

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{32,256}$/;

export class AdminTokenError extends Error {
  override name = 'AdminTokenError';
}

/** Reads the token in `file`, refusing a file that others can read or that holds no token. */
export function readAdminToken(file: string): string {
  let st: fs.Stats;
  let text: string;
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new AdminTokenError(`cannot read the admin token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new AdminTokenError(`the admin token file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it, or delete it to have a new one made`);
  }
  const token = text.trim();
  if (!TOKEN_FORMAT.test(token)) throw new AdminTokenError(`the admin token file ${file} does not hold a token (32-256 characters of A-Z a-z 0-9 _ -): delete it to have a new one made`);
  return token;
}

/** The token in `file`, made (256 random bits, mode 0600) if the file does not exist yet. */
export function loadOrCreateAdminToken(file: string): { token: string; created: boolean } {
  if (fs.existsSync(file)) return { token: readAdminToken(file), created: false };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const token = randomBytes(32).toString('base64url');
  let fd: number;
  try {
    // O_EXCL: of two processes making it at once, one writes and the other reads its token.
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { token: readAdminToken(file), created: false };
    throw new AdminTokenError(`cannot create the admin token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    fs.writeSync(fd, `${token}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { token, created: true };
}

/** The token a request presents (`Authorization: Bearer <token>`), if any. */
export function presentedToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1];
}

/** Constant-time comparison (of digests, so the lengths never leak either). */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}

export type TokenCheck = { ok: true } | { ok: false; status: 401 | 403; error: string };

/** 401 without a token, 403 with a wrong one. */
export function checkToken(expected: string, authorization: string | undefined, what: string): TokenCheck {
  const presented = presentedToken(authorization);
  if (presented === undefined) {
    return { ok: false, status: 401, error: `${what} changes state and needs the admin token: send "Authorization: Bearer <token>" (the token is printed at start and kept in the admin-token file)` };
  }
  if (!tokenMatches(expected, presented)) return { ok: false, status: 403, error: `${what}: wrong admin token` };
  return { ok: true };
}
