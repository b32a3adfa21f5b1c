/**
 * Message links between cluster peers. Each node dials every peer and sends only on the
 * connections it dialled; it receives on the ones it accepted. That keeps the rule for who
 * owns a link trivial (no ZooKeeper-style "higher id wins" handshake), at the price of two
 * TCP connections per pair. Messages are length-prefixed and each leaves in one write; the
 * first frame on a dialled link says who we are. Delivery is best effort: the consensus core
 * resends what matters on its own ticks, so a message to a disconnected peer is dropped, not
 * queued forever.
 *
 * `reset(peer)` cuts both connections with a peer. The peer sees its dialled link close and
 * reports the peer down too, so a link that one side gives up on is given up on by both
 * (otherwise a follower the leader dropped would keep sending into the void until syncLimit).
 *
 * With `tls`, every link is TLS with mutual authentication: the dialler checks the acceptor's
 * certificate against the CA and the host it dialled; the acceptor checks the dialler's against
 * the CA, and, once the hello says which member it claims to be, against that member's host in
 * the cluster file. A certificate from another CA, or none, never gets past the handshake.
 *
 * Announcements: a few bytes of link-level state (the session secret, see
 * ReplicatedWritePath) that the dialler sends right after its hello and again whenever they
 * change, as a frame whose length word has the top bit set (messages are far smaller than 2 GiB).
 * On each link they arrive before every message sent after them.
 */
import { EventEmitter } from 'node:events';
import type { TlsMaterial } from '../../tls-files.js';
import type { Clock, Timer } from '../node/clock.js';
import { ByteQueue } from './byte-queue.js';
import type { NetListener, NetSocket, Network } from './network.js';

const MAGIC = 0x5a4b5045; // "ZKPE"
const VERSION = 2; // 2: announcement frames
const HELLO_BYTES = 10;
const ANNOUNCE_FLAG = 0x8000_0000;
const MAX_ANNOUNCE_BYTES = 1024;
const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;
/** A dial not answered this long is abandoned and retried (ZooKeeper's cnxTimeout is 5 s; the
 * OS would wait minutes, leaving the link one-way dead after a partition heals). */
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

export interface PeerTransportOptions {
  myId: number;
  listenHost: string;
  listenPort: number;
  peers: ReadonlyMap<number, { host: string; port: number }>;
  /** Largest message accepted (snapshots travel here too). */
  maxMessageBytes: number;
  /** Bytes queued to a slow peer before the link is cut. */
  maxQueuedBytes: number;
  /** How long a dial may take before it is abandoned and retried. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Link-level state sent to every peer after the hello and on `announce()` (at most 1 KiB). */
  announcement?: () => Buffer;
  /** TLS with mutual authentication on every link (cert, key and ca all set). */
  tls?: TlsMaterial;
  log: { warn(msg: string, meta?: object): void; debug(msg: string, meta?: object): void };
}

export interface PeerTransportEvents {
  message: [from: number, payload: Buffer];
  /** A peer's announcement; it precedes, on that link, every message the peer sent after it. */
  announced: [from: number, bytes: Buffer];
  up: [peer: number];
  down: [peer: number];
}

interface OutLink {
  socket: NetSocket | undefined;
  connected: boolean;
  backoffMs: number;
  timer: Timer | undefined;
  /** The last failure logged, so a peer that keeps refusing us is reported once per reason. */
  lastLogged: string | undefined;
}

export class PeerTransport extends EventEmitter<PeerTransportEvents> {
  private listener: NetListener | undefined;
  private readonly out = new Map<number, OutLink>();
  private readonly inbound = new Map<NetSocket, { from: number | undefined }>();
  private stopped = false;

  constructor(
    private readonly o: PeerTransportOptions,
    private readonly io: { network: Network; clock: Clock },
  ) {
    super();
  }

  async start(): Promise<void> {
    this.listener = await this.io.network
      .listen(
        this.o.listenHost,
        this.o.listenPort,
        (s) => this.accept(s),
        this.o.tls ? { material: this.o.tls, requireClientCert: true, onRefused: (remote, why) => this.o.log.warn('refused a peer connection: TLS handshake failed', { remote, why }) } : undefined,
      )
      .catch((e: Error) => Promise.reject(new Error(`cannot listen for peers: ${e.message}`, { cause: e })));
    for (const id of this.o.peers.keys()) if (id !== this.o.myId) this.dial(id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const link of this.out.values()) {
      link.timer?.cancel();
      link.socket?.destroy();
    }
    for (const s of this.inbound.keys()) s.destroy();
    await this.listener?.close();
  }

  isConnected(peer: number): boolean {
    return this.out.get(peer)?.connected ?? false;
  }

  /** Sends if the link to `to` is up; returns false (message dropped) otherwise. */
  send(to: number, payload: Buffer): boolean {
    const link = this.out.get(to);
    if (!link?.connected || !link.socket) return false;
    if (payload.length > this.o.maxMessageBytes) throw new Error(`message of ${payload.length} bytes exceeds the ${this.o.maxMessageBytes}-byte peer limit`);
    const framed = Buffer.allocUnsafe(4 + payload.length);
    framed.writeUInt32BE(payload.length, 0);
    payload.copy(framed, 4);
    link.socket.write(framed);
    if (link.socket.queuedBytes > this.o.maxQueuedBytes) {
      this.o.log.warn('peer is not reading; cutting the link', { peer: to, queuedBytes: link.socket.queuedBytes });
      link.socket.destroy();
    }
    return true;
  }

  /** Sends the current announcement again on every connected link (it changed). */
  announce(): void {
    for (const link of this.out.values()) if (link.connected && link.socket) this.sendAnnouncement(link.socket);
  }

  private sendAnnouncement(socket: NetSocket): void {
    const bytes = this.o.announcement?.();
    if (!bytes) return;
    if (bytes.length > MAX_ANNOUNCE_BYTES) throw new Error(`announcement of ${bytes.length} bytes exceeds ${MAX_ANNOUNCE_BYTES}`);
    const framed = Buffer.allocUnsafe(4 + bytes.length);
    framed.writeUInt32BE((ANNOUNCE_FLAG | bytes.length) >>> 0, 0);
    bytes.copy(framed, 4);
    socket.write(framed);
  }

  /** Cuts both connections with `peer` (it notices and redials, as we do). */
  reset(peer: number): void {
    this.out.get(peer)?.socket?.destroy();
    for (const [s, info] of this.inbound) if (info.from === peer) s.destroy();
  }

  private dial(id: number): void {
    if (this.stopped) return;
    const addr = this.o.peers.get(id)!;
    const link: OutLink = this.out.get(id) ?? { socket: undefined, connected: false, backoffMs: FIRST_BACKOFF_MS, timer: undefined, lastLogged: undefined };
    this.out.set(id, link);
    const socket = this.io.network.connect(addr.host, addr.port, this.o.tls ? { material: this.o.tls } : undefined);
    link.socket = socket;
    const giveUp = this.io.clock.after(this.o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, () => {
      if (link.socket === socket && !link.connected) socket.destroy();
    });
    socket.onConnect(() => {
      giveUp.cancel();
      if (link.socket !== socket) return;
      const hello = Buffer.alloc(HELLO_BYTES);
      hello.writeUInt32BE(MAGIC, 0);
      hello.writeUInt16BE(VERSION, 4);
      hello.writeUInt32BE(this.o.myId, 6);
      socket.write(hello);
      this.sendAnnouncement(socket);
      link.connected = true;
      link.backoffMs = FIRST_BACKOFF_MS;
      link.lastLogged = undefined;
      this.emit('up', id);
    });
    socket.onData(() => undefined); // nothing flows back on a dialled link
    socket.onClose(() => {
      giveUp.cancel();
      if (link.socket !== socket) return;
      const was = link.connected;
      link.connected = false;
      link.socket = undefined;
      // A refused TLS handshake is worth a line (once per reason); a peer that is simply down is not.
      const why = socket.lastError;
      if (!was && this.o.tls && why !== undefined && !/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT/.test(why) && why !== link.lastLogged) {
        link.lastLogged = why;
        this.o.log.warn('cannot link to a peer: TLS handshake failed', { peer: id, address: `${addr.host}:${addr.port}`, why });
      }
      if (was) this.emit('down', id);
      if (this.stopped) return;
      link.timer = this.io.clock.after(link.backoffMs, () => this.dial(id));
      link.backoffMs = Math.min(link.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }

  /**
   * `id` just dialled us, so it is up: if our own link to it is waiting out a back-off, dial now.
   * A restarted peer otherwise hears nothing from us for up to MAX_BACKOFF_MS, and the answers
   * to its first election and discovery messages were lost meanwhile.
   */
  private redialNow(id: number): void {
    const link = this.out.get(id);
    if (this.stopped || link === undefined || link.socket !== undefined || link.timer === undefined) return;
    link.timer.cancel();
    link.timer = undefined;
    this.dial(id);
  }

  private accept(socket: NetSocket): void {
    const info: { from: number | undefined } = { from: undefined };
    this.inbound.set(socket, info);
    const inbox = new ByteQueue();
    const cut = (why: string) => {
      this.o.log.warn('dropping a peer connection', { remote: socket.remoteAddress, why });
      socket.destroy();
    };
    socket.onClose(() => this.inbound.delete(socket));
    socket.onData((chunk) => {
      inbox.add(chunk);
      if (info.from === undefined) {
        if (inbox.bytes < HELLO_BYTES) return;
        const hello = inbox.take(HELLO_BYTES);
        if (hello.readUInt32BE(0) !== MAGIC || hello.readUInt16BE(4) !== VERSION) return cut('bad hello');
        const id = hello.readUInt32BE(6);
        if (!this.o.peers.has(id) || id === this.o.myId) return cut(`unknown peer id ${id}`);
        if (this.o.tls) {
          // The CA vouches for the certificate; the cluster file says where member `id` lives.
          const host = this.o.peers.get(id)!.host;
          const wrong = socket.checkPeerHost ? socket.checkPeerHost(host) : 'the network cannot check certificates';
          if (wrong !== undefined) return cut(`peer claiming id ${id} has a certificate not valid for ${host}: ${wrong}`);
        }
        info.from = id;
        this.redialNow(id);
      }
      while (inbox.bytes >= 4) {
        const word = inbox.peekUInt32BE();
        const announcement = (word & ANNOUNCE_FLAG) !== 0;
        const len = announcement ? word & ~ANNOUNCE_FLAG : word;
        if (announcement ? len > MAX_ANNOUNCE_BYTES : len > this.o.maxMessageBytes) return cut(`${announcement ? 'announcement' : 'message'} of ${len} bytes exceeds the limit`);
        if (inbox.bytes < 4 + len) break;
        inbox.take(4);
        // A message is decoded (and its fields copied) before anything reuses these bytes; an
        // announcement is kept, so it gets bytes of its own.
        const payload = announcement ? Buffer.from(inbox.take(len)) : inbox.take(len);
        this.emit(announcement ? 'announced' : 'message', info.from, payload);
      }
    });
  }
}
