/** The worker thread that runs a session's TLS tunnels (see tls-tunnel.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { TlsTunnels, type TlsOptions } from './tls-tunnel.js';

const port = parentPort!;
const { connect, options } = workerData as { connect: string; options: TlsOptions };
// Buffers arrive as plain Uint8Arrays.
const asPem = (v: string | Uint8Array | undefined) => (v === undefined || typeof v === 'string' ? v : Buffer.from(v));
const pem: TlsOptions = {};
for (const k of ['ca', 'cert', 'key'] as const) {
  const v = asPem(options[k]);
  if (v !== undefined) pem[k] = v;
}

TlsTunnels.open(connect, pem).then(
  (tunnels) => {
    tunnels.onFailure = (why) => port.postMessage({ type: 'failure', why });
    port.on('message', (m: { type: string }) => {
      if (m.type === 'close') void tunnels.close().then(() => port.postMessage({ type: 'closed' }));
    });
    port.postMessage({ type: 'opened', connectString: tunnels.connectString });
  },
  (e: unknown) => port.postMessage({ type: 'failed', message: (e as Error).message }),
);
