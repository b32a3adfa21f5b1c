/**
 * Sessions, judged from outside: a session the servers expired (a closeSession its client did
 * not send: cxid 0) must not have been vouched for by any server within its timeout before the
 * expiry took effect. "Vouched for" is any server answer to the session's client (a reply other
 * than SESSIONEXPIRED, or a successful reattach), counted from the request's send time, which
 * is what a client may rely on (the election library's loss deadline does exactly that).
 */
import { OpCode } from '../../../src/protocol/index.js';
import type { Recorder } from '../world/recorder.js';
import type { AppliedTxn } from '../world/world.js';

/** Clock rates differ by up to ±100 ppm between simulated hosts; allow for it and a millisecond. */
const SKEW = 2e-4;

export function checkSessionExpiries(recorder: Recorder, closes: readonly AppliedTxn[]): string[] {
  const expiredAt = new Map<bigint, number>();
  for (const t of closes) {
    if (t.result.type !== OpCode.closeSession || t.result.err !== 0 || t.result.cxid !== 0) continue;
    const prev = expiredAt.get(t.result.sessionId);
    if (prev === undefined || t.atMs < prev) expiredAt.set(t.result.sessionId, t.atMs);
  }
  const out: string[] = [];
  for (const rec of recorder.sessions.values()) {
    const e = expiredAt.get(rec.sessionId);
    if (e === undefined || rec.closeCalledAtMs !== undefined && rec.closeCalledAtMs <= e) continue;
    const earliest = rec.lastHeardSentMs + rec.timeoutMs * (1 - SKEW) - 1;
    if (e < earliest) {
      out.push(
        `session 0x${rec.sessionId.toString(16)} of ${rec.client} was expired at t=${Math.round(e)}, but a server answered its request sent at t=${Math.round(rec.lastHeardSentMs)} ` +
          `(received t=${Math.round(rec.lastHeardAtMs)}); with a ${rec.timeoutMs} ms timeout it must live until t=${Math.round(rec.lastHeardSentMs + rec.timeoutMs)}`,
      );
    }
  }
  return out;
}
