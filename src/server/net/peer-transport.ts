/**
 * Message links between cluster peers. Each node dials every peer and sends only on the
 * connections it dialled; it receives on the ones it accepted. That keeps the rule for who
 * owns a link trivial (no ZooKeeper-style "higher id wins" handshake), at the price of two
 * TCP connections per pair. Messages are length-prefixed; the first frame on a dialled
 * link says who we are. Delivery is best effort: the consensus core resends what matters
 * on its own ticks, so a message to a disconnected peer is dropped, not queued forever.
 */
import { EventEmitter } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

const MAGIC = 0x5a4b5045; // "ZKPE"
const VERSION = 1;
const HELLO_BYTES = 10;

export interface PeerTransportOptions {
  myId: number;
  listenHost: string;
  listenPort: number;
  peers: ReadonlyMap<number, { host: string; port: number }>;
  /** Largest message accepted (snapshots travel here too). */
  maxMessageBytes: number;
  /** Bytes queued to a slow peer before the link is cut. */
  maxQueuedBytes: number;
  log: { warn(msg: string, meta?: object): void; debug(msg: string, meta?: object): void };
}

export interface PeerTransportEvents {
  message: [from: number, payload: Buffer];
  up: [peer: number];
  down: [peer: number];
}

interface OutLink {
  socket: Socket | undefined;
  connected: boolean;
  backoffMs: number;
  timer: NodeJS.Timeout | undefined;
}

export class PeerTransport extends EventEmitter<PeerTransportEvents> {
  private server: Server | undefined;
  private readonly out = new Map<number, OutLink>();
  private readonly inbound = new Set<Socket>();
  private stopped = false;

  constructor(private readonly o: PeerTransportOptions) {
    super();
  }

  async start(): Promise<void> {
    const server = createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen for peers on ${this.o.listenHost}:${this.o.listenPort}: ${e.code ?? e.message}`)));
      server.listen(this.o.listenPort, this.o.listenHost, () => resolve());
    });
    for (const id of this.o.peers.keys()) if (id !== this.o.myId) this.dial(id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const link of this.out.values()) {
      clearTimeout(link.timer);
      link.socket?.destroy();
    }
    for (const s of this.inbound) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  isConnected(peer: number): boolean {
    return this.out.get(peer)?.connected ?? false;
  }

  /** Sends if the link to `to` is up; returns false (message dropped) otherwise. */
  send(to: number, payload: Buffer): boolean {
    const link = this.out.get(to);
    if (!link?.connected || !link.socket) return false;
    if (payload.length > this.o.maxMessageBytes) throw new Error(`message of ${payload.length} bytes exceeds the ${this.o.maxMessageBytes}-byte peer limit`);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(payload.length);
    link.socket.write(header);
    link.socket.write(payload);
    if (link.socket.writableLength > this.o.maxQueuedBytes) {
      this.o.log.warn('peer is not reading; cutting the link', { peer: to, queuedBytes: link.socket.writableLength });
      link.socket.destroy();
    }
    return true;
  }

  private dial(id: number): void {
    if (this.stopped) return;
    const addr = this.o.peers.get(id)!;
    const link = this.out.get(id) ?? { socket: undefined, connected: false, backoffMs: 50, timer: undefined };
    this.out.set(id, link);
    const socket = createConnection({ host: addr.host, port: addr.port });
    link.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      const hello = Buffer.alloc(HELLO_BYTES);
      hello.writeUInt32BE(MAGIC, 0);
      hello.writeUInt16BE(VERSION, 4);
      hello.writeUInt32BE(this.o.myId, 6);
      socket.write(hello);
      link.connected = true;
      link.backoffMs = 50;
      this.emit('up', id);
    });
    socket.on('data', () => undefined); // nothing flows back on a dialled link
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const was = link.connected;
      link.connected = false;
      link.socket = undefined;
      if (was) this.emit('down', id);
      if (this.stopped) return;
      link.timer = setTimeout(() => this.dial(id), link.backoffMs);
      link.timer.unref();
      link.backoffMs = Math.min(link.backoffMs * 2, 1000);
    });
  }

  private accept(socket: Socket): void {
    this.inbound.add(socket);
    socket.setNoDelay(true);
    let from: number | undefined;
    let buf: Buffer = Buffer.alloc(0);
    const cut = (why: string) => {
      this.o.log.warn('dropping a peer connection', { remote: socket.remoteAddress, why });
      socket.destroy();
    };
    socket.on('error', () => undefined);
    socket.on('close', () => this.inbound.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (from === undefined) {
        if (buf.length < HELLO_BYTES) return;
        if (buf.readUInt32BE(0) !== MAGIC || buf.readUInt16BE(4) !== VERSION) return cut('bad hello');
        const id = buf.readUInt32BE(6);
        if (!this.o.peers.has(id) || id === this.o.myId) return cut(`unknown peer id ${id}`);
        from = id;
        buf = buf.subarray(HELLO_BYTES);
      }
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (len > this.o.maxMessageBytes) return cut(`message of ${len} bytes exceeds the limit`);
        if (buf.length < 4 + len) break;
        const payload = Buffer.from(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        this.emit('message', from, payload);
      }
    });
  }
}
