/**
 * The client side of SASL DIGEST-MD5 (RFC 2831, qop=auth) for raw-protocol tests, as
 * ZooKeeper's clients run it: service "zookeeper", host "zk-sasl-md5". Written from the RFC,
 * independently of the server's code (it shares only the directive parser).
 */
import { createHash, randomBytes } from 'node:crypto';
import { parseDirectives } from '../../src/server/auth/digest-md5.js';

const md5 = (b: Buffer | string): Buffer => createHash('md5').update(b).digest();
const hexMd5 = (b: Buffer | string): string => md5(b).toString('hex');

export interface DigestAnswer {
  /** The digest-response to send. */
  token: Buffer;
  /** What the server's rspauth must be if it knows the same password. */
  rspauth: string;
}

/** Answers a server challenge for `user`/`password`; throws if the challenge is unusable. */
export function answerChallenge(challenge: Buffer, user: string, password: string, cnonce = randomBytes(12).toString('hex')): DigestAnswer {
  const c = parseDirectives(challenge.toString('utf8'));
  const nonce = c?.get('nonce');
  if (!c || nonce === undefined) throw new Error(`not a DIGEST-MD5 challenge: ${challenge.toString('utf8')}`);
  const realm = c.get('realm') ?? '';
  const uri = 'zookeeper/zk-sasl-md5';
  const nc = '00000001';
  // RFC 2831 2.1.2.1: each of user, realm and password is hashed as ISO 8859-1 when it fits.
  const bytes = (s: string) => Buffer.from(s, [...s].every((ch) => ch.charCodeAt(0) <= 0xff) ? 'latin1' : 'utf8');
  const a1 = Buffer.concat([md5(Buffer.concat([bytes(user), Buffer.from(':'), bytes(realm), Buffer.from(':'), bytes(password)])), Buffer.from(`:${nonce}:${cnonce}`)]);
  const kd = (a2: string) => hexMd5(`${hexMd5(a1)}:${nonce}:${nc}:${cnonce}:auth:${hexMd5(a2)}`);
  const q = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
  const fields = [
    `charset=utf-8`, `username=${q(user)}`, `realm=${q(realm)}`, `nonce=${q(nonce)}`, `nc=${nc}`, `cnonce=${q(cnonce)}`,
    `digest-uri=${q(uri)}`, `maxbuf=65536`, `response=${kd(`AUTHENTICATE:${uri}`)}`, `qop=auth`,
  ];
  return { token: Buffer.from(fields.join(','), 'utf8'), rspauth: kd(`:${uri}`) };
}
