import { requestHandoff } from '../election/request.js';
import { openSession } from './connect.js';
import type { CommonOptions } from './options.js';
import { extensionText, leaderFields } from './report.js';

export interface HandoffOptions extends CommonOptions {
  to: string;
  timeout: number;
}

/**
 * `zk-elect handoff --to ID`: from any terminal, ask the current leader to hand the lead to
 * the candidate ID, and wait until it leads (exit 0) or the handoff did not happen (exit 1).
 */
export async function handoffCommand(opts: HandoffOptions): Promise<void> {
  const { reporter, session } = await openSession(opts);
  try {
    const r = await requestHandoff(session, { path: opts.path, to: opts.to, timeoutMs: opts.timeout, by: `zk-elect handoff (pid ${process.pid})` });
    const l = r.leader;
    reporter.event(
      'handoff',
      r.handedOver ? `${l.id} now leads ${opts.path} (token ${l.token}, node ${l.node})${extensionText(l)}` : `${l.id} already leads ${opts.path}; nothing to do`,
      { ...leaderFields(l), handedOver: r.handedOver },
    );
  } finally {
    await session.close();
  }
}
