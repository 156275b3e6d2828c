import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import { asGatewayError } from '../errors.js';
import type { Identities } from '../lib/identities.js';
import type { Identity } from '../lib/identity.js';
import { assertSameOrigin, type OriginPolicy } from '../lib/origin.js';
import type { UpstreamLink } from '../lib/upstream-link.js';
import { ApiPath, WS_CLOSE_SIGNED_OUT, WS_MAX_MESSAGE_BYTES } from '../api/index.js';
import { WS_TRY_AGAIN_LATER, WsSession } from '../ws/session.js';

export interface WsRoutesOptions {
  /** Each session's user (the cookie, or a Bearer token; none: anonymous): its commands run on that user's pool, its events come from that user's feed. */
  identities: Identities;
  link: UpstreamLink;
  origins: OriginPolicy;
  /** The tor-server's address, for messages. */
  upstreamAddress: string;
  /** Sessions one client address may hold. */
  maxPerAddress: number;
  /** Sessions in all. */
  maxSessions: number;
  /** Unsent reply bytes: the session stops reading requests above the first, and is closed above the second. */
  highWaterBytes?: number;
  maxBufferedBytes?: number;
  /** Protocol pings this often; two missed pongs drop the session. */
  pingIntervalMs?: number;
  /** Change events a session may have unsent before it is sent one resync instead. */
  maxUnsentChanges?: number;
}

// A refused socket gets this long to answer the close frame before it is cut.
const REFUSED_CLOSE_GRACE_MS = 1000;

// ws closes the socket (1009) above this; up to it the gateway answers oversize messages itself.
const HARD_MAX_PAYLOAD = 16 * WS_MAX_MESSAGE_BYTES;

/**
 * `GET /api/ws`: one WsSession per browser socket. Sessions cost gateway memory only (a user's
 * sessions share that user's command pool and change feed), and their number is capped per client address and in total: a
 * socket beyond a cap is closed at once with 1013 (try again later) and a reason naming it.
 */
export const wsRoutes: FastifyPluginAsync<WsRoutesOptions> = async (app, options) => {
  const { maxPerAddress, maxSessions } = options;
  if (!(maxPerAddress >= 1 && maxSessions >= 1)) throw new Error('wsRoutes: the session limits must be at least 1');
  const perAddress = new Map<string, number>();
  let total = 0;

  await app.register(websocket, { options: { maxPayload: HARD_MAX_PAYLOAD } });
  app.get(ApiPath.ws, { websocket: true, preValidation: assertSameOrigin(options.origins) }, (socket, request) => {
    const address = request.ip;
    let user: Identity;
    try {
      user = options.identities.forRequest(request);
    } catch (error) {
      const failure = asGatewayError(error);
      // Only a refused sign-in signs the browser out; anything else (the gateway busy) is "try again".
      socket.close(failure.signInRefused ? WS_CLOSE_SIGNED_OUT : WS_TRY_AGAIN_LATER, failure.message);
      setTimeout(() => socket.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
      return;
    }
    const mine = perAddress.get(address) ?? 0;
    // Behind a reverse proxy every browser has the proxy's address: raise the per-address cap there.
    const refusal =
      total >= maxSessions
        ? `the gateway has its maximum of ${maxSessions} WebSocket sessions; try again later`
        : mine >= maxPerAddress
          ? `too many WebSocket sessions from ${address.slice(0, 45)} (limit ${maxPerAddress} per address)`
          : undefined;
    if (refusal) {
      options.identities.release(request);
      request.log.info({ address, sessions: total, fromAddress: mine }, 'websocket refused: session limit');
      socket.close(WS_TRY_AGAIN_LATER, refusal);
      // A client that does not answer the close frame is cut soon, not after ws's 30 s.
      setTimeout(() => socket.terminate(), REFUSED_CLOSE_GRACE_MS).unref();
      return;
    }
    total++;
    perAddress.set(address, mine + 1);
    socket.once('close', () => {
      total--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    const { identities } = options;
    const session = new WsSession(socket, {
      pool: user.commandPool,
      link: options.link,
      feed: user.join(address),
      clientAddress: address,
      onSignedOut: (reply) => identities.end(user, reply),
      log: request.log,
      upstreamAddress: options.upstreamAddress,
      highWaterBytes: options.highWaterBytes,
      maxBufferedBytes: options.maxBufferedBytes,
      pingIntervalMs: options.pingIntervalMs,
      maxUnsentChanges: options.maxUnsentChanges,
    });
    // Every session of the user ends when the tor-server refuses the user's sign-in.
    const onRefused = (reply: string) => session.signOut(reply);
    user.on('refused', onRefused);
    socket.once('close', () => {
      user.off('refused', onRefused);
      user.leave();
    });
    // The session holds the user from here on (user.sessions), not the handshake request.
    identities.release(request);
    session.start();
  });
};
