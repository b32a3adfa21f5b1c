/**
 * Test certificates, made at test time with the `openssl` command (Debian's openssl package;
 * .ci/run installs it): a CA, certificates it signs for servers (valid for 127.0.0.1 and
 * localhost) and clients, an expired one, and a second, unrelated CA with a certificate of
 * its own, for the "signed by someone else" cases. EC P-256 keys: quick to make.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  ca: string;
  server: CertPair;
  client: CertPair;
  /** Signed by our CA, but expired. */
  expired: CertPair;
  /** Signed by our CA, valid only for the name `elsewhere.invalid` (no IP). */
  wrongHost: CertPair;
  /** A second CA and a server/client certificate it signed (valid for 127.0.0.1). */
  otherCa: string;
  other: CertPair;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

function makeLeaf(dir: string, ca: string, name: string, san: string, dates?: { start: string; end: string }): CertPair {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`);
  if (dates) {
    // `openssl x509` cannot back-date; `openssl ca` can, with a throwaway database.
    const cnf = path.join(dir, `${name}-ca.cnf`);
    fs.writeFileSync(path.join(dir, `${name}-index.txt`), '');
    fs.writeFileSync(
      cnf,
      `[ca]\ndefault_ca=d\n[d]\ndatabase=${name}-index.txt\nnew_certs_dir=.\nserial=${name}-serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n`,
    );
    fs.writeFileSync(path.join(dir, `${name}-serial`), '01\n');
    openssl(['ca', '-batch', '-config', cnf, '-cert', `${ca}.pem`, '-keyfile', `${ca}-key.pem`, '-in', `${name}.csr`, '-out', `${name}.pem`, '-startdate', dates.start, '-enddate', dates.end, '-extfile', ext, '-notext'], dir);
  } else {
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', '-sha256', '-extfile', ext], dir);
  }
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}-key.pem`) };
}

/** Makes a fresh set of certificates in a temp directory (about a second). */
export function makeTestPki(): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-elect-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  const local = 'IP:127.0.0.1,DNS:localhost';
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    server: makeLeaf(dir, 'ca', 'server', local),
    client: makeLeaf(dir, 'ca', 'client', local),
    expired: makeLeaf(dir, 'ca', 'expired', local, { start: '20200101000000Z', end: '20200102000000Z' }),
    wrongHost: makeLeaf(dir, 'ca', 'wrong-host', 'DNS:elsewhere.invalid'),
    otherCa: path.join(dir, 'other-ca.pem'),
    other: makeLeaf(dir, 'other-ca', 'other', local),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
