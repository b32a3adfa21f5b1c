import type { LeaderInfo } from '../election/candidates.js';
import { candidateElection, openSession, onShutdown, reportElection } from './connect.js';
import type { CommonOptions } from './options.js';
import { ChildSupervisor } from './supervisor.js';

export interface RunOptions extends CommonOptions {
  grace: number;
  restart: boolean;
}

/** Exit code for a child that died of a signal, as shells report it. */
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/**
 * `zk-elect run -- cmd...`: run `cmd` only while this candidate leads. The command gets
 * ZK_ELECT_TOKEN/NODE/ID; on loss its whole process group is stopped (TERM, grace, KILL).
 */
export async function runCommand(command: string[], opts: RunOptions): Promise<void> {
  const { reporter, session, logger } = await openSession(opts);
  let shuttingDown = false;
  // A named handoff waits until our command has stopped before the target may start its own.
  const election = candidateElection(opts, session, logger, () => supervisor.stop());
  reportElection(election, reporter);

  const supervisor = new ChildSupervisor(command, opts.grace, logger, (exit) => {
    const code = exit.code ?? 128 + (exit.signal ? SIGNAL_NUMBERS[exit.signal] ?? 1 : 1);
    reporter.event('exited', `command exited with ${exit.signal ?? `code ${exit.code}`}${exit.stoppedByUs ? ' (stopped by zk-elect)' : ''}`, {
      id: opts.id,
      code: exit.code,
      signal: exit.signal,
      stoppedByUs: exit.stoppedByUs,
    });
    if (shuttingDown) return;
    if (exit.stoppedByUs) {
      // Leadership may have come back (same session) while we were stopping it.
      if (election.isLeader && election.currentLeader) startChild(election.currentLeader);
      return;
    }
    if (opts.restart) {
      void election.resign({ requeue: true }).catch((e) => logger.error('could not re-queue', { error: (e as Error).message }));
      return;
    }
    shuttingDown = true;
    void (async () => {
      await election.close();
      await session.close();
      process.exit(code);
    })();
  });

  const startChild = (leader: LeaderInfo) => {
    if (shuttingDown || supervisor.running) return;
    const pid = supervisor.start({ ZK_ELECT_TOKEN: leader.token.toString(), ZK_ELECT_NODE: leader.path, ZK_ELECT_ID: leader.id });
    reporter.event('started', `started ${JSON.stringify(command.join(' '))} as pid ${pid} with token ${leader.token}`, {
      id: leader.id,
      pid,
      token: Number(leader.token),
      node: leader.node,
    });
  };
  election.on('elected', startChild);
  election.on('lost', () => {
    if (supervisor.running) void supervisor.stop();
  });


  onShutdown(async () => {
    shuttingDown = true;
    await supervisor.stop();
    await election.close();
    await session.close();
  });
  reporter.event('joining', `joining ${opts.path} at ${opts.connect} as ${opts.id} to run ${JSON.stringify(command.join(' '))}`, {
    id: opts.id,
    path: opts.path,
    session: session.sessionId,
  });
  await election.join();
}
