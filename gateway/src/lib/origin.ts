import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * True when a browser request may act on the files: no Origin header (curl, scripts), the
 * page came from this very host, or both sides are loopback (a dev server on another local
 * port proxying to the gateway). A page from any other site is refused, so it cannot upload
 * through a visitor's browser (CSRF) or open a WebSocket as them.
 */
export function isAllowedOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  try {
    const originUrl = new URL(origin);
    if (originUrl.host === host) return true;
    return LOOPBACK.has(originUrl.hostname) && LOOPBACK.has(new URL(`http://${host}`).hostname);
  } catch {
    // "null" (a sandboxed page) or garbage: not a page of ours.
    return false;
  }
}

/** Fastify hook refusing requests from another site's pages with 403. */
export async function assertSameOrigin(request: FastifyRequest): Promise<void> {
  if (!isAllowedOrigin(request.headers.origin, request.headers.host)) {
    throw new GatewayError('GW_ERR_FORBIDDEN_ORIGIN', `requests from ${request.headers.origin} are not allowed; open the app from this gateway`);
  }
}
