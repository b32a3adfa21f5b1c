// ZooKeeper "four letter words": plain-text admin commands on the client port.
// The server writes its answer and closes, so reading to EOF is the protocol.
import net from 'node:net';

export type ZkMode = 'leader' | 'follower' | 'standalone' | 'unknown';

/** Splits "host:port" (IPv6 may be bracketed: "[::1]:2181"). */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!m) throw new Error(`not a host:port address: ${JSON.stringify(address)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

export function fourLetterWord(address: string, word: string, timeoutMs = 2000): Promise<string> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect({ host, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`four-letter word '${word}' to ${address} failed: ${why}`));
    };
    // Bounded: a SIGSTOPped server accepts (kernel backlog) but never answers.
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 * 1024) return fail('answer larger than 1 MiB');
      chunks.push(chunk);
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      fail(e.message);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Extracts the Mode line of a `srvr` answer. */
export function parseMode(srvr: string): ZkMode {
  const m = /^Mode: (\w+)/m.exec(srvr);
  switch (m?.[1]) {
    case 'leader':
    case 'follower':
    case 'standalone':
      return m[1];
    default:
      return 'unknown';
  }
}

export async function modeOf(address: string, timeoutMs = 2000): Promise<ZkMode> {
  try {
    return parseMode(await fourLetterWord(address, 'srvr', timeoutMs));
  } catch {
    return 'unknown';
  }
}

/**
 * Serving: one standalone server (or a one-member zk-elect cluster, which leads itself), or
 * all members lead/follow with exactly one leader.
 */
export function isEnsembleReady(modes: ZkMode[]): boolean {
  if (modes.length === 1) return modes[0] === 'standalone' || modes[0] === 'leader';
  return modes.every((m) => m === 'leader' || m === 'follower') && modes.filter((m) => m === 'leader').length === 1;
}
