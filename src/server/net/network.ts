/**
 * The socket interface the client port and the peer links are written against.
 * `nodeNetwork` is node:net; the simulator (test/sim) implements the same interface with
 * seeded delays, partitions and resets, so the connections `zk-elect server` serves are the
 * ones the simulator breaks.
 *
 * A socket is a reliable, ordered byte stream (TCP). `end()` is a graceful close: queued
 * bytes are delivered first, then the peer sees the close. `destroy()` is a reset: queued
 * bytes are dropped and both ends see the close. Every socket reports its close exactly once.
 */
import { createConnection, createServer, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { TlsMaterial } from '../../tls-files.js';

export interface NetSocket {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes written but not yet handed to the network (a slow reader makes this grow). */
  readonly queuedBytes: number;
  /** Queues bytes; writes made in one turn of the event loop leave together. */
  write(data: Buffer): void;
  /** Graceful close after the queued bytes (and `data`, if given). */
  end(data?: Buffer): void;
  /** Reset: drop what is queued, close now. */
  destroy(): void;
  /** Stop / restart delivering received data (backpressure on a peer that sends too much). */
  pause(): void;
  resume(): void;
  /** Single subscribers; set once, right after the socket is created or accepted. */
  onConnect(fn: () => void): void;
  onData(fn: (chunk: Buffer) => void): void;
  onClose(fn: () => void): void;
  /** Runs whenever what write() queued has all been handed to the network (`queuedBytes` is 0
   * again), so a writer that paused on a slow reader learns when to go on. */
  onDrain(fn: () => void): void;
  /** Why the socket failed, if it did (for a log line: a refused TLS handshake says why here). */
  readonly lastError?: string | undefined;
  /**
   * TLS only: undefined when the other end's verified certificate is valid for `host` (an IP
   * address or a DNS name, by the rules a TLS client applies to a server), else why not.
   */
  checkPeerHost?(host: string): string | undefined;
}

/** TLS on a listener: our certificate, and when `requireClientCert`, the CA client certificates must chain to. */
export interface TlsListenOptions {
  material: TlsMaterial;
  requireClientCert: boolean;
  /** A connection whose handshake failed (plaintext, wrong certificate, ...): it is already closed. */
  onRefused?(remote: string, why: string): void;
}

/** TLS on a dialled socket: the server's certificate must chain to `material.ca` and be valid for the host dialled. */
export interface TlsConnectOptions {
  material: TlsMaterial;
}

export interface NetListener {
  readonly port: number;
  close(): Promise<void>;
}

export interface Network {
  /** Listens; `port` 0 picks a free one. Rejects with a message naming the address. */
  listen(host: string, port: number, onConnection: (socket: NetSocket) => void, tls?: TlsListenOptions): Promise<NetListener>;
  /** Dials; `onConnect` fires once connected (with TLS: once the handshake verified), `onClose` if it fails or later closes. */
  connect(host: string, port: number, tls?: TlsConnectOptions): NetSocket;
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`, as ZooKeeper reports IPv4 clients. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

class NodeSocket implements NetSocket {
  private corked = false;
  private closeFn: (() => void) | undefined;
  private drainFn: (() => void) | undefined;
  /** Bytes were written since the queue was last seen empty. */
  private unflushed = false;
  private closed = false;
  lastError: string | undefined;

  constructor(
    private readonly s: Socket,
    private readonly connectEvent: 'connect' | 'secureConnect' = 'connect',
  ) {
    s.setNoDelay(true);
    s.on('error', (e: NodeJS.ErrnoException & { reason?: string }) => {
      const message = e.reason ?? e.message;
      this.lastError = e.code && !message.includes(e.code) ? `${message} (${e.code})` : message; // 'close' follows and reports it
    });
    s.on('close', () => {
      this.closed = true;
      this.closeFn?.();
    });
  }

  get remoteAddress(): string {
    return normalizeAddress(this.s.remoteAddress ?? '');
  }
  get remotePort(): number {
    return this.s.remotePort ?? 0;
  }
  get queuedBytes(): number {
    return this.s.writableLength;
  }

  write(data: Buffer): void {
    if (this.closed) return;
    // Everything written in one turn of the event loop leaves in one syscall.
    if (!this.corked) {
      this.corked = true;
      this.s.cork();
      process.nextTick(() => {
        this.corked = false;
        this.s.uncork();
      });
    }
    this.unflushed = true;
    this.s.write(data, this.written);
  }
  /** Write callbacks run once node handed the bytes to the kernel (a corked batch calls all of its
   * callbacks together, with the queue already empty): report each emptying once. */
  private readonly written = (): void => {
    if (!this.unflushed || this.s.writableLength !== 0) return;
    this.unflushed = false;
    this.drainFn?.();
  };
  end(data?: Buffer): void {
    if (data) this.s.end(data);
    else this.s.end();
  }
  destroy(): void {
    this.s.destroy();
  }
  pause(): void {
    this.s.pause();
  }
  resume(): void {
    this.s.resume();
  }
  onConnect(fn: () => void): void {
    this.s.once(this.connectEvent, fn);
  }
  onData(fn: (chunk: Buffer) => void): void {
    this.s.on('data', fn);
  }
  onClose(fn: () => void): void {
    this.closeFn = fn;
    if (this.closed) fn();
  }
  onDrain(fn: () => void): void {
    this.drainFn = fn;
  }
  checkPeerHost(host: string): string | undefined {
    const t = this.s as TLSSocket;
    if (typeof t.getPeerCertificate !== 'function') return 'not a TLS connection';
    const cert = t.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return 'no certificate';
    return checkServerIdentity(host, cert)?.message;
  }
}

const HANDSHAKE_TIMEOUT_MS = 10_000;

function tlsIdentity(m: TlsMaterial): { cert?: Buffer; key?: Buffer; ca?: Buffer } {
  return { ...(m.cert ? { cert: m.cert } : {}), ...(m.key ? { key: m.key } : {}), ...(m.ca ? { ca: m.ca } : {}) };
}

export const nodeNetwork: Network = {
  async listen(host, port, onConnection, tls) {
    const server = tls
      ? createTlsServer(
          {
            ...tlsIdentity(tls.material),
            requestCert: tls.requireClientCert,
            rejectUnauthorized: tls.requireClientCert,
            minVersion: 'TLSv1.2',
            // A client that connects and says nothing (or speaks plaintext and waits) is cut here.
            handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
          },
          (s) => onConnection(new NodeSocket(s)),
        )
      : createServer((s) => onConnection(new NodeSocket(s)));
    if (tls) {
      server.on('tlsClientError', (e: Error & { reason?: string }, s: TLSSocket) => {
        // OpenSSL's `reason` ("peer did not return a certificate") reads better than its message.
        tls.onRefused?.(s.remoteAddress ? `${normalizeAddress(s.remoteAddress)}:${s.remotePort ?? 0}` : 'a peer that already left', e.reason ?? e.message);
        s.destroy();
      });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:${port}: ${e.code ?? e.message}`, { cause: e })));
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    return {
      port: typeof addr === 'object' && addr ? addr.port : port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
  connect(host, port, tls) {
    if (!tls) return new NodeSocket(createConnection({ host, port }));
    const s = tlsConnect({
      host,
      port,
      ...tlsIdentity(tls.material),
      // SNI may not be an IP address; an IP is still checked against the certificate's IP SANs.
      ...(isIP(host) ? {} : { servername: host }),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    return new NodeSocket(s, 'secureConnect');
  },
};
