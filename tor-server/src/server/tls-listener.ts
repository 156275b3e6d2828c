import type net from 'node:net';
import tls from 'node:tls';
import { MIN_TLS_VERSION, type TlsIdentity } from '../options/tls.js';
import { clientAddress } from './client-address.js';
import type { Logger } from './logger.js';

/** Failed handshakes logged per minute; past that they are counted and summed up once, so a scan cannot flood the log. */
const HANDSHAKE_LOG_BUDGET = 10;
const LOG_WINDOW_MS = 60_000;

/** How many clients may be in their handshake at once: the server's limits, applied before a client is a connection. */
export interface HandshakeLimits {
  total: number;
  perAddress(address: string): number;
}

/**
 * A TLS listener that hands each client to `accept` once its handshake is done, with the same
 * TFTCP bytes inside. Clients still in their handshake count against `limits` (past them a
 * socket is closed at once, unread: a TLS refusal cannot be put in words before a handshake),
 * and one that has not finished within `handshakeTimeoutMs` is closed. Failed handshakes (a
 * plain `nc`, an untrusting client, a timeout) are one info line each, within a budget.
 */
export function createTlsListener(
  identity: TlsIdentity,
  options: { handshakeTimeoutMs: number; limits: HandshakeLimits; logger: Logger },
  accept: (socket: tls.TLSSocket) => void,
): tls.Server {
  const { limits, logger } = options;
  // Sockets in their handshake, by `address:port` (the same on the raw socket and its TLS socket).
  const pending = new Map<string, string>();
  const perAddress = new Map<string, number>();
  const settle = (key: string) => {
    const address = pending.get(key);
    if (address === undefined) return;
    pending.delete(key);
    const left = (perAddress.get(address) ?? 1) - 1;
    if (left > 0) perAddress.set(address, left);
    else perAddress.delete(address);
  };
  const keyOf = (socket: net.Socket) => `${socket.remoteAddress}:${socket.remotePort}`;

  const server = tls.createServer({ ...identity, minVersion: MIN_TLS_VERSION, allowHalfOpen: true, handshakeTimeout: options.handshakeTimeoutMs }, (socket) => {
    settle(keyOf(socket));
    accept(socket);
  });
  server.on('connection', (raw: net.Socket) => {
    const address = clientAddress(raw.remoteAddress);
    const fromAddress = perAddress.get(address) ?? 0;
    if (pending.size >= limits.total || fromAddress >= limits.perAddress(address)) {
      logger.debug('tls-handshake-refused', { client: `${address}:${raw.remotePort}`, handshaking: pending.size, from_address: fromAddress });
      raw.destroy();
      return;
    }
    const key = keyOf(raw);
    pending.set(key, address);
    perAddress.set(address, fromAddress + 1);
    // Node's own handshake timeout leaves some sockets open (one that half-closed, with
    // allowHalfOpen): this one closes whatever has not finished its handshake in time.
    const timer = setTimeout(() => pending.has(key) && raw.destroy(), options.handshakeTimeoutMs);
    raw.once('close', () => {
      clearTimeout(timer);
      settle(key);
    });
  });

  let windowStart = 0;
  let logged = 0;
  let unlogged = 0;
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => {
    // Node reports a handshake timeout here but leaves the socket open: close it, whatever went wrong.
    socket.destroy();
    // Gone before anyone saw who it was: refused at the limits above (logged there), or reset at once.
    if (socket.remoteAddress === undefined) return;
    const now = Date.now();
    if (now - windowStart >= LOG_WINDOW_MS) {
      if (unlogged > 0) logger.info('tls-handshakes-failed', { count: unlogged, window_s: LOG_WINDOW_MS / 1000 });
      windowStart = now;
      logged = 0;
      unlogged = 0;
    }
    if (logged++ < HANDSHAKE_LOG_BUDGET) logger.info('tls-handshake-failed', { client: `${clientAddress(socket.remoteAddress)}:${socket.remotePort}`, reason: error.code ?? error.message });
    else unlogged++;
  });
  return server;
}
