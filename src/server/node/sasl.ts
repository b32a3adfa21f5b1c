/**
 * SASL requests (opcode 102: GetSASLRequest in, SetSASLResponse out), as ZooKeeperServer's
 * processSasl answers them, with DIGEST-MD5 as ZooKeeper's SASLAuthenticationProvider offers
 * it. Each connection has its own exchange; on success the connection gains the id
 * `sasl:<user>`, which ACLs with the `sasl` scheme (and `auth` ACLs) match.
 */
import { ErrorCode } from '../../protocol/constants.js';
import { encodeReply } from '../../protocol/responses.js';
import { DigestMd5Server } from '../auth/digest-md5.js';
import type { ClientConnection } from '../net/client-connection.js';
import { addAuthInfo } from './auth-info.js';

export interface SaslContext {
  /** The server's SASL users; undefined when it has none (no JAAS "Server" section). */
  readonly saslUsers: ReadonlyMap<string, string> | undefined;
  /** A fresh, unguessable DIGEST-MD5 nonce. */
  nonce(): string;
  /** A failed login: count it (mntr's auth_failed_count) and log it. */
  authFailed(conn: ClientConnection, reason: string): void;
  /** Closes the connection after the reply just queued. */
  closeSoon(conn: ClientConnection): void;
}

/** The reply to one SASL token, or undefined: drop the connection unanswered. */
export function answerSasl(ctx: SaslContext, conn: ClientConnection, xid: number, token: Buffer | null): Buffer | undefined {
  // processSasl logs clientToken.length first: a null token throws out of it, unanswered.
  if (token === null) return undefined;
  // SASL replies carry zxid 0 (processSasl builds its own ReplyHeader).
  const ok = (t: Buffer | null) => encodeReply({ xid, zxid: 0n, err: 0 }, { kind: 'sasl', body: { token: t } });
  // Without SASL users ZooKeeper has no SaslServer: the NullPointerException this causes is
  // caught, and the client is answered OK with no token (nothing is authenticated).
  if (ctx.saslUsers === undefined) return ok(null);
  conn.sasl ??= new DigestMd5Server(ctx.saslUsers, ctx.nonce());
  const step = conn.sasl.evaluate(token);
  if (step.kind === 'failure') {
    ctx.authFailed(conn, `SASL DIGEST-MD5: ${step.reason}`);
    ctx.closeSoon(conn);
    return encodeReply({ xid, zxid: 0n, err: ErrorCode.AUTHFAILED }, { kind: 'sasl', body: { token: null } });
  }
  if (step.kind === 'success') addAuthInfo(conn, [{ scheme: 'sasl', id: step.authorizationId }]);
  return ok(step.token);
}
