/** Certificates for TLS tests, made by Debian's openssl in a scratch folder. */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';

const OPENSSL = 'openssl';
const DAYS = '2';
const CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
/** The names every test server answers on. */
const SERVER_NAMES = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';

/** PEM files (paths) and their text. */
export interface Certificates {
  /** A test CA, and a server certificate it signed for localhost and 127.0.0.1. */
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
  /** A second, self-signed certificate for the same names, trusted by nobody. */
  selfSignedFile: string;
  selfSignedKeyFile: string;
}

/** Makes a CA, a server certificate signed by it, and an unrelated self-signed one, in `dir`. */
export function makeCertificates(dir: string): Certificates {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync(OPENSSL, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(file('server.ext'), SERVER_NAMES);
  openssl('req', '-x509', ...CURVE, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', DAYS, '-subj', '/CN=tor-file-transfer test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...CURVE, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.crt'), '-days', DAYS, '-extfile', file('server.ext'));
  openssl('req', '-x509', ...CURVE, '-keyout', file('self.key'), '-out', file('self.crt'), '-days', DAYS, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  return {
    caFile: file('ca.crt'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    ca: readFileSync(file('ca.crt'), 'utf8'),
    cert: readFileSync(file('server.crt'), 'utf8'),
    key: readFileSync(file('server.key'), 'utf8'),
    selfSignedFile: file('self.crt'),
    selfSignedKeyFile: file('self.key'),
  };
}

/** The sha256 fingerprint of the certificate a TLS server on 127.0.0.1:`port` presents now. */
export async function servedCertificate(port: number): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerCertificate().fingerprint256;
  } finally {
    socket.destroy();
  }
}
