import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** How long a refused request's body is still read (and dropped) after the answer, like nginx's lingering_time. */
export const LINGER_MS = 2000;

const lingering = new WeakSet<Socket>();

/**
 * Makes `reply` the last answer on its connection without reading the rest of the request
 * body: `Connection: close`, then a lingering close as nginx does it. Node would close the
 * socket as soon as the answer is out, and with request bytes still arriving the kernel
 * answers them with a reset that can wipe the answer before the client has read it. Instead
 * the connection is half-closed after the answer, and whatever the client still sends is
 * read and dropped until it stops sending or LINGER_MS have passed.
 */
export function closeAfterResponse(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('connection', 'close');
  const socket = request.raw.socket;
  if (!socket || socket.destroyed || lingering.has(socket)) return;
  lingering.add(socket);
  // Node ends a `Connection: close` response with destroySoon(); only half-close here.
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
  // Stop whatever was reading the body (the multipart parser) and drop the rest as it comes.
  request.raw.unpipe();
  request.raw.resume();
}
