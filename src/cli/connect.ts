/** Opening a session and an election from CLI options; shared by join, run, watch and status. */
import { LeaderElection } from '../election/election.js';
import { ZkSession } from '../election/session.js';
import { createLogger, type Logger } from '../log.js';
import type { CommonOptions } from './options.js';
import { extensionText, leaderFields, Reporter, tokenField } from './report.js';

export interface Context {
  readonly logger: Logger;
  readonly reporter: Reporter;
  readonly session: ZkSession;
}

export async function openSession(opts: CommonOptions, candidate: { lossDeadline?: number } = {}): Promise<Context> {
  const logger = createLogger(opts.logLevel);
  const reporter = new Reporter(opts.json);
  const session = await ZkSession.connect({
    connect: opts.connect,
    sessionTimeoutMs: opts.sessionTimeout,
    connectTimeoutMs: opts.connectTimeout,
    lossDeadlineRatio: candidate.lossDeadline ?? opts.lossDeadline ?? 0.5,
    logger,
    clientLogLevel: opts.logLevel === 'debug' ? 2 : 0,
    ...(opts.tls ? { tls: opts.tls } : {}),
    ...(opts.auth ? { auth: opts.auth } : {}),
    transport: opts.transport,
  });
  return { logger, reporter, session };
}

/** The election a candidate command (join, run) stands in, from its options. */
export function candidateElection(opts: CommonOptions, session: ZkSession, logger: Logger, beforeHandover?: () => Promise<void>): LeaderElection {
  return new LeaderElection(session, { path: opts.path, id: opts.id, logger, priority: opts.priority, preempt: opts.preempt, meta: opts.meta, beforeHandover });
}

/** Prints every state change of a candidate. */
export function reportElection(election: LeaderElection, reporter: Reporter): void {
  election.on('elected', (l) => reporter.event('elected', `this candidate (${l.id}) is the leader; token ${l.token}, node ${l.node}${extensionText(l)}`, leaderFields(l)));
  election.on('following', (f) =>
    reporter.event(
      'following',
      `waiting behind ${f.predecessor.id} (position ${f.position}); leader is ${f.leader?.id ?? 'unknown'}`,
      { id: f.self.id, node: f.self.node, predecessor: f.predecessor.id, predecessorNode: f.predecessor.node, leader: f.leader?.id, position: f.position },
    ),
  );
  election.on('suspended', (s) =>
    reporter.event(
      'suspended',
      `contact with ZooKeeper in doubt for ${s.sinceContactMs} ms (${s.reason})${s.role === 'leader' ? '; not acting as leader' : ''}`,
      { id: election.id, role: s.role, reason: s.reason, sinceContactMs: s.sinceContactMs },
    ),
  );
  election.on('reinstated', (r) =>
    reporter.event('reinstated', r.leader ? `contact confirmed; still the leader (token ${r.leader.token})` : 'contact confirmed; still a candidate', {
      id: election.id,
      role: r.role,
      token: tokenField(r.leader?.token),
    }),
  );
  election.on('lost', (l) =>
    reporter.event('lost', `${l.wasLeader ? 'leadership' : 'candidacy'} lost (${l.reason})`, {
      id: election.id,
      reason: l.reason,
      wasLeader: l.wasLeader,
      token: tokenField(l.token),
    }),
  );
  election.on('resigned', (r) =>
    reporter.event(
      'resigned',
      r.to !== undefined ? `handing the lead over to ${r.to}` : r.requeued ? 'resigned and re-queued at the back' : 'resigned and left the election',
      { id: election.id, wasLeader: r.wasLeader, requeued: r.requeued, to: r.to },
    ),
  );
  election.on('handoff', (h) =>
    reporter.event(
      'handoff',
      h.outcome === 'taken' ? `${h.id ?? h.to} took the lead (${h.reason}); waiting behind it` : `handoff to ${h.id ?? h.to} did not happen (${h.outcome}); the queue decides`,
      { id: election.id, to: h.to, toId: h.id, outcome: h.outcome, reason: h.reason },
    ),
  );
  election.on('error', (e) => reporter.event('error', e.message, { id: election.id, error: e.message }));
}

/** Runs `cleanup` once on SIGINT/SIGTERM, then exits with `code`. */
export function onShutdown(cleanup: (signal: NodeJS.Signals) => Promise<void>, code = 0): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    cleanup(signal)
      .catch((e) => process.stderr.write(`zk-elect: error while stopping: ${(e as Error).message}\n`))
      .finally(() => process.exit(code));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
