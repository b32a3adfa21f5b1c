/**
 * A pure (no I/O, no timers) codec for the ZooKeeper 3.8 client protocol: framing, the
 * session handshake, requests, replies and watch notifications, in both directions.
 */
export * from './constants.js';
export * from './jute.js';
export * from './records.js';
export * from './multi.js';
export * from './requests.js';
export * from './responses.js';
export * from './framing.js';
