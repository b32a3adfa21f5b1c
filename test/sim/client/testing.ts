/**
 * Test fixtures for the simulated client, written against the Network interface so they run
 * over node:net in integration tests and over the simulator's network alike:
 *
 * - Relay: a byte relay to a server that a test can cut (reset every connection) and make
 *   refuse new connections, i.e. a client kept away from its server.
 * - FakeServer: a scripted ZooKeeper endpoint that can do what a correct server never does
 *   (stay silent in the handshake, answer out of order, go back in zxid), to check that the
 *   client notices.
 */
import {
  decodeConnectRequest, decodeRequest, encodeConnectResponse, encodeReply, ErrorCode, FrameDecoder, OpCode,
  type ConnectRequest, type Request,
} from '../../../src/protocol/index.js';
import { nodeNetwork, type NetListener, type NetSocket, type Network } from '../../../src/server/net/network.js';

export class Relay {
  /** While true, new connections are reset as soon as they are accepted. */
  refuse = false;
  /**
   * While true, new connections are accepted but not yet linked to the server: the client
   * sits in its handshake (until its connect timeout) and a test can act meanwhile. `release()` links them.
   */
  hold = false;
  /** Bytes relayed client → server, so a test can see pings on an idle connection. */
  bytesUp = 0;
  private readonly sockets = new Set<NetSocket>();
  private held: Array<() => void> = [];
  private listener!: NetListener;

  private constructor(private readonly host: string, private readonly network: Network, private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }, network: Network = nodeNetwork, host = '127.0.0.1'): Promise<Relay> {
    const relay = new Relay(host, network, target);
    relay.listener = await network.listen(host, 0, (client) => relay.accept(client));
    return relay;
  }

  /** Links the connections accepted while holding. */
  release(): void {
    this.hold = false;
    for (const link of this.held.splice(0)) link();
  }

  private accept(client: NetSocket): void {
    if (this.refuse) {
      client.destroy();
      return;
    }
    this.sockets.add(client);
    let upstream: NetSocket | undefined;
    let gone = false;
    const early: Buffer[] = [];
    // One side closing closes the other gracefully: what that side sent last (a closeSession
    // reply before the server hangs up) must still arrive. cut() is the reset.
    const both = () => {
      gone = true;
      this.sockets.delete(client);
      client.end();
      if (upstream) {
        this.sockets.delete(upstream);
        upstream.end();
      }
    };
    client.onData((chunk) => {
      this.bytesUp += chunk.length;
      if (upstream) upstream.write(chunk);
      else early.push(chunk);
    });
    client.onClose(both);
    const link = () => {
      if (gone) return;
      const up = this.network.connect(this.target.host, this.target.port);
      upstream = up;
      this.sockets.add(up);
      for (const chunk of early.splice(0)) up.write(chunk);
      up.onData((chunk) => client.write(chunk));
      up.onClose(both);
    };
    if (this.hold) this.held.push(link);
    else link();
  }

  get address(): string {
    return `${this.host}:${this.listener.port}`;
  }

  /** Resets every relayed connection (both ends see it at once). */
  cut(): void {
    for (const s of [...this.sockets]) s.destroy();
  }

  async close(): Promise<void> {
    this.refuse = true;
    this.held = [];
    this.cut();
    await this.listener.close();
  }
}

/** Replies to send now: each request with the zxid its (NONODE) reply carries, in the order given. */
export type FakeScript = (pending: readonly Request[]) => Array<[Request, bigint]> | undefined;

export class FakeServer {
  static readonly SESSION = 0x5151n;
  /** Every ConnectRequest received, in order. */
  readonly connects: ConnectRequest[] = [];
  /**
   * Decides when and how to answer the requests received so far (pings and closeSession are
   * answered at once). Without a script every request is answered at once, NONODE, zxid 1.
   */
  script: FakeScript | undefined;
  /** While true, nothing after the handshake is answered, pings included: a hung server. */
  mute = false;
  private readonly sockets = new Set<NetSocket>();
  private listener!: NetListener;

  private constructor(private readonly answerHandshake: boolean, private readonly host: string) {}

  static async start(opts: { answerHandshake: boolean; network?: Network; host?: string }): Promise<FakeServer> {
    const fake = new FakeServer(opts.answerHandshake, opts.host ?? '127.0.0.1');
    fake.listener = await (opts.network ?? nodeNetwork).listen(fake.host, 0, (s) => fake.accept(s));
    return fake;
  }

  get address(): string {
    return `${this.host}:${this.listener.port}`;
  }

  async close(): Promise<void> {
    for (const s of [...this.sockets]) s.destroy();
    await this.listener.close();
  }

  private accept(socket: NetSocket): void {
    this.sockets.add(socket);
    socket.onClose(() => this.sockets.delete(socket));
    const decoder = new FrameDecoder({ fourLetterWords: false });
    let handshakeDone = false;
    let pending: Request[] = [];
    const reply = (req: Request, zxid: bigint, err: number) => socket.write(encodeReply({ xid: req.xid, zxid, err }));
    socket.onData((chunk) => {
      for (const f of decoder.push(chunk)) {
        if (f.kind !== 'frame') continue;
        if (!handshakeDone) {
          handshakeDone = true;
          const req = decodeConnectRequest(f.payload);
          this.connects.push(req);
          if (this.answerHandshake) {
            socket.write(encodeConnectResponse({ protocolVersion: 0, timeOut: req.timeOut, sessionId: FakeServer.SESSION, passwd: Buffer.alloc(16, 7), readOnly: false }));
          }
          continue;
        }
        const req = decodeRequest(f.payload);
        if (this.mute) continue;
        if (req.type === OpCode.ping) {
          reply(req, 0n, ErrorCode.OK);
        } else if (req.type === OpCode.closeSession) {
          reply(req, 0n, ErrorCode.OK);
          socket.end();
        } else if (!this.script) {
          reply(req, 1n, ErrorCode.NONODE);
        } else {
          pending.push(req);
          const out = this.script(pending);
          if (out) {
            pending = [];
            for (const [r, zxid] of out) reply(r, zxid, ErrorCode.NONODE);
          }
        }
      }
    });
  }
}
