/** Seeded workloads over SimFileSystem, for the unit tests and for probing storage code. */
import { TxnLog } from '../../../src/server/storage/txn-log.js';
import { Prng } from '../prng.js';
import type { CrashTuning } from './sim-fs.js';
import { rig, syncDir, writeFile } from './test-kit.js';

/** A seeded mix of writes, syncs, renames and unlinks, cut by a crash; returns everything observable. */
export async function randomFsWorkload(seed: number): Promise<string> {
  const { fs, loop, go } = rig(seed, { latencyMs: { min: 0, max: 3 } });
  const rng = new Prng(seed ^ 0x5eed);
  await go(async () => {
    await fs.mkdir('/d', { recursive: true });
    for (let i = 0; i < 40; i++) {
      const name = `/d/f${rng.int(0, 4)}`;
      const data = Buffer.from(Array.from({ length: rng.int(1, 700) }, () => rng.int(0, 255)));
      const op = rng.int(0, 3);
      if (op === 0) await writeFile(fs, name, data, { sync: rng.chance(0.5) });
      else if (op === 1) await fs.rename(name, `/d/f${rng.int(0, 4)}`).catch(() => undefined);
      else if (op === 2) await syncDir(fs, rng.pick(['/', '/d']));
      else await fs.unlink(name).catch(() => undefined);
    }
  });
  fs.crash();
  return JSON.stringify({ now: loop.now, files: fs.listFiles().map((p) => [p, fs.readVolatile(p)!.toString('hex')]), counters: fs.counters });
}

export interface TxnLogObservation {
  /** Payloads (zxid = index + 1) that this incarnation's TxnLog.open returned. */
  recovered: string[];
  /** What had been appended, and how many of those a resolved flush() (or open) had confirmed, before the crash. */
  appended: string[];
  confirmed: number;
  /** Whether the previous incarnation got through its whole workload before the crash. */
  finished: boolean;
}

/**
 * The real TxnLog on SimFileSystem over several incarnations: each opens the log (recovering
 * it), appends and flushes rounds of records, and is cut by a power failure at a seeded moment
 * (mid-recovery, mid-write, mid-roll, mid-sync). Returns what each reopening found against what
 * had been appended and confirmed, and any error a TxnLog call threw.
 */
export async function txnLogCrashRun(seed: number, o: { incarnations?: number; crash?: CrashTuning } = {}) {
  const { fs, loop, go } = rig(seed, o.crash ? { crash: o.crash } : {});
  const rng = new Prng(seed ^ 0x10c);
  const opts = { fs, maxSegmentBytes: 400 };
  await go(async () => {
    // As DataDir.open does: the log directory's own name must be durable before the log is.
    await fs.mkdir('/data/log', { recursive: true });
    await syncDir(fs, '/data');
    await syncDir(fs, '/');
  });
  let appended: string[] = [];
  let confirmed = 0;
  let finished = true;
  const observations: TxnLogObservation[] = [];
  const errors: unknown[] = [];
  const observe = (recovered: string[]): void => {
    observations.push({ recovered, appended, confirmed, finished });
    // The log continues from what it holds; open() synced it, so all of it is now confirmed.
    appended = [...recovered];
    confirmed = recovered.length;
  };
  for (let inc = 0; inc < (o.incarnations ?? 3); inc++) {
    finished = false;
    const work = (async () => {
      const { log, records } = await TxnLog.open('/data/log', opts);
      if (inc > 0) observe(records.map((r) => r.payload.toString()));
      for (let round = 0; round < 12; round++) {
        for (let i = rng.int(1, 4); i > 0; i--) {
          const payload = `i${inc}r${appended.length + 1}:${'p'.repeat(rng.int(0, 90))}`;
          appended.push(payload);
          log.append(BigInt(appended.length), Buffer.from(payload));
        }
        const upTo = appended.length;
        await log.flush();
        confirmed = Math.max(confirmed, upTo);
      }
      await log.close();
      finished = true;
    })();
    work.catch((err: unknown) => errors.push(err));
    await loop.runSteps(rng.int(0, 120));
    loop.dropAll();
    fs.crash();
  }
  await go(async () => {
    const { log, records } = await TxnLog.open('/data/log', opts);
    observe(records.map((r) => r.payload.toString()));
    await log.close();
  }).catch((err: unknown) => errors.push(err));
  return { observations, errors, fs };
}
