/**
 * The admin HTTP server (node:http, loopback by default): ZooKeeper-compatible
 * `/commands/<name>` JSON, Prometheus `/metrics`, Server-Sent Events at `/events`, the
 * dashboard's read APIs under `/api/`, node control for a local cluster, and the dashboard
 * itself at `/`.
 *
 * Every answer is JSON (or the metrics text, or the page); bad requests get a 4xx with an
 * `error` message; nothing thrown in a handler escapes (500 with the message). Bodies are
 * bounded (see json.ts and tree-api.ts).
 *
 * Requests that change state (node control, the stat resets crst/srst) need the admin token
 * (`Authorization: Bearer <token>`, see admin-token.ts): 401 without it, 403 with a wrong one,
 * and nothing changes. Browser safety on loopback: requests whose Host is not a loopback name
 * are refused (DNS rebinding), and control POSTs from another origin are refused (a web page
 * cannot make a local browser kill local nodes). Control endpoints are off on a non-loopback
 * bind unless `allowRemoteControl` is set.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { Id } from '../../protocol/records.js';
import { normalizeAddress } from '../net/client-connection.js';
import { checkToken } from './admin-token.js';
import { COMMAND_NAMES, commandChangesState, runCommand } from './commands.js';
import { DASHBOARD_HTML } from './dashboard.js';
import { ResponseTooLargeError, hex, toJson } from './json.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { clusterViewOf, nodeSummary, type ControlInfo } from './node-view.js';
import { ApiError, readElection, readGame, readTreeNode, znodePath } from './tree-api.js';
import {
  CONTROL_ACTIONS,
  type AdminServerOptions,
  type AdminSource,
  type ClusterView,
  type ClusterViewInput,
  type ControlAction,
  type NodeSummary,
} from './types.js';

interface Log {
  info(message: string, meta?: object): unknown;
  warn(message: string, meta?: object): unknown;
}

const MAX_SSE_BUFFER = 1024 * 1024;
const CONTROL_TIMEOUT_MS = 60_000;

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The hostname of a Host header (`a:1`, `[::1]:2`, `a`). */
export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const i = hostHeader.lastIndexOf(':');
  return i >= 0 ? hostHeader.slice(0, i) : hostHeader;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export class AdminServer {
  private readonly server: http.Server;
  private readonly streams = new Set<ServerResponse>();
  private readonly host: string;
  private readonly stateIntervalMs: number;
  private readonly changeThrottleMs: number;
  private readonly maxStreams: number;
  private readonly clusterTimeoutMs: number;
  private stateTimer: NodeJS.Timeout | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  private lastChangeZxid = -1n;
  private lastChangeSentAt = 0;
  private stateInFlight = false;
  private boundPort = 0;
  private closed = false;

  private constructor(
    private readonly src: AdminSource,
    private readonly options: AdminServerOptions,
    private readonly log: Log,
  ) {
    this.host = options.host ?? '127.0.0.1';
    this.stateIntervalMs = options.stateIntervalMs ?? 1000;
    this.changeThrottleMs = options.changeThrottleMs ?? 250;
    this.maxStreams = options.maxEventStreams ?? 32;
    this.clusterTimeoutMs = options.clusterViewTimeoutMs ?? 800;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 64;
    this.server.maxConnections = 256;
  }

  static async start(src: AdminSource, options: AdminServerOptions, log: Log = { info: () => undefined, warn: () => undefined }): Promise<AdminServer> {
    const admin = new AdminServer(src, options, log);
    await new Promise<void>((resolve, reject) => {
      admin.server.once('error', reject);
      admin.server.listen(options.port, admin.host, () => {
        admin.server.off('error', reject);
        resolve();
      });
    });
    admin.boundPort = (admin.server.address() as AddressInfo).port;
    admin.server.on('error', (e) => log.warn('admin server error', { error: e.message }));
    log.info('admin server listening', { url: admin.url, control: admin.controlInfo().available });
    return admin;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h}:${this.boundPort}/`;
  }

  get eventStreams(): number {
    return this.streams.size;
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.stateTimer);
    clearInterval(this.changeTimer);
    for (const s of this.streams) s.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- views ---------------------------------------------------------------------------

  private controlInfo(): ControlInfo {
    const c = this.options.control;
    if (!c) return { available: false, actions: [], reason: 'no cluster launcher supplies node control (standalone server)' };
    if (!isLoopbackHost(this.host) && !this.options.allowRemoteControl) {
      return { available: false, actions: [], reason: `control is off on a non-loopback bind (${this.host}); enable allowRemoteControl to serve it` };
    }
    return { available: true, actions: [...(c.actions ?? CONTROL_ACTIONS)], reason: null };
  }

  private self(): NodeSummary {
    return nodeSummary(this.src, this.url);
  }

  async clusterView(): Promise<ClusterView> {
    const self = this.self();
    const control = this.controlInfo();
    const provider = this.options.clusterView;
    if (!provider) return clusterViewOf(self, undefined, control);
    try {
      const input: ClusterViewInput = await withTimeout(Promise.resolve().then(provider), this.clusterTimeoutMs, 'the cluster view');
      return clusterViewOf(self, input, control);
    } catch (e) {
      return clusterViewOf(self, undefined, control, `cluster view unavailable: ${(e as Error).message}`);
    }
  }

  // ---- HTTP ----------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume(); // bodies are not read; drain whatever comes
    res.on('error', () => undefined);
    this.route(req, res).catch((e: unknown) => {
      this.log.warn('admin request failed', { url: req.url, error: (e as Error).message });
      if (!res.headersSent) this.json(res, 500, { error: `internal error: ${(e as Error).message}` });
      else res.destroy();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      return this.json(res, 400, { error: 'malformed request URL' });
    }
    if (isLoopbackHost(this.host)) {
      const host = req.headers.host;
      if (host !== undefined && !isLoopbackHost(hostnameOf(host))) {
        return this.json(res, 403, { error: `Host ${JSON.stringify(host)} is not a loopback name; this admin server only answers loopback names` });
      }
    }
    const method = req.method ?? 'GET';
    const p = url.pathname;

    if (p.startsWith('/api/control/')) {
      if (method !== 'POST') return this.methodNotAllowed(res, 'POST');
      const auth = checkToken(this.options.token, req.headers.authorization, 'node control');
      if (!auth.ok) return this.refuse(res, auth.status, auth.error);
      return this.control(req, res, p.slice('/api/control/'.length), url);
    }
    if (method !== 'GET' && method !== 'HEAD') return this.methodNotAllowed(res, 'GET, HEAD');

    if (p === '/' || p === '/index.html') return this.send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, { 'Content-Security-Policy': CSP });
    if (p === '/commands' || p === '/commands/') return this.commandIndex(res);
    if (p.startsWith('/commands/')) {
      const name = decodeURIComponentSafe(p.slice('/commands/'.length));
      if (name === undefined || name.length > 64) return this.json(res, 400, { command: null, error: 'malformed command name' });
      if (commandChangesState(name)) {
        const auth = checkToken(this.options.token, req.headers.authorization, `the ${name} command`);
        if (!auth.ok) return this.refuse(res, auth.status, auth.error);
      }
      const r = runCommand(this.src, name);
      return this.json(res, r.status, r.body);
    }
    if (p === '/metrics') return this.send(res, 200, METRICS_CONTENT_TYPE, renderMetrics(this.src, { eventStreams: this.streams.size }));
    if (p === '/events') return this.events(req, res);

    const authIds = this.identity(req);
    try {
      switch (p) {
        case '/api/node':
          return this.json(res, 200, this.self());
        case '/api/cluster':
          return this.json(res, 200, await this.clusterView());
        case '/api/tree':
          return this.json(res, 200, readTreeNode(this.src.stateView(), znodePath(url.searchParams.get('path'), '/'), authIds));
        case '/api/elections':
          return this.json(res, 200, readElection(this.src.stateView(), znodePath(url.searchParams.get('path'), '/election'), authIds));
        case '/api/game':
          return this.json(res, 200, readGame(this.src.stateView(), znodePath(url.searchParams.get('path'), '/game'), authIds));
        case '/api/control':
          return this.json(res, 200, this.controlInfo());
        default:
          return this.json(res, 404, { error: `no such endpoint: ${p}`, endpoints: ENDPOINTS });
      }
    } catch (e) {
      if (e instanceof ApiError) return this.json(res, e.status, { error: e.message, code: e.code });
      throw e;
    }
  }

  /** The ACL identity of an unauthenticated ZooKeeper client from the same address. */
  private identity(req: IncomingMessage): Id[] {
    return [{ scheme: 'ip', id: normalizeAddress(req.socket.remoteAddress ?? '') }];
  }

  private commandIndex(res: ServerResponse): void {
    const links = COMMAND_NAMES.map((n) => `<a href="/commands/${n}">${n}</a>`).join('<br/>\n');
    this.send(res, 200, 'text/html; charset=utf-8', `<!doctype html><title>commands</title>\n${links}\n`, { 'Content-Security-Policy': CSP });
  }

  private async control(req: IncomingMessage, res: ServerResponse, actionRaw: string, url: URL): Promise<void> {
    const action = actionRaw as ControlAction;
    if (!(CONTROL_ACTIONS as readonly string[]).includes(action)) {
      return this.json(res, 404, { error: `unknown control action ${JSON.stringify(actionRaw)}; one of ${CONTROL_ACTIONS.join(', ')}` });
    }
    const idRaw = url.searchParams.get('id');
    const base = { action, id: idRaw === null ? null : Number(idRaw) };
    const info = this.controlInfo();
    if (!this.options.control) return this.json(res, 501, { ...base, error: `node control is not available: ${info.reason}` });
    if (!info.available) return this.json(res, 403, { ...base, error: info.reason });
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let originHost: string | undefined;
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = undefined;
      }
      if (originHost !== req.headers.host) return this.json(res, 403, { ...base, error: `cross-origin control request from ${origin} refused` });
    } else if (origin === 'null') {
      return this.json(res, 403, { ...base, error: 'control requests from an opaque origin are refused' });
    }
    if (idRaw === null || !/^\d{1,3}$/.test(idRaw) || Number(idRaw) > 255) {
      return this.json(res, 400, { ...base, error: 'id must be a server id, a whole number 0-255 (e.g. ?id=2)' });
    }
    if (!info.actions.includes(action)) return this.json(res, 501, { ...base, error: `this launcher does not support ${action}` });
    const id = Number(idRaw);
    try {
      const result = await withTimeout(Promise.resolve().then(() => this.options.control!.perform(action, id)), CONTROL_TIMEOUT_MS, `${action} of node ${id}`);
      this.log.info('node control', { action, id });
      return this.json(res, 200, { ok: true, action, id, ...(result === undefined ? {} : { result }) });
    } catch (e) {
      const status = (e as { status?: unknown }).status;
      const code = typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
      return this.json(res, code, { ...base, id, error: (e as Error).message ?? String(e) });
    }
  }

  private refuse(res: ServerResponse, status: 401 | 403, error: string): void {
    this.json(res, status, { error }, status === 401 ? { 'WWW-Authenticate': 'Bearer realm="zk-elect admin"' } : {});
  }

  private methodNotAllowed(res: ServerResponse, allow: string): void {
    this.json(res, 405, { error: `method not allowed; use ${allow}` }, { Allow: allow });
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    let text: string;
    try {
      text = toJson(body);
    } catch (e) {
      if (!(e instanceof ResponseTooLargeError)) throw e;
      status = 500;
      text = toJson({ error: e.message });
    }
    this.send(res, status, 'application/json; charset=utf-8', text + '\n', headers);
  }

  private send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      ...headers,
    });
    res.end(body);
  }

  // ---- Server-Sent Events ----------------------------------------------------------------

  private events(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'HEAD') return this.send(res, 200, 'text/event-stream', '');
    if (this.streams.size >= this.maxStreams) {
      return this.json(res, 503, { error: `too many event streams open (${this.maxStreams}); close one and retry` }, { 'Retry-After': '5' });
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.socket?.setNoDelay(true);
    res.write('retry: 2000\n\n');
    this.streams.add(res);
    const drop = () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.stopTimers();
    };
    // Not req's 'close': that fires once the (empty) request body has been read.
    res.on('close', drop);
    this.startTimers();
    void this.clusterView().then((view) => this.sendEvent(res, 'state', this.stateEvent(view)));
  }

  private stateEvent(view: ClusterView): unknown {
    const node = view.nodes.find((n) => n.self) ?? this.self();
    return { at: view.at, node, cluster: view };
  }

  private startTimers(): void {
    if (this.stateTimer || this.closed) return;
    this.lastChangeZxid = this.src.stateView().lastProcessedZxid;
    this.stateTimer = setInterval(() => void this.broadcastState(), this.stateIntervalMs);
    this.changeTimer = setInterval(() => this.pollChange(), Math.min(100, this.changeThrottleMs));
    this.stateTimer.unref();
    this.changeTimer.unref();
  }

  private stopTimers(): void {
    clearInterval(this.stateTimer);
    clearInterval(this.changeTimer);
    this.stateTimer = undefined;
    this.changeTimer = undefined;
  }

  private async broadcastState(): Promise<void> {
    if (this.stateInFlight || this.streams.size === 0) return;
    this.stateInFlight = true;
    try {
      const event = this.stateEvent(await this.clusterView());
      for (const s of this.streams) this.sendEvent(s, 'state', event);
    } catch (e) {
      this.log.warn('admin state event failed', { error: (e as Error).message });
    } finally {
      this.stateInFlight = false;
    }
  }

  /** A `change` event when the tree moved on, at most one per changeThrottleMs. */
  private pollChange(): void {
    if (this.streams.size === 0) return;
    const state = this.src.stateView();
    const zxid = state.lastProcessedZxid;
    if (zxid === this.lastChangeZxid) return;
    const now = Date.now();
    if (now - this.lastChangeSentAt < this.changeThrottleMs) return;
    const event = { at: now, zxid: hex(zxid), previousZxid: hex(this.lastChangeZxid < 0n ? 0n : this.lastChangeZxid), znodeCount: state.tree.nodeCount };
    this.lastChangeZxid = zxid;
    this.lastChangeSentAt = now;
    for (const s of this.streams) this.sendEvent(s, 'change', event);
  }

  private sendEvent(res: ServerResponse, name: string, data: unknown): void {
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength > MAX_SSE_BUFFER) {
      // A reader this far behind is not reading: drop it (EventSource reconnects).
      this.streams.delete(res);
      res.destroy();
      return;
    }
    let text: string;
    try {
      text = toJson(data, { indent: 0 });
    } catch (e) {
      text = toJson({ error: (e as Error).message }, { indent: 0 });
    }
    res.write(`event: ${name}\ndata: ${text}\n\n`);
  }
}

function decodeURIComponentSafe(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ENDPOINTS = [
  'GET /',
  'GET /commands/<name> (crst and srst need the admin token)',
  'GET /metrics',
  'GET /events',
  'GET /api/node',
  'GET /api/cluster',
  'GET /api/tree?path=/',
  'GET /api/elections?path=/election',
  'GET /api/game?path=/game',
  'GET /api/control',
  'POST /api/control/{kill|pause|resume|restart}?id=N (needs the admin token)',
];
