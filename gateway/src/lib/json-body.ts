import type { FastifyInstance } from 'fastify';

/**
 * Makes a plugin's routes take JSON bodies only: other types are answered 415 before the
 * handler. A page of another site can post a form or text/plain without asking the browser
 * first; JSON needs a CORS preflight, which this gateway never grants.
 */
export function jsonBodiesOnly(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, json);
}
