/**
 * What the CLI prints on stdout: one readable line per state change, or one JSON object per
 * line with `--json`. Diagnostics go to stderr through winston, never here.
 */
import type { CandidateInfo, LeaderInfo } from '../election/candidates.js';

/** JSON values; undefined ones are left out. */
export type Fields = Record<string, unknown>;

export class Reporter {
  constructor(private readonly json: boolean) {}

  /** `human` is the readable line; `fields` the JSON payload (event and ts are added). */
  event(event: string, human: string, fields: Fields = {}): void {
    if (this.json) {
      const out: Record<string, unknown> = { event };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
      out.ts = Date.now();
      process.stdout.write(JSON.stringify(out) + '\n');
    } else {
      const time = new Date().toISOString().slice(11, 23);
      process.stdout.write(`${time}  ${event.padEnd(10)} ${human}\n`);
    }
  }
}

/** Fencing tokens go out as JSON numbers: the C client hands czxid over as a double anyway. */
export function tokenField(token: bigint | undefined): number | undefined {
  return token === undefined ? undefined : Number(token);
}

export function leaderFields(l: LeaderInfo): Fields {
  return { id: l.id, node: l.node, token: tokenField(l.token), session: l.sessionId, ...extensionFields(l) };
}

/** Priority (when not 0) and metadata (when any), as `status`, `watch` and the events show them. */
export function extensionFields(c: CandidateInfo): Fields {
  return { priority: c.priority ? c.priority : undefined, meta: c.meta };
}

/** ` [priority 5] {"zone":"a"}` for readable lines; empty when neither is set. */
export function extensionText(c: CandidateInfo): string {
  return `${c.priority ? ` [priority ${c.priority}]` : ''}${c.meta ? ` ${JSON.stringify(c.meta)}` : ''}`;
}
