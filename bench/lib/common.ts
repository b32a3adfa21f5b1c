/** Helpers shared by the issue-9 benchmarks: progress on stderr, waiting, probes, JSON output. */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ZkEnsemble, ZkMember } from '../../test/support/apache-zookeeper.js';
import { RawClient } from '../../test/support/raw-client.js';
import { percentile } from '../stats.js';

const T0 = performance.now();

/** One progress line on stderr, prefixed with the time since this process started. */
export function say(label: string, msg: string): void {
  const s = ((performance.now() - T0) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${s} s] ${label}: ${msg}\n`);
}

export { sleep };

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The leader (or the standalone server) of an ensemble, once it has one. */
export function leaderOf(zk: ZkEnsemble, ms = 120_000): Promise<ZkMember> {
  return waitFor('a leader', () => zk.leader(), ms);
}

/**
 * Time (ms since `t0`, a performance.now() instant) until `address` answers getData(path)
 * with OK on a fresh session. Each attempt is a new connection, bounded to 500 ms for the TCP
 * connect and handshake (a server that accepts while it is still loading may never answer
 * that connection: Apache ZooKeeper did not, for 60 s), then 10 ms before the next attempt.
 * Gives up after `limitMs`.
 */
export async function firstRead(address: string, znode: string, t0: number, limitMs: number): Promise<{ ms: number; attempts: number; lastError: string }> {
  let attempts = 0;
  let lastError = '';
  while (performance.now() - t0 < limitMs) {
    attempts++;
    let c: RawClient | undefined;
    try {
      c = await RawClient.connect(address, { timeoutMs: 30_000, handshakeTimeoutMs: 500, requestTimeoutMs: 60_000, autoPing: false });
      const r = await c.getData(znode);
      if (r.err === 0) {
        const ms = performance.now() - t0;
        c.destroy();
        return { ms, attempts, lastError };
      }
      lastError = r.errName;
    } catch (e) {
      lastError = (e as Error).message.split('\n')[0]!;
    }
    c?.destroy();
    await sleep(10);
  }
  return { ms: NaN, attempts, lastError };
}

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function latencySummary(samples: readonly number[]): LatencySummary {
  const s = Float64Array.from(samples).sort();
  const arr = Array.from(s);
  const mean = arr.reduce((a, b) => a + b, 0) / (arr.length || 1);
  return { n: arr.length, p50: percentile(arr, 50), p99: percentile(arr, 99), p999: percentile(arr, 99.9), max: arr.at(-1) ?? NaN, mean };
}

export function writeJson(file: string | undefined, value: unknown): void {
  if (!file) return;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 1) + '\n');
}

/** 1234567 -> "1,234,567" */
export const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

/** Parses "a,b" into the listed server kinds, in that order. */
export function parseList<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new Error(`${flag}: ${JSON.stringify(i)} is not one of ${allowed.join(', ')}`);
  return items as T[];
}

export function positiveInt(value: string | undefined, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`${flag} must be a whole number >= ${min}, got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}
