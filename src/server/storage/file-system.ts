/**
 * The file interface storage is written against. `nodeFileSystem` is node:fs/promises; the
 * simulator (test/sim) implements the same interface in memory with a power-loss model, so
 * the log, snapshots, epochs and recovery that `zk-elect server` runs are the ones the
 * simulator crashes.
 *
 * Semantics are Linux's, which the simulator reproduces and the storage code relies on:
 *   - written bytes are durable only after `datasync()`/`sync()` of that file returned;
 *   - creating, renaming, linking or removing a directory entry is durable only after the
 *     directory itself was synced (open it with 'r' and call `sync()`);
 *   - after a failed sync nothing about the unsynced data may be assumed.
 * Errors are thrown as Node's are: an Error with `code` ('ENOENT', 'EEXIST', 'ENOSPC', 'EIO').
 */
import * as fsp from 'node:fs/promises';

export interface FileStat {
  readonly size: number;
  /** Permission bits, where the file system has them (the simulator's has none). */
  readonly mode?: number;
  isDirectory(): boolean;
  isFile(): boolean;
}

export interface FileHandle {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  truncate(length: number): Promise<void>;
  /** fdatasync: the file's data (and size) are durable when this resolves. */
  datasync(): Promise<void>;
  /** fsync: as datasync, plus metadata; on a directory, its entries become durable. */
  sync(): Promise<void>;
  stat(): Promise<FileStat>;
  close(): Promise<void>;
}

/** 'r' read; 'r+' read/write, must exist; 'w' create or truncate; 'wx' create, must not exist. */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx';

export interface FileSystem {
  /** `mode` sets the permission bits of a file this call creates (default 0o666 less the umask). */
  open(path: string, flags: OpenFlags, mode?: number): Promise<FileHandle>;
  readFile(path: string): Promise<Buffer>;
  /** Entry names (not paths), in no particular order. */
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options: { recursive: true }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Hard link; fails with EEXIST if `newPath` exists (used for atomic create-if-absent). */
  link(existingPath: string, newPath: string): Promise<void>;
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<FileStat>;
}

export const nodeFileSystem: FileSystem = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  readFile: (path) => fsp.readFile(path),
  readdir: (path) => fsp.readdir(path),
  mkdir: async (path, options) => {
    await fsp.mkdir(path, options);
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  link: (existingPath, newPath) => fsp.link(existingPath, newPath),
  realpath: (path) => fsp.realpath(path),
  stat: (path) => fsp.stat(path),
};
