/**
 * Small durable integers for replication (`acceptedEpoch`, `currentEpoch`), as ZooKeeper keeps
 * them: one file each in the data directory. A file holds one line,
 *   `zk-elect-epoch 1 <decimal value> <CRC-32C of the text before it, 8 hex digits>\n`
 * and is replaced atomically (temp file, fsync, rename, fsync directory), so after a crash it
 * holds the old or the new value. A damaged file is refused: guessing an epoch can make a
 * server accept a proposal from an old leader.
 */
import path from 'node:path';
import { crc32c } from './crc32c.js';
import { CorruptEpochError } from './errors.js';
import { nodeFileSystem, type FileSystem } from './file-system.js';
import { atomicWriteFile, isErrno, MAX_ZXID, TempFiles, type StorageLogger } from './fsutil.js';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const LINE = /^zk-elect-epoch 1 (0|[1-9][0-9]{0,18}) ([0-9a-f]{8})\n$/;
/** A valid file is at most 46 bytes; read a little more so an oversized one is seen as such. */
const MAX_FILE_BYTES = 128;

function checkName(name: string): void {
  if (!NAME.test(name)) throw new RangeError(`invalid epoch file name ${JSON.stringify(name)}`);
}

function crcHex(text: string): string {
  return crc32c(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0');
}

/** The stored value, undefined if the file does not exist; throws CorruptEpochError if it is damaged. */
export async function readEpoch(dir: string, name: string, opts: { fs?: FileSystem } = {}): Promise<bigint | undefined> {
  checkName(name);
  const file = path.join(dir, name);
  let buf: Buffer;
  try {
    buf = await (opts.fs ?? nodeFileSystem).readFile(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  if (buf.length > MAX_FILE_BYTES) throw new CorruptEpochError(file, `${buf.length} bytes, more than the ${MAX_FILE_BYTES} an epoch file can hold`);
  const m = LINE.exec(buf.toString('latin1'));
  if (!m) throw new CorruptEpochError(file, `unrecognised content ${JSON.stringify(buf.toString('latin1').slice(0, 60))}`);
  const value = BigInt(m[1]!);
  if (crcHex(`zk-elect-epoch 1 ${m[1]!}`) !== m[2]) throw new CorruptEpochError(file, 'checksum mismatch');
  if (value > MAX_ZXID) throw new CorruptEpochError(file, `value ${value} out of range`);
  return value;
}

/**
 * Durably replaces the value; on return it survives a crash or power cut. Concurrent writes
 * of one file should share `temps`, as DataDir's do.
 */
export async function writeEpoch(dir: string, name: string, value: bigint | number, opts: { fs?: FileSystem; temps?: TempFiles } = {}): Promise<void> {
  checkName(name);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`epoch must be an integer, got ${value}`);
  const v = BigInt(value);
  if (v < 0n || v > MAX_ZXID) throw new RangeError(`epoch out of range: ${v}`);
  const text = `zk-elect-epoch 1 ${v}`;
  const fs = opts.fs ?? nodeFileSystem;
  await atomicWriteFile(path.join(dir, name), [Buffer.from(`${text} ${crcHex(text)}\n`, 'latin1')], { fs, temps: opts.temps ?? TempFiles.for(fs) });
}

/** Removes temp files a crashed writeEpoch left in `dir` (call while holding the directory lock). */
export async function removeEpochTemps(dir: string, o: { fs: FileSystem; logger: StorageLogger }): Promise<void> {
  for (const name of await o.fs.readdir(dir)) {
    const m = /^(.+)\.tmp\.(?:\d+\.)?\d+$/.exec(name); // with or without a pid (TempFiles)
    if (!m || !NAME.test(m[1]!)) continue;
    o.logger.info('epoch: removing a temp file left by a crash', { file: path.join(dir, name) });
    await o.fs.unlink(path.join(dir, name)).catch(() => undefined);
  }
}
