import tls from 'node:tls';
import type { TlsIdentity } from '../options/tls.js';
import { clientAddress } from './client-address.js';
import type { Logger } from './logger.js';

/** Oldest TLS version offered: 1.0 and 1.1 are broken and no client of ours needs them. */
const MIN_TLS_VERSION = 'TLSv1.2';
/** Failed handshakes logged per minute; past that they are counted and summed up once, so a scan cannot flood the log. */
const HANDSHAKE_LOG_BUDGET = 10;
const LOG_WINDOW_MS = 60_000;

/**
 * A TLS listener that hands each client to `accept` once its handshake is done, with the same
 * TFTCP bytes inside. A client that does not finish its handshake within `handshakeTimeoutMs`
 * (the first-command timeout) is dropped; failed handshakes (a plain `nc`, an untrusting
 * client) are one info line each, within a budget.
 */
export function createTlsListener(identity: TlsIdentity, options: { handshakeTimeoutMs: number; logger: Logger }, accept: (socket: tls.TLSSocket) => void): tls.Server {
  const server = tls.createServer({ ...identity, minVersion: MIN_TLS_VERSION, allowHalfOpen: true, handshakeTimeout: options.handshakeTimeoutMs }, accept);
  let windowStart = 0;
  let logged = 0;
  let unlogged = 0;
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => {
    const now = Date.now();
    if (now - windowStart >= LOG_WINDOW_MS) {
      if (unlogged > 0) options.logger.info('tls-handshakes-failed', { count: unlogged, window_s: LOG_WINDOW_MS / 1000 });
      windowStart = now;
      logged = 0;
      unlogged = 0;
    }
    if (logged++ < HANDSHAKE_LOG_BUDGET) options.logger.info('tls-handshake-failed', { client: `${clientAddress(socket.remoteAddress)}:${socket.remotePort}`, reason: error.code ?? error.message });
    else unlogged++;
  });
  return server;
}

/** Swaps the certificate of a running listener: new handshakes use it, connections made keep theirs. */
export function replaceIdentity(server: tls.Server, identity: TlsIdentity): void {
  server.setSecureContext({ ...identity, minVersion: MIN_TLS_VERSION });
}
