/** Records every event an emitter fires, with a wall-clock stamp, and waits for them. */
import type { EventEmitter } from 'node:events';

export interface Recorded {
  event: string;
  ts: number;
  args: unknown[];
}

export class Recorder {
  readonly log: Recorded[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(emitter: EventEmitter<any>, events: readonly string[], readonly name = 'emitter') {
    for (const event of events) {
      emitter.on(event, (...args: unknown[]) => {
        this.log.push({ event, ts: Date.now(), args });
        for (const w of [...this.waiters]) w();
      });
    }
  }

  named(event: string, after = 0): Recorded[] {
    return this.log.filter((r) => r.event === event && r.ts >= after);
  }

  since(ts: number): Recorded[] {
    return this.log.filter((r) => r.ts >= ts);
  }

  describe(): string {
    return `${this.name}: ${this.log.map((r) => r.event).join(', ') || '(no events)'}`;
  }

  waitFor(event: string, timeoutMs: number, after = 0): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.log.find((r) => r.event === event && r.ts >= after);
        if (hit) {
          cleanup();
          resolve(hit);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no "${event}" within ${timeoutMs} ms; ${this.describe()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }
}

export const ELECTION_EVENTS = ['elected', 'following', 'suspended', 'reinstated', 'lost', 'resigned', 'error'] as const;
