/**
 * A raw wire-protocol client that pipelines requests on one connection and reads its replies
 * only when told to: the misbehaving (or merely slow) client that backpressure is for. It
 * records every answer in arrival order, so a test can check that none was lost or reordered.
 */
import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/protocol/framing.js';
import { encodeConnectRequest, encodeRequest, type Request } from '../../src/protocol/requests.js';
import { decodeConnectResponse, decodeReply } from '../../src/protocol/responses.js';

export interface Answer {
  xid: number;
  err: number;
  /** getData: the data's length. */
  dataBytes?: number;
}

export interface PipelinerOptions {
  /** Requests written in the same write as the ConnectRequest, before its answer. */
  behindConnect?: { n: number; make: (xid: number) => Request };
  sessionTimeoutMs?: number;
}

export class Pipeliner {
  readonly answers: Answer[] = [];
  private readonly ops = new Map<number, number>();
  private readonly decoder = new FrameDecoder({ fourLetterWords: false, maxFrame: 64 * 1024 * 1024 });
  private nextXid = 1;
  private established = false;
  private closedFlag = false;
  private failure: Error | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly socket: Socket,
    private readonly what: string,
  ) {}

  /** Connects and completes the handshake (bounded wait); fails naming `what` if no session comes. */
  static async open(address: string, what: string, options: PipelinerOptions = {}): Promise<Pipeliner> {
    const [host, port] = address.split(':') as [string, string];
    const socket = connect(Number(port), host);
    const p = new Pipeliner(socket, what);
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      p.closedFlag = true;
      p.wake();
    });
    socket.on('data', (chunk: Buffer) => p.onData(chunk));
    socket.once('connect', () => {
      const connectFrame = encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: options.sessionTimeoutMs ?? 30_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
      const behind = options.behindConnect ? p.frames(options.behindConnect.n, options.behindConnect.make) : [];
      socket.write(Buffer.concat([connectFrame, ...behind]));
    });
    const deadline = Date.now() + 15_000;
    while (!p.established) {
      if (p.failure) throw p.failure;
      if (p.closedFlag) throw new Error(`${what}: closed during the handshake`);
      if (Date.now() > deadline) {
        socket.destroy();
        throw new Error(`${what}: no session within 15000 ms`);
      }
      await p.nextEvent(Math.max(1, deadline - Date.now()));
    }
    return p;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Requests written so far. */
  get sent(): number {
    return this.nextXid - 1;
  }

  /** Stops reading replies: they pile up in the kernel, then on the server. */
  stopReading(): void {
    this.socket.pause();
  }

  startReading(): void {
    this.socket.resume();
  }

  /** Writes `n` requests in one go; `make` gets the xid. */
  pipeline(n: number, make: (xid: number) => Request): void {
    this.socket.write(Buffer.concat(this.frames(n, make)));
  }

  /** Waits (bounded) until `n` answers have arrived; fails on a close or a malformed answer. */
  async waitAnswers(n: number, timeoutMs: number, what = this.what): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.answers.length < n) {
      if (this.failure) throw this.failure;
      if (this.closedFlag) throw new Error(`${what}: the connection was closed after ${this.answers.length} of ${n} answers`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: ${this.answers.length} of ${n} answers within ${timeoutMs} ms`);
      await this.nextEvent(Math.min(left, 1000));
    }
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private frames(n: number, make: (xid: number) => Request): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const req = make(this.nextXid++);
      this.ops.set(req.xid, req.type);
      out.push(encodeRequest(req));
    }
    return out;
  }

  private nextEvent(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(chunk: Buffer): void {
    try {
      for (const f of this.decoder.push(chunk)) {
        if (f.kind !== 'frame') continue;
        if (!this.established) {
          if (decodeConnectResponse(Buffer.from(f.payload)).sessionId === 0n) throw new Error(`${this.what}: no session`);
          this.established = true;
          continue;
        }
        const xid = f.payload.readInt32BE(0);
        if (xid < 0) continue; // pings, notifications
        const op = this.ops.get(xid);
        if (op === undefined) throw new Error(`${this.what}: an answer to xid ${xid}, which was never sent or was answered before`);
        this.ops.delete(xid);
        const reply = decodeReply(f.payload, op);
        const r = reply.response;
        this.answers.push({ xid, err: reply.header.err, ...(r?.kind === 'getData' ? { dataBytes: r.body.data?.length ?? 0 } : {}) });
      }
    } catch (e) {
      this.failure ??= e as Error;
      this.socket.destroy();
    }
    this.wake();
  }
}
