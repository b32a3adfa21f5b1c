/**
 * Logging goes through winston. Library objects take a logger; when none is given they use
 * a silent one, so importing the library never writes to the host application's stderr.
 */
import winston from 'winston';

export type Logger = winston.Logger;

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger that writes human-readable lines to stderr (stdout is for the CLI's output). */
export function createLogger(level: LogLevel = 'warn', label = 'zk-elect'): Logger {
  return winston.createLogger({
    level: level === 'silent' ? 'error' : level,
    silent: level === 'silent',
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.printf((info) => {
        const { level: lvl, message, timestamp, ...rest } = info;
        const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) : '';
        return `${String(timestamp)} ${label} ${lvl}: ${String(message)}${extra}`;
      }),
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug', 'verbose', 'silly'] })],
  });
}

let silent: Logger | undefined;
export function silentLogger(): Logger {
  silent ??= createLogger('silent');
  return silent;
}
