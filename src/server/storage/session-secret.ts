/**
 * The session secret: 32 random bytes that session passwords are derived from (HMAC-SHA256 of
 * the session id), kept in `<dataDir>/session-secret`. A standalone server creates its own at
 * first start; a cluster member creates one too, and replaces it with its leader's when it
 * syncs (see ReplicatedWritePath), so every member can check a password any member issued.
 *
 * The file is one line,
 *   `zk-elect-session-secret 1 <64 hex digits> <CRC-32C of the text before it, 8 hex digits>\n`
 * written atomically with mode 0600. Like ssh with a private key, a server refuses to start when
 * the file can be read by anyone but its owner, or is damaged: silently making a new secret
 * would lock out every session (their passwords no longer check), and using one others could
 * read would let them take sessions over. The refusal says how to fix it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { crc32c } from './crc32c.js';
import type { FileSystem } from './file-system.js';
import { atomicWriteFile, isErrno, type TempFiles } from './fsutil.js';

export const SESSION_SECRET_FILE = 'session-secret';
export const SESSION_SECRET_BYTES = 32;
const LINE = /^zk-elect-session-secret 1 ([0-9a-f]{64}) ([0-9a-f]{8})\n$/;
const MAX_FILE_BYTES = 256;

export class SessionSecretError extends Error {}

const crcHex = (text: string) => crc32c(Buffer.from(text, 'latin1')).toString(16).padStart(8, '0');

/** The stored secret, undefined if there is none yet; throws SessionSecretError if unsafe or damaged. */
export async function readSessionSecret(dir: string, fs: FileSystem): Promise<Buffer | undefined> {
  const file = path.join(dir, SESSION_SECRET_FILE);
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  const mode = (await fs.stat(file)).mode;
  if (mode !== undefined && (mode & 0o077) !== 0) {
    throw new SessionSecretError(
      `the session secret ${file} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}: anyone who reads it can take over sessions. ` +
        `Make it readable by its owner only (chmod 600 ${file}) and restart; if others may have read it, delete it instead (every open session then has to be re-created)`,
    );
  }
  const text = buf.length > MAX_FILE_BYTES ? '' : buf.toString('latin1');
  const m = LINE.exec(text);
  if (!m || crcHex(`zk-elect-session-secret 1 ${m[1]!}`) !== m[2]) {
    throw new SessionSecretError(
      `the session secret ${file} is damaged${m ? ' (checksum mismatch)' : ''}. Restore it from a backup, or delete it to make a new one ` +
        `(sessions created before can then not reconnect here; a cluster member takes its leader's secret when it syncs)`,
    );
  }
  return Buffer.from(m[1]!, 'hex');
}

/** Durably replaces the secret (mode 0600). */
export async function writeSessionSecret(dir: string, secret: Buffer, o: { fs: FileSystem; temps: TempFiles }): Promise<void> {
  if (secret.length !== SESSION_SECRET_BYTES) throw new RangeError(`a session secret is ${SESSION_SECRET_BYTES} bytes, got ${secret.length}`);
  const text = `zk-elect-session-secret 1 ${secret.toString('hex')}`;
  await atomicWriteFile(path.join(dir, SESSION_SECRET_FILE), [Buffer.from(`${text} ${crcHex(text)}\n`, 'latin1')], { ...o, mode: 0o600 });
}

export function newSessionSecret(): Buffer {
  return randomBytes(SESSION_SECRET_BYTES);
}

/** A session's password: 16 bytes (what ZooKeeper clients store), unguessable without the secret. */
export function sessionPassword(secret: Buffer, id: bigint): Buffer {
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigInt64BE(BigInt.asIntN(64, id));
  return createHmac('sha256', secret).update(idBytes).digest().subarray(0, 16);
}

/** Constant-time check of a password a client presented. */
export function passwordMatches(secret: Buffer, id: bigint, presented: Buffer): boolean {
  const expected = sessionPassword(secret, id);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
