/** A winston logger that keeps every entry in memory, so a test can count what a candidate did. */
import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../../src/log.js';

export interface LogEntry {
  readonly ts: number;
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export function captureLogger(level = 'debug'): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, done) {
      entries.push({ ...info, ts: Date.now(), level: String(info.level), message: String(info.message) });
      done();
    },
  });
  const logger = winston.createLogger({ level, transports: [new winston.transports.Stream({ stream })] });
  return { logger, entries };
}
