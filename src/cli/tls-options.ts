/**
 * `--tls-ca/--tls-cert/--tls-key` for the commands that connect as clients (join, watch,
 * status, run, game). Any of them turns TLS on: the wire transport speaks it itself, the C
 * client reaches the servers through the library's TLS tunnels. The files are read and
 * checked before the command runs; a wrong one is a usage error (exit 2) naming the file.
 */
import { Option, type Command } from 'commander';
import type { TlsOptions } from '../election/tls-tunnel.js';
import { loadTlsFiles, TlsFileError } from '../tls-files.js';

export interface TlsCliOptions {
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Set by the preAction hook from the three above. */
  tls?: TlsOptions;
}

export function addTlsOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--tls-ca <file>', 'connect over TLS; the servers\' certificates must chain to these CA certificates (PEM; default: Node\'s bundled CAs)'))
    .addOption(new Option('--tls-cert <file>', 'connect over TLS with this client certificate (PEM), for servers that require one'))
    .addOption(new Option('--tls-key <file>', 'the client certificate\'s private key (PEM)'))
    .hook('preAction', (_program, action) => {
      const o = action.opts<TlsCliOptions>();
      if (o.tlsCa === undefined && o.tlsCert === undefined && o.tlsKey === undefined) return;
      if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) action.error('error: --tls-cert and --tls-key go together', { exitCode: 2 });
      try {
        const m = loadTlsFiles({
          ...(o.tlsCa === undefined ? {} : { ca: o.tlsCa }),
          ...(o.tlsCert === undefined ? {} : { cert: o.tlsCert }),
          ...(o.tlsKey === undefined ? {} : { key: o.tlsKey }),
        });
        action.setOptionValue('tls', { ...(m.ca ? { ca: m.ca } : {}), ...(m.cert ? { cert: m.cert } : {}), ...(m.key ? { key: m.key } : {}) } satisfies TlsOptions);
      } catch (e) {
        if (e instanceof TlsFileError) action.error(`error: ${e.message}`, { exitCode: 2 });
        throw e;
      }
    });
}
