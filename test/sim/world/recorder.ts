/**
 * What the clients saw, in simulated time: every reply with the send time of its request, every
 * session state change, every protocol violation a client detected. Checkers judge this record
 * (and the servers' applied txns); nothing here looks inside a server.
 */
import type { ClientEvent } from '../../../src/client/types.js';
import type { SimHost } from '../io/host.js';

export interface SessionRecord {
  readonly client: string;
  readonly sessionId: bigint;
  timeoutMs: number;
  /** Simulated send time of the newest request a server answered (not with SESSIONEXPIRED). */
  lastHeardSentMs: number;
  /** Simulated receive time of that answer. */
  lastHeardAtMs: number;
  /** The client asked to close it (its ephemerals may go then). */
  closeCalledAtMs: number | undefined;
  /** The client learned the server expired it. */
  expiredSeenAtMs: number | undefined;
}

export interface Violation {
  readonly atMs: number;
  readonly what: string;
}

export class Recorder {
  readonly sessions = new Map<string, SessionRecord>();
  readonly violations: Violation[] = [];
  readonly trace: string[] = [];
  private readonly attemptStart = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  private key(client: string, sessionId: bigint): string {
    return `${client}/${sessionId}`;
  }

  session(client: string, sessionId: bigint): SessionRecord | undefined {
    return this.sessions.get(this.key(client, sessionId));
  }

  fail(what: string): void {
    this.violations.push({ atMs: this.now(), what });
  }

  /** The client's `onEvent`, with its host (to turn the client's clock into simulated time). */
  listener(host: SimHost, client: string, sessionTimeoutMs: () => number): (e: ClientEvent) => void {
    const clock = host.clock();
    return (e) => {
      const at = this.now();
      const toSim = (mono: number) => at - (clock.monoMs() - mono);
      switch (e.type) {
        case 'attempt':
          this.attemptStart.set(client, at);
          return;
        case 'state': {
          this.trace.push(`t=${Math.round(at)} ${client} ${e.prev}->${e.state} ${e.server ?? ''} 0x${e.sessionId.toString(16)}${e.reason ? ` (${e.reason})` : ''}`);
          if (e.sessionId === 0n) return;
          const rec = this.ensure(client, e.sessionId, sessionTimeoutMs());
          if (e.state === 'connected') {
            // A successful (re)attach: the server vouched for the session; the request left no
            // earlier than the attempt began.
            const sent = this.attemptStart.get(client) ?? at;
            if (sent > rec.lastHeardSentMs) rec.lastHeardSentMs = sent;
            rec.lastHeardAtMs = at;
            rec.timeoutMs = sessionTimeoutMs();
          } else if (e.state === 'expired') rec.expiredSeenAtMs ??= at;
          return;
        }
        case 'request':
          if (e.op === 'closeSession') {
            const rec = this.sessions.get(this.key(client, this.currentSession(client)));
            if (rec) rec.closeCalledAtMs ??= at;
          }
          return;
        case 'reply': {
          if (e.local || e.err === -112 /* SESSIONEXPIRED */) return;
          const sid = this.currentSession(client);
          if (sid === 0n) return;
          const rec = this.ensure(client, sid, sessionTimeoutMs());
          const sent = toSim(e.sentMs);
          if (sent > rec.lastHeardSentMs) rec.lastHeardSentMs = sent;
          rec.lastHeardAtMs = at;
          return;
        }
        case 'notification':
          // Every node event must match a watch this client registered (a watch fires once).
          if (e.event.type !== -1 && e.watchers === 0) this.fail(`client ${client}: a notification ${JSON.stringify(e.event)} for no registered watch (a watch fired twice?) from ${e.server ?? '?'}`);
          return;
        case 'violation':
          this.fail(`client ${client} (session 0x${e.sessionId.toString(16)}, server ${e.server ?? '?'}): ${e.kind}: ${e.detail}`);
          return;
        default:
          return;
      }
    };
  }

  /** Clients report their current session through `setSession`, since reply events do not carry it. */
  private readonly current = new Map<string, bigint>();
  setSession(client: string, sessionId: bigint): void {
    this.current.set(client, sessionId);
  }
  private currentSession(client: string): bigint {
    return this.current.get(client) ?? 0n;
  }

  private ensure(client: string, sessionId: bigint, timeoutMs: number): SessionRecord {
    const k = this.key(client, sessionId);
    let rec = this.sessions.get(k);
    if (!rec) {
      rec = { client, sessionId, timeoutMs, lastHeardSentMs: -Infinity, lastHeardAtMs: -Infinity, closeCalledAtMs: undefined, expiredSeenAtMs: undefined };
      this.sessions.set(k, rec);
      this.current.set(client, sessionId);
    }
    return rec;
  }
}
