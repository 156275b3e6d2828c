import type { FastifyReply, FastifyRequest } from 'fastify';

const answered = new WeakSet<object>();

/** True when the client waits for `100 Continue` before it sends the body. */
export function expectsContinue(request: FastifyRequest): boolean {
  return /^\s*100-continue\s*$/i.test(request.headers.expect ?? '');
}

/**
 * Tells a client that sent `Expect: 100-continue` to send its body, once. The gateway answers
 * those requests itself (see app.ts), so a refused upload gets its final answer instead and
 * the body is never sent.
 */
export function sendContinue(request: FastifyRequest, reply: FastifyReply): void {
  if (!expectsContinue(request) || answered.has(request.raw) || reply.raw.headersSent || reply.raw.destroyed) return;
  answered.add(request.raw);
  reply.raw.writeContinue();
}
