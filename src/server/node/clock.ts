/** The server's view of time is the project's Clock (src/clock.ts). */
export * from '../../clock.js';
