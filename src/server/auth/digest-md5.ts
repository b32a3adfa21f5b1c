/**
 * The server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper 3.8 runs it: Java's DigestMD5Server
 * created with protocol "zookeeper" and server name "zk-sasl-md5", offering qop "auth" only
 * (authentication, no integrity or privacy layer), users and passwords from the server's list
 * (ZooKeeper's JAAS `user_<name>="<password>"` options). Pure: the nonce comes in from the
 * caller, no I/O, no clock.
 *
 * The exchange: the client's first token (empty) is answered with a challenge; its second
 * token is the digest-response, answered with `rspauth=...` (the server proving it knows the
 * password too) when it checks out. Anything else, a token after the exchange included, is a
 * failure, which ZooKeeper answers AUTHFAILED and closes the connection.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** ZooKeeper's fixed values (SecurityUtils.createSaslServer; kazoo uses the same host name). */
export const DIGEST_MD5_REALM = 'zk-sasl-md5';
export const DIGEST_MD5_URI = 'zookeeper/zk-sasl-md5';
/** A digest-response is a few hundred bytes; anything far larger is not one. */
const MAX_RESPONSE_BYTES = 4096;

export type SaslStep =
  | { kind: 'challenge'; token: Buffer }
  | { kind: 'success'; token: Buffer; authorizationId: string }
  | { kind: 'failure'; reason: string };

const md5 = (...parts: Buffer[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};
const hex = (b: Buffer): string => b.toString('hex');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * RFC 2831 2.1.2.1: with charset=utf-8, user name, realm and password are hashed as ISO 8859-1
 * when every character fits in it, and as UTF-8 otherwise (Java's stringToByte_8859_1).
 */
function credentialBytes(s: string): Buffer {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8');
  return Buffer.from(s, 'latin1');
}

/**
 * Parses `key=value, key="quoted \"value\"", ...` (RFC 2831's #rule of directives). Keys are
 * case-insensitive; returns undefined for anything malformed or for a repeated directive.
 */
export function parseDirectives(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const skipSpace = () => {
    while (i < n && /[ \t\r\n]/.test(text[i]!)) i++;
  };
  while (i < n) {
    skipSpace();
    if (i < n && text[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const keyStart = i;
    while (i < n && /[A-Za-z0-9_-]/.test(text[i]!)) i++;
    const key = text.slice(keyStart, i).toLowerCase();
    skipSpace();
    if (key === '' || text[i] !== '=') return undefined;
    i++;
    skipSpace();
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return undefined; // unterminated quote
        const c = text[i++]!;
        if (c === '"') break;
        if (c === '\\') {
          if (i >= n) return undefined;
          value += text[i++]!;
        } else {
          value += c;
        }
      }
    } else {
      const start = i;
      while (i < n && text[i] !== ',' && !/[ \t\r\n]/.test(text[i]!)) i++;
      value = text.slice(start, i);
    }
    if (out.has(key)) return undefined;
    out.set(key, value);
    skipSpace();
    if (i < n && text[i] !== ',') return undefined;
  }
  return out;
}

/** One connection's DIGEST-MD5 exchange. */
export class DigestMd5Server {
  private state: 'start' | 'challenged' | 'done' = 'start';

  constructor(
    private readonly users: ReadonlyMap<string, string>,
    /** Fresh and unguessable per exchange (the caller draws it from a CSPRNG). */
    private readonly nonce: string,
    /** ZooKeeper's realm and digest-uri unless a test needs RFC 2831's own example. */
    private readonly realm = DIGEST_MD5_REALM,
    private readonly digestUri = DIGEST_MD5_URI,
  ) {
    // Plain characters only: the nonce goes into a quoted string unescaped.
    if (!/^[A-Za-z0-9+/=._-]{8,}$/.test(nonce)) throw new Error('DIGEST-MD5 nonce must be at least 8 plain characters');
  }

  get complete(): boolean {
    return this.state === 'done';
  }

  evaluate(token: Buffer): SaslStep {
    if (this.state === 'done') return this.fail('the exchange is already complete');
    if (this.state === 'start') {
      // Whatever the first token holds (clients send an empty one), Java's DigestMD5Server
      // answers it with the challenge. qop is left out: "auth" alone is the default.
      this.state = 'challenged';
      const challenge = `realm="${this.realm}",nonce="${this.nonce}",charset=utf-8,algorithm=md5-sess`;
      return { kind: 'challenge', token: Buffer.from(challenge, 'utf8') };
    }
    return this.check(token);
  }

  private fail(reason: string): SaslStep {
    this.state = 'done';
    return { kind: 'failure', reason };
  }

  private check(token: Buffer): SaslStep {
    if (token.length > MAX_RESPONSE_BYTES) return this.fail('digest-response too large');
    const d = parseDirectives(token.toString('utf8'));
    if (!d) return this.fail('malformed digest-response');
    const username = d.get('username');
    const realm = d.get('realm') ?? '';
    const cnonce = d.get('cnonce');
    const nc = d.get('nc');
    const qop = d.get('qop') ?? 'auth';
    const uri = d.get('digest-uri');
    const response = d.get('response');
    if (username === undefined || cnonce === undefined || nc === undefined || uri === undefined || response === undefined) {
      return this.fail('digest-response lacks a required directive');
    }
    if (d.get('nonce') !== this.nonce) return this.fail('nonce mismatch');
    if (nc !== '00000001') return this.fail('nonce count must be 1');
    if (qop !== 'auth') return this.fail(`qop ${qop} was not offered`);
    if (uri !== this.digestUri) return this.fail(`digest-uri ${uri} is not ${this.digestUri}`);
    const charset = d.get('charset');
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8') return this.fail(`charset ${charset}`);
    if (realm !== this.realm && realm !== '') return this.fail(`realm ${realm} was not offered`);
    const authzid = d.get('authzid');
    const password = this.users.get(username);
    if (password === undefined) return this.fail(`no such user ${username}`);
    const keyHash = md5(credentialBytes(username), ascii(':'), credentialBytes(realm), ascii(':'), credentialBytes(password));
    const a1Parts = [keyHash, ascii(`:${this.nonce}:${cnonce}`)];
    if (authzid !== undefined) a1Parts.push(ascii(':'), Buffer.from(authzid, 'utf8'));
    const ha1 = hex(md5(...a1Parts));
    const kd = (a2: string) => hex(md5(ascii(`${ha1}:${this.nonce}:${nc}:${cnonce}:${qop}:${hex(md5(Buffer.from(a2, 'utf8')))}`)));
    const expected = Buffer.from(kd(`AUTHENTICATE:${uri}`), 'latin1');
    const got = Buffer.from(response.toLowerCase(), 'latin1');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return this.fail('wrong password');
    this.state = 'done';
    // ZooKeeper's SaslServerCallbackHandler authorizes every authenticated client and sets the
    // authorized id from the authentication id (a plain user name stays as it is).
    return { kind: 'success', token: Buffer.from(`rspauth=${kd(`:${uri}`)}`, 'latin1'), authorizationId: username };
  }
}
