// A TCP proxy in front of one ZooKeeper server that understands client
// framing, so tests can inject faults at message granularity: partitions
// (blackhole), refused connections, cut connections, "request applied but
// reply lost" (dropReplyOnce) — the case that makes clients retry a create —
// and "hold from this request on" (holdRequest), which stops a client exactly
// before (or just after) one step of a protocol, to kill it there (its pings
// still pass, so holding does not by itself expire the session).
import net from 'node:net';
import {
  FrameLengthError,
  FrameSplitter,
  looksLikeFourLetterWord,
  OpCode,
  readReplyHeader,
  readRequestHeader,
  readRequestPath,
} from './zk-frames.js';

/** A client's traffic, held from one matching request on (the request included). */
export interface HeldTraffic {
  readonly opcode: number;
  readonly path: string | undefined;
  /** Sends the first `n` held requests to the server; the rest stay held. */
  forward(n?: number): void;
  /** Sends everything held and stops holding. */
  release(): void;
  /** Cuts the connection: nothing held reaches the server. */
  cut(): void;
}

interface HoldArm {
  match: (opcode: number, path: string | undefined) => boolean;
  resolve: (held: HeldTraffic) => void;
  reject: (e: Error) => void;
}

interface DropArm {
  opcode: number;
  resolve: (v: { xid: number }) => void;
  reject: (e: Error) => void;
}

class Pair {
  closed = false;
  /** xid -> arm, for requests whose reply must be swallowed. */
  readonly drops = new Map<number, DropArm>();
  private raw = false; // four-letter-word connection: relay bytes unparsed
  private readonly fromClient = new FrameSplitter();
  private readonly fromServer = new FrameSplitter();
  private clientFrames = 0;
  private serverFrames = 0;
  /** Client frames not yet sent, while a hold is on. */
  private held: Buffer[] | undefined;

  constructor(
    readonly client: net.Socket,
    readonly server: net.Socket,
    private readonly proxy: ZkTcpProxy,
    private readonly onClose: (pair: Pair) => void,
  ) {
    client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    server.on('data', (chunk: Buffer) => this.onServerData(chunk));
    client.on('error', () => this.destroy());
    server.on('error', () => this.destroy());
    // When one side closes, the other is ended rather than destroyed, so bytes
    // already relayed (e.g. a four-letter word's answer) are not truncated.
    client.on('close', () => this.closeLeaving(server));
    server.on('close', () => this.closeLeaving(client));
  }

  /** Hard cut of both sides (cutAll, bad frames, socket errors). */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.server.destroy();
    this.onClose(this);
  }

  /** Ends `survivor` gracefully (bounded by a timer) and drops the other side. */
  private closeLeaving(survivor: net.Socket): void {
    if (this.closed) return;
    this.closed = true;
    (survivor === this.client ? this.server : this.client).destroy();
    survivor.end(() => survivor.destroy());
    setTimeout(() => survivor.destroy(), 1000).unref();
    this.onClose(this);
  }

  private onClientData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.raw) return this.proxy.isBlackholed ? undefined : this.relay(chunk, this.client, this.server);
    let frames: Buffer[];
    try {
      frames = this.fromClient.push(chunk);
    } catch (e) {
      if (e instanceof FrameLengthError && this.clientFrames === 0 && looksLikeFourLetterWord(e.header)) {
        this.raw = true;
        return this.relay(this.fromClient.drain(), this.client, this.server);
      }
      return this.destroy(); // bad length: cut the pair rather than buffer without bound
    }
    for (const frame of frames) {
      const first = this.clientFrames++ === 0; // ConnectRequest has no header
      if (this.proxy.isBlackholed) continue;
      const header = first ? undefined : readRequestHeader(frame);
      if (this.held) {
        // Pings pass: the session stays alive and the client keeps its connection while held.
        if (header?.opcode === OpCode.ping) this.relay(frame, this.client, this.server);
        else this.held.push(frame);
        continue;
      }
      if (header) {
        const arm = this.proxy.takeArm(header.opcode);
        if (arm) this.drops.set(header.xid, arm);
        const path = readRequestPath(frame);
        const hold = this.proxy.takeHold(header.opcode, path);
        if (hold) {
          this.held = [frame];
          hold.resolve(this.heldTraffic(header.opcode, path));
          continue;
        }
      }
      this.relay(frame, this.client, this.server);
    }
  }

  private onServerData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.raw) return this.proxy.isBlackholed ? undefined : this.relay(chunk, this.server, this.client);
    let frames: Buffer[];
    try {
      frames = this.fromServer.push(chunk);
    } catch {
      return this.destroy();
    }
    for (const frame of frames) {
      const first = this.serverFrames++ === 0; // ConnectResponse has no header
      if (this.proxy.isBlackholed) continue;
      const header = first ? undefined : readReplyHeader(frame);
      const arm = header ? this.drops.get(header.xid) : undefined;
      if (header && arm) {
        this.drops.delete(header.xid);
        this.swallowAndCut();
        arm.resolve({ xid: header.xid });
        return; // everything after the swallowed reply is lost with the connection
      }
      this.relay(frame, this.server, this.client);
    }
  }

  private heldTraffic(opcode: number, path: string | undefined): HeldTraffic {
    const send = (n: number) => {
      const out = this.held?.splice(0, n) ?? [];
      for (const f of out) if (!this.closed) this.relay(f, this.client, this.server);
    };
    return {
      opcode,
      path,
      forward: (n = 1) => send(n),
      release: () => {
        send(Infinity);
        this.held = undefined;
      },
      cut: () => {
        this.held = undefined;
        this.destroy();
      },
    };
  }

  /** Server side goes at once (no further replies); the client side is ended
   *  gracefully so replies relayed before the swallowed one still arrive. */
  private swallowAndCut(): void {
    this.closeLeaving(this.client);
  }

  private relay(bytes: Buffer, from: net.Socket, to: net.Socket): void {
    if (bytes.length === 0 || to.destroyed) return;
    // Back-pressure keeps per-pair memory bounded when one side reads slowly.
    if (!to.write(bytes) && !from.isPaused()) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  }
}

export class ZkTcpProxy {
  readonly port: number;
  readonly address: string;
  private blackholed = false;
  private refusing = false;
  private readonly pairs = new Set<Pair>();
  private arms: DropArm[] = [];
  private holds: HoldArm[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
    listenHost: string,
  ) {
    const addr = server.address() as net.AddressInfo;
    this.port = addr.port;
    this.address = `${listenHost}:${addr.port}`;
    server.on('connection', (socket) => this.accept(socket));
  }

  static async start(target: { host: string; port: number }, listenHost = '127.0.0.1'): Promise<ZkTcpProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new ZkTcpProxy(server, target, listenHost);
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** @internal read by Pair */
  get isBlackholed(): boolean {
    return this.blackholed;
  }

  blackhole(on: boolean): void {
    this.blackholed = on;
  }

  refuse(on: boolean): void {
    this.refusing = on;
  }

  cutAll(): void {
    for (const pair of [...this.pairs]) pair.destroy();
  }

  dropReplyOnce(opcode: number): Promise<{ xid: number }> {
    if (this.closing) return Promise.reject(new Error('ZkTcpProxy is closed'));
    return new Promise((resolve, reject) => this.arms.push({ opcode, resolve, reject }));
  }

  /**
   * Resolves when a client sends a request that `match`es: that request and everything the
   * client sends after it are held until the caller forwards, releases or cuts them.
   */
  holdRequest(match: (opcode: number, path: string | undefined) => boolean): Promise<HeldTraffic> {
    if (this.closing) return Promise.reject(new Error('ZkTcpProxy is closed'));
    return new Promise((resolve, reject) => this.holds.push({ match, resolve, reject }));
  }

  /** @internal Pair asks whether a request starts a hold. */
  takeHold(opcode: number, path: string | undefined): HoldArm | undefined {
    const i = this.holds.findIndex((h) => h.match(opcode, path));
    return i < 0 ? undefined : this.holds.splice(i, 1)[0];
  }

  /** @internal Pair asks whether a request with this opcode is targeted. */
  takeArm(opcode: number): DropArm | undefined {
    const i = this.arms.findIndex((a) => a.opcode === opcode);
    return i < 0 ? undefined : this.arms.splice(i, 1)[0];
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.cutAll();
      for (const arm of this.arms.splice(0)) arm.reject(new Error('ZkTcpProxy closed before the reply was dropped'));
      for (const hold of this.holds.splice(0)) hold.reject(new Error('ZkTcpProxy closed before a request was held'));
    });
    return this.closing;
  }

  private accept(client: net.Socket): void {
    if (this.refusing || this.closing) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    upstream.setNoDelay(true);
    const pair = new Pair(client, upstream, this, (p) => this.forget(p));
    this.pairs.add(pair);
  }

  private forget(pair: Pair): void {
    this.pairs.delete(pair);
    // A targeted request whose reply never came back (connection died first):
    // re-arm so the next request with that opcode is targeted instead.
    const orphaned = [...pair.drops.values()];
    pair.drops.clear();
    if (orphaned.length === 0) return;
    if (this.closing) for (const arm of orphaned) arm.reject(new Error('ZkTcpProxy closed before the reply was dropped'));
    else this.arms.unshift(...orphaned);
  }
}
