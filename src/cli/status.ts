import { readCandidates } from '../election/candidates.js';
import { openSession } from './connect.js';
import type { CommonOptions } from './options.js';
import { extensionFields, extensionText } from './report.js';

/** `zk-elect status`: print the candidates once, leader first, and exit. */
export async function statusCommand(opts: CommonOptions): Promise<void> {
  const { session } = await openSession(opts);
  try {
    const list = await readCandidates(session, opts.path);
    if (opts.json) {
      const out = {
        path: opts.path,
        leader: list[0] ? { id: list[0].id, node: list[0].node, token: Number(list[0].token), session: list[0].sessionId, ...extensionFields(list[0]) } : null,
        candidates: list.map((c) => ({
          id: c.id,
          node: c.node,
          sequence: c.sequence,
          session: c.sessionId,
          ...extensionFields(c),
          // A candidate that took the lead by a named handoff holds a seat, and keeps its other nodes.
          ...(c.seat ? { seat: true } : {}),
          ...((c.nodes?.length ?? 1) > 1 ? { nodes: c.nodes } : {}),
        })),
        ts: Date.now(),
      };
      process.stdout.write(JSON.stringify(out) + '\n');
    } else if (list.length === 0) {
      process.stdout.write(`${opts.path}: no candidates\n`);
    } else {
      process.stdout.write(`${opts.path}: ${list.length} candidate(s)\n`);
      list.forEach((c, i) =>
        process.stdout.write(
          `${i === 0 ? '* leader ' : `  ${String(i).padStart(6)} `} ${c.id}  (node ${c.node}${i === 0 ? `, token ${c.token}` : ''})${extensionText(c)}\n`,
        ),
      );
    }
  } finally {
    await session.close();
  }
}
