/**
 * Loading PEM files for TLS (the server's client port, quorum links, the library's tunnels),
 * checked up front so a wrong file fails at start with its name, not at the first handshake
 * with an OpenSSL code: unreadable, not PEM, a key that does not match its certificate, a
 * certificate that has expired or is not yet valid.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TlsFiles {
  /** This end's certificate chain (PEM), leaf first. */
  cert?: string;
  /** Its private key (PEM, unencrypted). */
  key?: string;
  /** The CA certificates (PEM) the other end's certificate must chain to. */
  ca?: string;
}

/** The loaded bytes, plus the file names for messages. */
export interface TlsMaterial {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
  files: TlsFiles;
}

export class TlsFileError extends Error {}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new TlsFileError(`cannot read the TLS ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Every certificate in a PEM bundle, parsed; at least one. */
function certificates(pem: Buffer, file: string, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new TlsFileError(`the TLS ${what} file ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new TlsFileError(`the TLS ${what} file ${file} holds a certificate that does not parse: ${(e as Error).message}`);
    }
  });
}

function checkDates(cert: X509Certificate, file: string, what: string, nowMs: number): void {
  if (Date.parse(cert.validTo) < nowMs) throw new TlsFileError(`the TLS ${what} in ${file} (${cert.subject.replace(/\n/g, ', ')}) expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > nowMs) throw new TlsFileError(`the TLS ${what} in ${file} (${cert.subject.replace(/\n/g, ', ')}) is not valid before ${cert.validFrom}`);
}

/**
 * Reads and checks the named files. `cert` and `key` go together; `requireIdentity` demands
 * them (a server always has one), `requireCa` demands a CA (mutual authentication).
 */
export function loadTlsFiles(files: TlsFiles, opts: { requireIdentity?: boolean; requireCa?: boolean; nowMs?: number } = {}): TlsMaterial {
  const nowMs = opts.nowMs ?? Date.now();
  if ((files.cert === undefined) !== (files.key === undefined)) throw new TlsFileError('a TLS certificate and its key go together: give both files or neither');
  if (opts.requireIdentity && files.cert === undefined) throw new TlsFileError('TLS needs a certificate and its key');
  if (opts.requireCa && files.ca === undefined) throw new TlsFileError('TLS with mutual authentication needs a CA file');
  const out: TlsMaterial = { files: { ...files } };
  if (files.cert !== undefined && files.key !== undefined) {
    const certPem = read(files.cert, 'certificate');
    const [leaf] = certificates(certPem, files.cert, 'certificate');
    const keyPem = read(files.key, 'key');
    let key;
    try {
      key = createPrivateKey(keyPem);
    } catch (e) {
      throw new TlsFileError(`the TLS key file ${files.key} holds no usable private key (PEM, unencrypted): ${(e as Error).message}`);
    }
    if (!leaf!.checkPrivateKey(key)) throw new TlsFileError(`the TLS key in ${files.key} does not belong to the certificate in ${files.cert}`);
    checkDates(leaf!, files.cert, 'certificate', nowMs);
    out.cert = certPem;
    out.key = keyPem;
  }
  if (files.ca !== undefined) {
    const caPem = read(files.ca, 'CA');
    const cas = certificates(caPem, files.ca, 'CA');
    if (cas.every((c) => Date.parse(c.validTo) < nowMs)) checkDates(cas[0]!, files.ca, 'CA certificate', nowMs);
    out.ca = caPem;
  }
  return out;
}
