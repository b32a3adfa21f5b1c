/**
 * ACL rules: PrepRequestProcessor.fixupACL, ZooKeeperServer.checkACL, and the default
 * authentication providers (DigestAuthenticationProvider, IPAuthenticationProvider).
 * Only `ip` and `digest` providers are registered, as in a stock 3.8 server.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, Perm } from '../../protocol/constants.js';
import { deref } from './java-null.js';
import type { ACL, Id, RequestACL, WatchTrigger } from './types.js';

export const ANYONE_ID_UNSAFE: Id = { scheme: 'world', id: 'anyone' };
export const AUTH_IDS: Id = { scheme: 'auth', id: '' };
export const OPEN_ACL_UNSAFE: readonly ACL[] = [{ perms: Perm.ALL, id: ANYONE_ID_UNSAFE }];
export const CREATOR_ALL_ACL: readonly ACL[] = [{ perms: Perm.ALL, id: AUTH_IDS }];
export const READ_ACL_UNSAFE: readonly ACL[] = [{ perms: Perm.READ, id: ANYONE_ID_UNSAFE }];

/** Java Integer.parseInt for ASCII input; null where Java throws NumberFormatException. */
export function javaParseInt(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : null;
}

/** Java String.split(regexLiteral) with limit 0 for a one-character literal separator. */
function javaSplit(s: string, sep: string): string[] {
  if (!s.includes(sep)) return [s];
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function splitOnce(s: string, sep: string): [string] | [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.substring(0, i), s.substring(i + 1)];
}

function v4addr2Bytes(addr: string): number[] | null {
  const parts = addr.split('.'); // split("\\.", -1) keeps trailing empties, as JS does
  if (parts.length !== 4) return null;
  const b: number[] = [];
  for (const p of parts) {
    const v = javaParseInt(p);
    if (v === null || v < 0 || v > 255) return null;
    b.push(v);
  }
  return b;
}

function mask(b: number[], bits: number): void {
  let start = Math.trunc(bits / 8);
  let startMask = ~((1 << (8 - (bits % 8))) - 1);
  while (start < b.length) {
    b[start] = (b[start] as number) & startMask & 0xff;
    startMask = 0;
    start++;
  }
}

/** IPAuthenticationProvider.isValid: "a.b.c.d" or "a.b.c.d/bits" (IPv4 only in 3.8). */
export function isValidIpAcl(id: string): boolean {
  const parts = splitOnce(id, '/');
  const addr = v4addr2Bytes(parts[0]);
  if (addr === null) return false;
  if (parts.length === 2) {
    const bits = javaParseInt(parts[1]);
    if (bits === null || bits < 0 || bits > 32) return false;
  }
  return true;
}

/** IPAuthenticationProvider.matches(clientAddr, aclExpr). */
export function ipMatches(id: string, aclExpr: string): boolean {
  const parts = splitOnce(aclExpr, '/');
  const aclAddr = v4addr2Bytes(parts[0]);
  if (aclAddr === null) return false;
  let bits = 32;
  if (parts.length === 2) {
    const b = javaParseInt(parts[1]);
    if (b === null || b < 0 || b > 32) return false;
    bits = b;
  }
  mask(aclAddr, bits);
  const remote = v4addr2Bytes(id);
  if (remote === null) return false;
  mask(remote, bits);
  return remote.every((v, i) => v === aclAddr[i]);
}

/** DigestAuthenticationProvider.isValid: exactly one ':' separating two parts. */
export function isValidDigestAcl(id: string): boolean {
  return javaSplit(id, ':').length === 2;
}

export const DigestAuth = {
  /** "user:password" → "user:" + base64(sha1("user:password")). */
  generateDigest(idPassword: string): string {
    const user = splitOnce(idPassword, ':')[0];
    const sha = createHash('sha1').update(Buffer.from(idPassword, 'utf8')).digest();
    return `${user}:${sha.toString('base64')}`;
  },
};

/** Which optional providers the server registered (ZooKeeper's authProvider.N). */
export interface AclProviders {
  /** SASLAuthenticationProvider: the `sasl` scheme, registered when the server has SASL users. */
  sasl?: boolean;
}

/** Providers whose ids "auth" ACLs may expand to (ServerAuthenticationProvider.isAuthenticated). */
function isAuthenticatedScheme(scheme: string, providers: AclProviders): boolean {
  return scheme === 'digest' || (scheme === 'sasl' && providers.sasl === true);
}

/**
 * The generated ACL.equals(peer) as ArrayList.contains calls it on the NEW entry: perms first,
 * then Id.equals, which calls scheme.equals and id.equals on the new entry's own fields, so
 * a null there is a NullPointerException once the comparison gets that far.
 */
function javaAclEquals(a: RequestACL, peer: RequestACL): boolean {
  if (a.perms !== peer.perms) return false;
  if (deref(a.id.scheme, 'Id.equals (scheme)') !== peer.id.scheme) return false;
  return deref(a.id.id, 'Id.equals (id)') === peer.id.id;
}

/** SASLAuthenticationProvider.isValid: a KerberosName parses ("a", "a@R", "a/h@R"; no '@' without the full form). */
export function isValidSaslAcl(id: string): boolean {
  return /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id) || !id.includes('@');
}

/**
 * PrepRequestProcessor.fixupACL: removes duplicates, rejects an empty or malformed list, and
 * expands `auth` entries into the requester's authenticated ids (digest; sasl when registered).
 * Returns the ACL to store, or null for INVALIDACL. Null strings from the wire are handled
 * where Java handles them: a null scheme is INVALIDACL, an `auth` entry's id is never read,
 * and where Java dereferences a null (dedup, world's id, a provider's isValid) this throws
 * JavaNullPointer, which ZooKeeper answers MARSHALLINGERROR.
 */
export function fixupACL(authIds: readonly Id[], acls: readonly RequestACL[] | null | undefined, providers: AclProviders = {}): ACL[] | null {
  const uniq: RequestACL[] = [];
  for (const a of acls ?? []) if (!uniq.some((u) => javaAclEquals(a, u))) uniq.push(a);
  if (uniq.length === 0) return null;
  const rv: ACL[] = [];
  for (const a of uniq) {
    const { scheme, id } = a.id;
    if (scheme === null) return null;
    if (scheme === 'world' && deref(id, 'fixupACL (world id)') === 'anyone') {
      rv.push({ perms: a.perms, id: { scheme, id: 'anyone' } });
    } else if (scheme === 'auth') {
      let valid = false;
      for (const cid of authIds) {
        if (isAuthenticatedScheme(cid.scheme, providers)) {
          valid = true;
          rv.push({ perms: a.perms, id: { scheme: cid.scheme, id: cid.id } });
        }
      }
      if (!valid) return null;
    } else if (scheme === 'digest') {
      if (!isValidDigestAcl(deref(id, 'DigestAuthenticationProvider.isValid'))) return null;
      rv.push({ perms: a.perms, id: { scheme, id: id as string } });
    } else if (scheme === 'ip') {
      if (!isValidIpAcl(deref(id, 'IPAuthenticationProvider.isValid'))) return null;
      rv.push({ perms: a.perms, id: { scheme, id: id as string } });
    } else if (scheme === 'sasl' && providers.sasl === true) {
      if (!isValidSaslAcl(deref(id, 'SASLAuthenticationProvider.isValid'))) return null;
      rv.push({ perms: a.perms, id: { scheme, id: id as string } });
    } else {
      return null; // no provider registered for this scheme (world:<other>, super, x509, sasl without SASL users…)
    }
  }
  return rv;
}

/** ZooKeeperServer.checkACL without the exception: true when `perm` is granted. */
export function checkACL(acl: readonly ACL[] | null, perm: number, authIds: readonly Id[]): boolean {
  if (acl === null || acl.length === 0) return true;
  if (authIds.some((a) => a.scheme === 'super')) return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    const id = a.id;
    if (id.scheme === 'world' && id.id === 'anyone') return true;
    if (id.scheme === 'digest') {
      if (authIds.some((x) => x.scheme === 'digest' && x.id === id.id)) return true;
    } else if (id.scheme === 'ip') {
      if (authIds.some((x) => x.scheme === 'ip' && ipMatches(x.id, id.id))) return true;
    } else if (id.scheme === 'sasl') {
      // SASLAuthenticationProvider.matches: the authorized id itself, or the user "super".
      if (authIds.some((x) => x.scheme === 'sasl' && (x.id === id.id || x.id === 'super'))) return true;
    }
  }
  return false;
}

/** Whether a trigger's event may be sent to a connection with these auth ids (READ on the znode). */
export function mayDeliver(trigger: WatchTrigger, authIds: readonly Id[]): boolean {
  return checkACL(trigger.acl, Perm.READ, authIds);
}

export type AuthResult = { ok: true; ids: Id[] } | { ok: false; err: number };

/**
 * ZooKeeperServer.processAuth with the default providers. `digest` always succeeds (with a
 * `super:` id first when the digest equals the configured superDigest, e.g.
 * "super:D/InIHSb7yEEbrWz8b9l71RjZJU="); `ip` yields the client's address; anything else is
 * AUTHFAILED (after which ZooKeeper closes the connection).
 */
export function authenticate(scheme: string | null, auth: Buffer | null, clientIp: string, superDigest?: string): AuthResult {
  if (scheme === 'digest') {
    // DigestAuthenticationProvider does new String(authData): a null auth throws, which
    // processPacket answers AUTHFAILED. A null scheme finds no provider: AUTHFAILED too.
    if (auth === null) return { ok: false, err: ErrorCode.AUTHFAILED };
    const digest = DigestAuth.generateDigest(auth.toString('utf8'));
    const ids: Id[] = [];
    if (superDigest !== undefined && digest === superDigest) ids.push({ scheme: 'super', id: '' });
    ids.push({ scheme: 'digest', id: digest });
    return { ok: true, ids };
  }
  if (scheme === 'ip') return { ok: true, ids: [{ scheme: 'ip', id: clientIp }] };
  return { ok: false, err: ErrorCode.AUTHFAILED };
}

/** ServerCnxn.addAuthInfo: appends ids not already present (Id equality). */
export function addAuthIds(current: readonly Id[], added: readonly Id[]): Id[] {
  const out = [...current];
  for (const id of added) if (!out.some((x) => x.scheme === id.scheme && x.id === id.id)) out.push(id);
  return out;
}

/** getACL without ADMIN permission masks digest ids: `id.replaceAll(":.*", ":x")`. */
export function maskDigestAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((a) =>
    a.id.scheme === 'digest'
      ? { perms: a.perms, id: { scheme: a.id.scheme, id: a.id.id.replace(/:[^\n\r\u0085\u2028\u2029]*/g, ':x') } }
      : a,
  );
}
