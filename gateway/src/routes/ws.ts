import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import type { FileEvents } from '../lib/file-events.js';
import { assertSameOrigin } from '../lib/origin.js';
import type { Upstream } from '../lib/upstream.js';
import { WS_MAX_MESSAGE_BYTES } from '../ws/messages.js';
import { WsSession } from '../ws/session.js';

export interface WsRoutesOptions {
  upstream: Upstream;
  events: FileEvents;
  /** Reconnect backoff bounds for each session's TFTCP connection. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  quietReconnectAfterMs?: number;
}

// ws closes the socket (1009) above this; up to it the gateway answers oversize messages itself.
const HARD_MAX_PAYLOAD = 16 * WS_MAX_MESSAGE_BYTES;

/** `GET /api/ws`: one WsSession per browser socket. */
export const wsRoutes: FastifyPluginAsync<WsRoutesOptions> = async (app, options) => {
  await app.register(websocket, { options: { maxPayload: HARD_MAX_PAYLOAD } });
  app.get('/api/ws', { websocket: true, preValidation: assertSameOrigin }, (socket, request) => {
    const session = new WsSession(socket, {
      upstream: options.upstream,
      events: options.events,
      log: request.log,
      minBackoffMs: options.minBackoffMs,
      maxBackoffMs: options.maxBackoffMs,
      quietReconnectAfterMs: options.quietReconnectAfterMs,
    });
    session.start();
  });
};
