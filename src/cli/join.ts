import { candidateElection, openSession, onShutdown, reportElection } from './connect.js';
import type { CommonOptions } from './options.js';

/** `zk-elect join`: stand for election and report every state change until stopped. */
export async function joinCommand(opts: CommonOptions): Promise<void> {
  const { reporter, session } = await openSession(opts);
  const election = candidateElection(opts, session, session.logger);
  reportElection(election, reporter);
  onShutdown(async () => {
    await election.close();
    await session.close();
  });
  reporter.event('joining', `joining ${opts.path} at ${opts.connect} as ${opts.id} (session ${session.sessionId}, timeout ${session.timeoutMs} ms)`, {
    id: opts.id,
    path: opts.path,
    session: session.sessionId,
    sessionTimeoutMs: session.timeoutMs,
    priority: opts.priority || undefined,
    meta: opts.meta,
  });
  await election.join();
}
