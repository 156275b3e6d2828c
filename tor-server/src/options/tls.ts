/**
 * TLS settings both servers take (a certificate and its key, as PEM files) and the CA file a
 * client trusts, read once at start with errors that say which file is wrong and how.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { text } from './parsers.js';
import { ConfigError, option } from './table.js';

/** Oldest TLS version either server offers: 1.0 and 1.1 are broken and no client of ours needs them. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** A certificate chain and its private key, as PEM text. */
export interface TlsIdentity {
  cert: string;
  key: string;
}

/** Thrown when a TLS file is missing, unreadable or not what it should be; the message says which and what to do. */
export class TlsSetupError extends Error {}

/** The two option rows of a server that can speak TLS: `--tls-cert` and `--tls-key` (`<envPrefix>_TLS_CERT`, `<envPrefix>_TLS_KEY`). */
export function tlsServerOptions(envPrefix: string, what: string) {
  return {
    /** PEM certificate chain to serve over TLS; undefined: plain only. */
    tlsCert: option<string | undefined>({
      flag: 'tls-cert',
      env: `${envPrefix}_TLS_CERT`,
      help: `PEM certificate (chain) file: serve ${what} over TLS (needs --tls-key)`,
      parse: resolvedPath,
      default: undefined,
    }),
    tlsKey: option<string | undefined>({ flag: 'tls-key', env: `${envPrefix}_TLS_KEY`, help: 'PEM private key file of --tls-cert', parse: resolvedPath, default: undefined }),
  };
}

/** Refuses a certificate without its key or a key without its certificate. */
export function checkTlsPair(config: { tlsCert?: string; tlsKey?: string }, errorCode: string): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key go together: give both files (the certificate and its private key), or neither', errorCode);
  }
}

/**
 * Reads a certificate and its key and checks they make a usable pair, so a wrong file fails
 * the start instead of every client's handshake.
 */
export function readTlsIdentity(certFile: string, keyFile: string): TlsIdentity {
  const identity = { cert: readPem(certFile, '--tls-cert', 'CERTIFICATE'), key: readPem(keyFile, '--tls-key', 'PRIVATE KEY') };
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(identity.key)) {
    throw new TlsSetupError(`the key in ${keyFile} is encrypted with a passphrase, which a server cannot type at start: decrypt it (openssl pkey -in ${keyFile} -out plain.key) and keep that file readable by this user only`);
  }
  try {
    tls.createSecureContext(identity);
  } catch (error) {
    throw new TlsSetupError(`the key in ${keyFile} does not fit the certificate in ${certFile} (${(error as Error).message}): give the key the certificate was made for`);
  }
  return identity;
}

/** Reads the CA certificates a client trusts (`--ca`, `--tor-ca`). */
export function readCa(file: string, flag: string): string {
  return readPem(file, flag, 'CERTIFICATE');
}

function readPem(file: string, flag: string, label: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'this user may not read it' : (error as Error).message;
    throw new TlsSetupError(`${flag} ${file} could not be read: ${why}`);
  }
  if (!pem.includes(`-----BEGIN `) || !pem.includes(label)) throw new TlsSetupError(`${flag} ${file} is not a PEM file holding a ${label.toLowerCase()} (-----BEGIN ...${label}-----)`);
  return pem;
}

/** A path as given on the command line, made absolute against the working folder. */
function resolvedPath(value: string): string {
  return path.resolve(text(value));
}

/** Swaps the certificate of a running TLS server: new handshakes use it, connections made keep theirs. */
export function replaceIdentity(server: tls.Server, identity: TlsIdentity): void {
  server.setSecureContext({ ...identity, minVersion: MIN_TLS_VERSION });
}
