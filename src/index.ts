export * from './election/index.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
