/**
 * Asking the current leader, from any client, to hand over to a named candidate (the
 * request side of handoff.ts). The request is an EPHEMERAL node that only the leader
 * watches; the leader answers by handing over and deleting it. If the leader dies first,
 * the request stays for the next leader (it goes only with our session).
 */
import { readCandidates, type LeaderInfo } from './candidates.js';
import { HandoffError, ZooKeeperError } from './errors.js';
import { createProtected } from './guard.js';
import { decodeRequest, encodeRequest } from './handoff-plan.js';
import { removeIfOurs } from './handoff.js';
import { joinPath, parseNode, REQUEST_NODE, validatePath } from './names.js';
import type { ZkSession } from './session.js';
import { ZkCode } from './zk-types.js';

export interface HandoffRequestOptions {
  /** The election path. */
  path: string;
  /** The target: a candidate's id, uuid or node name. */
  to: string;
  /** Give up after this long. Default 30000. */
  timeoutMs?: number;
  /** Who asks, for the leader's log. */
  by?: string;
}

export interface HandoffRequestResult {
  /** True when the target leads at the end (false: it already led, nothing was asked). */
  readonly handedOver: boolean;
  readonly leader: LeaderInfo;
}

/** Finds the one live candidate `to` names; throws HandoffError when none or several. */
export function resolveTarget(list: readonly LeaderInfo[], to: string): LeaderInfo {
  const matches = list.filter((c) => c.node === to || c.id === to || parseNode(c.node)?.uuid === to || c.nodes?.includes(to));
  if (matches.length === 0) throw new HandoffError(`no live candidate "${to}"`);
  if (matches.length > 1) throw new HandoffError(`"${to}" names ${matches.length} candidates (${matches.map((c) => c.node).join(', ')}): give a node name`);
  const target = matches[0]!;
  if (parseNode(target.node)?.uuid === undefined) throw new HandoffError(`${target.id} (${target.node}) is not a zk-elect candidate: it cannot take the lead by a handoff`);
  return target;
}

const sameCandidate = (a: LeaderInfo, b: LeaderInfo) => a.sessionId === b.sessionId && parseNode(a.node)?.prefix === parseNode(b.node)?.prefix;

/**
 * Asks the leader to hand over to `to` and waits until it leads (resolves), the leader
 * answered without handing over, or the time is up (rejects with HandoffError).
 */
export async function requestHandoff(session: ZkSession, options: HandoffRequestOptions): Promise<HandoffRequestResult> {
  const path = validatePath(options.path);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const list = await readCandidates(session, path);
  const target = resolveTarget(list, options.to);
  if (sameCandidate(list[0]!, target)) return { handedOver: false, leader: list[0]! };
  const requestPath = joinPath(path, REQUEST_NODE);
  try {
    await createProtected(session, requestPath, encodeRequest({ to: target.node, by: options.by }), 'ephemeral');
  } catch (e) {
    if (e instanceof ZooKeeperError && e.code === ZkCode.NODEEXISTS) throw new HandoffError(`another handoff request is pending at ${requestPath}`);
    throw e;
  }
  try {
    return await waitForOutcome(session, path, requestPath, target, timeoutMs);
  } finally {
    await removeIfOurs(session, requestPath).catch(() => undefined);
  }
}

/**
 * Re-reads on every change of the request node until the leader wrote its outcome into it.
 * If the request vanished without one (not our doing), the listing decides.
 */
function waitForOutcome(session: ZkSession, path: string, requestPath: string, target: LeaderInfo, timeoutMs: number): Promise<HandoffRequestResult> {
  return new Promise((resolve, reject) => {
    let done = false;
    let reading = false;
    let again = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      timer.cancel();
      fn();
    };
    const timer = session.clock.after(timeoutMs, () => finish(() => reject(new HandoffError(`${target.id} did not take the lead within ${timeoutMs} ms`))));
    const leaderNow = async () => (await readCandidates(session, path))[0];
    const look = async (): Promise<void> => {
      if (done) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          let answer: string | undefined;
          let why: string | undefined;
          try {
            const { data } = await session.getData(requestPath, () => void look());
            ({ outcome: answer, why } = decodeRequest(data) ?? {});
          } catch (e) {
            if (!(e instanceof ZooKeeperError && e.code === ZkCode.NONODE)) throw e;
            answer = 'gone';
          }
          if (answer === undefined) continue;
          const leader = await leaderNow();
          // 'taken': the target declared (it deletes the grant only then). A seat alone proves nothing:
          // a target can die between taking it and declaring. 'gone' (deleted by someone else): the listing decides.
          if ((answer === 'taken' || answer === 'gone') && leader && sameCandidate(leader, target)) return finish(() => resolve({ handedOver: true, leader }));
          const who = leader ? `${leader.id} leads` : 'nobody leads';
          return finish(() => reject(new HandoffError(`the handoff to ${target.id} did not happen: ${answer}${why ? ` (${why})` : ''}; ${who}`)));
        } while (again && !done);
      } catch (e) {
        finish(() => reject(e as Error));
      } finally {
        reading = false;
      }
    };
    void look();
  });
}
