/**
 * kazoo (Debian's python3-kazoo) as a real third-party client, driven from tests: one
 * Python process per client, taking commands on stdin and answering one JSON line each.
 * Debian installs kazoo for /usr/bin/python3, not for another python3 that may come first
 * on PATH.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export const PYTHON = '/usr/bin/python3';

export function hasKazoo(): boolean {
  return spawnSync(PYTHON, ['-c', 'import kazoo'], { stdio: 'ignore' }).status === 0;
}

export interface KazooOptions {
  hosts: string;
  useSsl?: boolean;
  ca?: string;
  certfile?: string;
  keyfile?: string;
  /** Bound on connecting (seconds). Default 5. */
  timeoutS?: number;
}

const DRIVER = String.raw`
import json, sys, logging
logging.basicConfig(level=logging.CRITICAL)
from kazoo.client import KazooClient
o = json.loads(sys.argv[1])
def out(**kw):
    sys.stdout.write(json.dumps(kw) + "\n"); sys.stdout.flush()
kw = dict(hosts=o["hosts"], timeout=o.get("timeoutS", 5), connection_retry={"max_tries": 0})
if o.get("useSsl"):
    kw.update(use_ssl=True, verify_certs=True, ca=o.get("ca"), certfile=o.get("certfile"), keyfile=o.get("keyfile"))
zk = KazooClient(**kw)
try:
    zk.start(timeout=o.get("timeoutS", 5))
except Exception as e:
    out(ok=False, error=type(e).__name__ + ": " + str(e)); sys.exit(0)
out(ok=True, session=hex(zk.client_id[0]))
for line in sys.stdin:
    c = json.loads(line)
    try:
        if c["op"] == "create":
            out(ok=True, path=zk.create(c["path"], c["data"].encode()))
        elif c["op"] == "get":
            out(ok=True, data=zk.get(c["path"])[0].decode(), session=hex(zk.client_id[0]), state=zk.state)
        elif c["op"] == "stop":
            zk.stop(); zk.close(); out(ok=True); break
    except Exception as e:
        out(ok=False, error=type(e).__name__ + ": " + str(e))
`;

/** One kazoo client in its own process. `started` says whether `zk.start()` connected. */
export class Kazoo {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static async start(o: KazooOptions): Promise<{ kazoo: Kazoo; started: { ok: boolean; session?: string; error?: string } }> {
    const child = spawn(PYTHON, ['-c', DRIVER, JSON.stringify(o)], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.resume();
    const kazoo = new Kazoo(child);
    const started = (await kazoo.next(((o.timeoutS ?? 5) + 10) * 1000)) as { ok: boolean; session?: string; error?: string };
    return { kazoo, started };
  }

  async call(cmd: Record<string, string>, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    this.child.stdin.write(JSON.stringify(cmd) + '\n');
    return this.next(timeoutMs);
  }

  private async next(timeoutMs: number): Promise<Record<string, unknown>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`kazoo gave no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.lines.next(), timeout]);
      if (r.done) throw new Error('the kazoo process ended without an answer');
      return JSON.parse(r.value) as Record<string, unknown>;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the process (after `stop` if it is still connected). */
  async end(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}
