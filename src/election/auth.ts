/**
 * Authenticating the election's session, and the ACLs its nodes then get.
 *
 * With `auth` (ZooKeeper's digest scheme, `digest:USER:PASSWORD`), the session is
 * authenticated (addAuth) before it does anything, and the election path and every candidate
 * node get an ACL that lets only that identity create, delete, write or administer them,
 * and anyone read them: `status` and `watch` keep working for everyone, while a session
 * without the credentials can neither join nor delete the leader's node (a delete needs
 * DELETE on the parent, the election path).
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

export interface DigestAuth {
  readonly scheme: 'digest';
  readonly user: string;
  readonly password: string;
}

/** One ACL entry as ZooKeeper stores it (perms: READ 1, WRITE 2, CREATE 4, DELETE 8, ADMIN 16). */
export interface AclEntry {
  readonly perms: number;
  readonly scheme: string;
  readonly id: string;
}

const PERM_READ = 1;
const PERM_ALL = 31;

/** Parses `digest:USER:PASSWORD` (the password may contain ':'). */
export function parseAuth(spec: string): DigestAuth {
  const m = /^([^:]*):([^:]*):(.*)$/s.exec(spec);
  if (!m || m[1] !== 'digest') throw new InvalidArgumentError(`auth must be digest:USER:PASSWORD, got ${JSON.stringify(spec.replace(/^([^:]*:[^:]*:).*$/s, '$1…'))}`);
  if (m[2] === '' || m[3] === '') throw new InvalidArgumentError('auth digest:USER:PASSWORD needs a user name and a password');
  return { scheme: 'digest', user: m[2]!, password: m[3]! };
}

/** The credentials addAuth sends for the digest scheme. */
export function authData(auth: DigestAuth): string {
  return `${auth.user}:${auth.password}`;
}

/** DigestAuthenticationProvider's id: `user:base64(sha1("user:password"))`. */
export function digestId(auth: DigestAuth): string {
  return `${auth.user}:${createHash('sha1').update(authData(auth), 'utf8').digest('base64')}`;
}

/** The ACL of the election path and of each candidate node. */
export function electionAcl(auth: DigestAuth): AclEntry[] {
  return [
    { perms: PERM_ALL, scheme: 'digest', id: digestId(auth) },
    { perms: PERM_READ, scheme: 'world', id: 'anyone' },
  ];
}

/** Shows who a session is without its password. */
export function describeAuth(auth: DigestAuth | undefined): string {
  return auth ? `digest user ${JSON.stringify(auth.user)}` : 'no credentials';
}
