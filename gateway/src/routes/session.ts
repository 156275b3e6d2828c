import type { FastifyPluginAsync } from 'fastify';
import { clientGoneSignal } from '../lib/client-gone.js';
import type { CommandPool } from '../lib/command-pool.js';
import { ApiPath, HttpStatus, sessionResponseSchema, type SessionResponse } from '../api/index.js';

export interface SessionRoutesOptions {
  pool: CommandPool;
}

/**
 * `GET /api/session`: what the tor-server lets this gateway's users do, as its `whoami` says.
 * The gateway never decides it; the web app shows only the actions the level allows.
 */
export const sessionRoutes: FastifyPluginAsync<SessionRoutesOptions> = async (app, { pool }) => {
  app.get(ApiPath.session, { schema: { response: { [HttpStatus.OK]: sessionResponseSchema } } }, async (_request, reply) => {
    const access = await pool.run((client) => client.whoami(), { signal: clientGoneSignal(reply) });
    return reply.header('cache-control', 'no-store').send({ access } satisfies SessionResponse);
  });
};
