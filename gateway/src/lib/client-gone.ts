import type { FastifyReply } from 'fastify';

// One signal per response, however many steps of its route ask: each would be a 'close' listener.
const signals = new WeakMap<FastifyReply, AbortSignal>();

/** Aborts when the client goes away before its response is complete (to leave a line it waits in). */
export function clientGoneSignal(reply: FastifyReply): AbortSignal {
  const known = signals.get(reply);
  if (known) return known;
  const controller = new AbortController();
  signals.set(reply, controller.signal);
  const response = reply.raw;
  if (response.destroyed) controller.abort();
  else response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Error codes that only say the client went away mid-request (a cancelled upload, a closed tab). */
const CLIENT_GONE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'FST_MP_PREMATURE_CLOSE', 'GW_ERR_CLIENT_GONE']);

/** True when `error` is only the client leaving, or the request's connection is already gone. */
export function isClientGone(error: unknown, request: { raw: { socket: { destroyed: boolean } | null } }): boolean {
  // Not request.raw.destroyed: a request read to its end is destroyed too, with its client still there.
  const socket = request.raw.socket;
  if (!socket || socket.destroyed) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CLIENT_GONE_CODES.has(code);
}
