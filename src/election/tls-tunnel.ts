/**
 * TLS for the C client, which the npm `zookeeper` binding builds without OpenSSL: one loopback
 * listener per server in the connect string (127.0.0.1, a free port), each connection to it
 * carried to that server over node:tls. The session dials the rewritten connect string
 * (`127.0.0.1:<p1>,127.0.0.1:<p2>/chroot`), so the C client is unchanged.
 *
 * The server's certificate must chain to `ca` (or, without one, to Node's default CAs) and be
 * valid for the host named in the connect string (an IP address against the certificate's IP
 * SANs, a name against its DNS names). `cert` and `key` are the client's certificate, for
 * servers that require one. A failed handshake closes the local connection, so the C client
 * moves on to the next server as it would after a refused TCP connect; the reason is kept for
 * the session's error message.
 *
 * The tunnels run in a worker thread (`openTlsTunnels`): the binding's close blocks the main
 * thread while it waits for the server to answer closeSession, and an answer that has to pass
 * through the main thread could only arrive once the C client has given up waiting (seconds
 * later, with the session's ephemeral nodes still there).
 */
import net from 'node:net';
import tls from 'node:tls';
import { Worker } from 'node:worker_threads';
import { parseConnectString } from './connect-string.js';
import { InvalidArgumentError } from './errors.js';

export interface TlsOptions {
  /** CA certificates (PEM) the server's certificate must chain to. Default: Node's bundled CAs. */
  ca?: string | Buffer;
  /** Client certificate chain (PEM), for servers that require client certificates. */
  cert?: string | Buffer;
  /** Its private key (PEM). */
  key?: string | Buffer;
}

/** How long a TLS handshake with a server may take before that connection is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export class TlsTunnels {
  private readonly sockets = new Set<net.Socket>();
  private lastFailure: string | undefined;
  private closed = false;
  private onDrained: (() => void) | undefined;

  /** Called with each failed TLS connection's reason. */
  onFailure: ((why: string) => void) | undefined;

  private constructor(
    private readonly listeners: net.Server[],
    /** The connect string the C client dials: loopback ports, same order, same chroot. */
    readonly connectString: string,
  ) {}

  static async open(connect: string, options: TlsOptions): Promise<TlsTunnels> {
    if ((options.cert === undefined) !== (options.key === undefined)) throw new InvalidArgumentError('a TLS client certificate and its key go together');
    const { servers, chroot } = parseConnectString(connect);
    const listeners: net.Server[] = [];
    let tunnels: TlsTunnels | undefined;
    try {
      for (const server of servers) {
        const l = net.createServer((local) => tunnels?.carry(local, server.host.replace(/^\[|\]$/g, ''), server.port, options));
        listeners.push(l);
        await new Promise<void>((resolve, reject) => {
          l.once('error', reject);
          l.listen(0, '127.0.0.1', () => resolve());
        });
        l.unref(); // the session's own timers decide how long the process lives
      }
    } catch (e) {
      for (const l of listeners) l.close();
      throw e;
    }
    const local = listeners.map((l) => `127.0.0.1:${(l.address() as net.AddressInfo).port}`).join(',');
    tunnels = new TlsTunnels(listeners, `${local}${chroot ?? ''}`);
    return tunnels;
  }

  /** The last failed TLS connection, naming the server's address, if any failed. */
  get lastError(): string | undefined {
    return this.lastFailure;
  }

  private carry(local: net.Socket, host: string, port: number, o: TlsOptions): void {
    if (this.closed) return void local.destroy();
    local.pause(); // nothing is read until the server is verified
    const remote = tls.connect({
      host,
      port,
      ...(o.ca === undefined ? {} : { ca: o.ca }),
      ...(o.cert === undefined ? {} : { cert: o.cert }),
      ...(o.key === undefined ? {} : { key: o.key }),
      ...(net.isIP(host) ? {} : { servername: host }), // SNI takes names only; IPs are still checked
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    this.sockets.add(local);
    this.sockets.add(remote);
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    let secured = false;
    const timer = setTimeout(() => remote.destroy(new Error(`no TLS handshake within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    remote.once('secureConnect', () => {
      secured = true;
      clearTimeout(timer);
      local.pipe(remote);
      remote.pipe(local);
      local.resume();
    });
    // Either side closing ends the other gracefully (what was piped still arrives: the C client's
    // closeSession must reach the server); an error cuts both.
    const forget = () => {
      clearTimeout(timer);
      this.sockets.delete(local);
      this.sockets.delete(remote);
      this.drained();
    };
    remote.on('error', (e: NodeJS.ErrnoException) => {
      if (!secured) {
        this.lastFailure = `TLS to ${address} failed: ${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}`;
        this.onFailure?.(this.lastFailure);
      }
      local.destroy();
    });
    local.on('error', () => remote.destroy());
    remote.on('close', () => {
      local.end();
      forget();
    });
    local.on('close', () => {
      if (secured) remote.end();
      else remote.destroy();
      forget();
    });
  }

  private drained(): void {
    if (this.sockets.size === 0) this.onDrained?.();
  }

  /**
   * Stops listening; connections still open get `graceMs` to finish (the C client's
   * closeSession and the server's answer), then are cut.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const listening = Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
    if (this.sockets.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        timer.unref();
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await listening;
  }
}

/** What a session holds: the rewritten connect string, the last failure, and the teardown. */
export interface Tunnels {
  readonly connectString: string;
  readonly lastError: string | undefined;
  close(): Promise<void>;
}

type ToWorker = { type: 'close' };
type FromWorker = { type: 'opened'; connectString: string } | { type: 'failed'; message: string } | { type: 'failure'; why: string } | { type: 'closed' };

/** TlsTunnels in a worker thread (see the header); resolves once they listen. */
export async function openTlsTunnels(connect: string, options: TlsOptions): Promise<Tunnels> {
  if ((options.cert === undefined) !== (options.key === undefined)) throw new InvalidArgumentError('a TLS client certificate and its key go together');
  parseConnectString(connect);
  const here = import.meta.url;
  // From the TypeScript sources (tests under tsx) the worker needs tsx's loader as well.
  const fromSource = here.endsWith('.ts');
  const entry = new URL(`./tls-tunnel-worker.${fromSource ? 'ts' : 'js'}`, here);
  const worker = fromSource
    ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData: { connect, options } })
    : new Worker(entry, { workerData: { connect, options } });
  worker.unref();
  let lastError: string | undefined;
  let closedWaiter: (() => void) | undefined;
  const connectString = await new Promise<string>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'opened') resolve(m.connectString);
      else if (m.type === 'failed') reject(new InvalidArgumentError(m.message));
      else if (m.type === 'failure') lastError = m.why;
      else closedWaiter?.();
    });
    worker.once('error', reject);
    worker.once('exit', () => {
      reject(new Error('the TLS tunnel worker exited'));
      closedWaiter?.();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    connectString,
    get lastError() {
      return lastError;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        closedWaiter = resolve;
        worker.postMessage({ type: 'close' } satisfies ToWorker);
      }).then(() => worker.terminate().then(() => undefined));
      return closing;
    },
  };
}
