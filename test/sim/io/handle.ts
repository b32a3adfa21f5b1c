/** An open file or directory of the simulated file system. */
import type { FileHandle, FileStat, OpenFlags } from '../../../src/server/storage/file-system.js';
import { fsError } from './errors.js';
import type { Node } from './nodes.js';
import type { Volume } from './volume.js';

export interface HandleHost {
  readonly vol: Volume;
  schedule(delayMs: number, fn: () => void): void;
  delay(kind: 'io' | 'sync'): number;
}

export function statOf(n: Node): FileStat {
  const size = n.kind === 'file' ? n.volatile.size : 4096;
  return { size, isDirectory: () => n.kind === 'dir', isFile: () => n.kind === 'file' };
}

type Queued = { kind: 'io' | 'sync'; run: () => void };

export class SimFileHandle implements FileHandle {
  private readonly queue: Queued[] = [];
  private busy = false;
  private closing = false;
  private readonly gen: number;

  constructor(
    private readonly host: HandleHost,
    readonly node: Node,
    readonly path: string,
    readonly flags: OpenFlags,
  ) {
    this.gen = host.vol.generation;
    if (node.kind === 'file') node.opens++;
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.op('read', 'io', () => {
      if (this.flags === 'w' || this.flags === 'wx') throw fsError('EBADF', 'read');
      const f = this.fileOrEisdir('read');
      checkRange(buffer, offset, length, position);
      const bytes = f.volatile.read(position, length);
      bytes.copy(buffer, offset);
      return { bytesRead: bytes.length };
    });
  }

  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    // The buffer is read when the write runs, not now, as libuv's thread pool does, so a
    // caller that reuses it before the promise settles writes the new contents, as it would for real.
    return this.op('write', 'io', () => {
      const f = this.writable('write');
      checkRange(buffer, offset, length, position);
      return { bytesWritten: this.host.vol.write(f, position, buffer.subarray(offset, offset + length), this.path) };
    });
  }

  truncate(length: number): Promise<void> {
    return this.op('ftruncate', 'io', () => {
      const f = this.writable('ftruncate');
      if (!Number.isSafeInteger(length) || length < 0) throw fsError('EINVAL', 'ftruncate', this.path);
      this.host.vol.truncate(f, length);
    });
  }

  datasync(): Promise<void> {
    return this.op('fdatasync', 'sync', () => this.host.vol.sync(this.node, this.path));
  }

  sync(): Promise<void> {
    return this.op('fsync', 'sync', () => this.host.vol.sync(this.node, this.path));
  }

  stat(): Promise<FileStat> {
    return this.op('fstat', 'io', () => statOf(this.node));
  }

  close(): Promise<void> {
    // As Node's: closing twice is harmless.
    if (this.closing) return this.op('close', 'io', () => undefined, true);
    const p = this.op('close', 'io', () => {
      if (this.node.kind === 'file') {
        this.node.opens--;
        this.host.vol.release(this.node);
      }
    });
    this.closing = true;
    return p;
  }

  private alive(): boolean {
    return this.gen === this.host.vol.generation;
  }

  /** Queues `fn` behind this handle's earlier calls; it runs (and settles) from a scheduled callback. */
  private op<T>(syscall: string, kind: 'io' | 'sync', fn: () => T, evenIfClosing = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if ((this.closing && !evenIfClosing) || !this.alive()) {
        // Not queued: a dead handle's queue may never drain (its callbacks died with its process).
        this.host.schedule(this.host.delay('io'), () => reject(fsError('EBADF', syscall)));
        return;
      }
      this.queue.push({
        kind,
        run: () => {
          if (!this.alive()) return reject(fsError('EBADF', syscall));
          try {
            resolve(fn());
          } catch (err) {
            reject(err);
          }
        },
      });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    const next = this.queue.shift();
    if (!next) return;
    this.busy = true;
    this.host.schedule(this.host.delay(next.kind), () => {
      this.busy = false;
      next.run();
      this.pump();
    });
  }

  private fileOrEisdir(syscall: string) {
    if (this.node.kind === 'dir') throw fsError('EISDIR', syscall, this.path);
    return this.node;
  }

  private writable(syscall: string) {
    if (this.flags === 'r') throw fsError('EBADF', syscall);
    return this.fileOrEisdir(syscall);
  }
}

function checkRange(buffer: Buffer, offset: number, length: number, position: number): void {
  const ok = [offset, length, position].every((v) => Number.isSafeInteger(v) && v >= 0) && offset + length <= buffer.length;
  if (!ok) throw new RangeError(`bad buffer range: offset ${offset}, length ${length}, position ${position}, buffer ${buffer.length}`);
}
