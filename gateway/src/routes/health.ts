import type { FastifyPluginAsync } from 'fastify';
import type { Upstream } from '../lib/upstream.js';
import { ApiPath, HttpStatus, healthSchema, type HealthResponse } from '../api/index.js';

export interface HealthRoutesOptions {
  upstream: Upstream;
  /** The probe gives up after this long, so health answers within a second even when the tor-server hangs. */
  timeoutMs?: number;
}

/** `GET /api/health`: 200 when the tor-server answers, 503 when it does not. */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { upstream, timeoutMs = 800 }) => {
  const schema = { response: { [HttpStatus.OK]: healthSchema, [HttpStatus.SERVICE_UNAVAILABLE]: healthSchema } };
  app.get(ApiPath.health, { schema }, async (_request, reply) => {
    // The probe may be shared with a longer one under way: this answer keeps its own deadline.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const up = await Promise.race([upstream.probe(timeoutMs), late]);
    clearTimeout(timer);
    const body: HealthResponse = { gateway: 'ok', upstream: up ? 'ok' : 'unreachable' };
    return reply.code(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).header('cache-control', 'no-store').send(body);
  });
};
