import { LeaderObserver } from '../election/observer.js';
import { openSession, onShutdown } from './connect.js';
import type { CommonOptions } from './options.js';
import { extensionFields, extensionText, leaderFields } from './report.js';

/** `zk-elect watch`: follow an election without standing in it. */
export async function watchCommand(opts: CommonOptions): Promise<void> {
  const { reporter, session } = await openSession(opts);
  const observer = new LeaderObserver(session, opts.path);
  observer.on('leader', (leader) => {
    if (leader) reporter.event('leader', `${leader.id} leads ${opts.path} (token ${leader.token}, node ${leader.node})${extensionText(leader)}`, leaderFields(leader));
    else reporter.event('leader', `nobody stands in ${opts.path}`, { id: null });
  });
  observer.on('candidates', (list) =>
    reporter.event('candidates', list.length ? list.map((c) => `${c.id}${extensionText(c)}`).join(' <- ') : '(none)', {
      ids: list.map((c) => c.id).join(','),
      count: list.length,
      candidates: list.map((c) => ({ id: c.id, node: c.node, ...extensionFields(c) })),
    }),
  );
  observer.on('error', (e) => reporter.event('error', e.message, { error: e.message }));
  onShutdown(async () => {
    await observer.close();
    await session.close();
  });
  await observer.start();
}
