import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';

/** The origins whose pages may act on the files besides the gateway's own (`--allowed-origins`). */
export interface OriginPolicy {
  allowedOrigins: ReadonlySet<string>;
}

/** The parts of a request that say which origin it reached. */
export interface RequestOrigin {
  protocol: 'http' | 'https';
  /** The Host header (already checked against the allowed hosts). */
  host: string | undefined;
}

/**
 * True when a browser request may act on the files: no Origin header (curl, scripts), a page
 * of exactly this gateway (scheme, host and port), or one of the deliberately allowed extra
 * origins. A page from anywhere else, another port of localhost included, is refused, so it
 * cannot upload through a visitor's browser (CSRF) or open a WebSocket as them.
 */
export function isAllowedOrigin(origin: string | undefined, request: RequestOrigin, policy: OriginPolicy): boolean {
  if (origin === undefined) return true;
  let page: string;
  try {
    page = new URL(origin).origin;
  } catch {
    // "null" (a sandboxed page, a file:// page) or garbage: not a page of ours.
    return false;
  }
  if (page === 'null') return false;
  if (policy.allowedOrigins.has(page)) return true;
  if (request.host === undefined) return false;
  const own = originOf(request.protocol, request.host);
  // A TLS-terminating proxy in front (README: Deploy) forwards plain HTTP with the browser's
  // Host: the page is then https:// on that same host and port.
  const proxied = request.protocol === 'http' ? originOf('https', request.host) : undefined;
  return page === own || page === proxied;
}

function originOf(protocol: string, host: string): string | undefined {
  try {
    return new URL(`${protocol}://${host}`).origin;
  } catch {
    return undefined;
  }
}

/**
 * A Fastify hook refusing any request another site's page makes (`Sec-Fetch-Site: cross-site`,
 * an <img> or a fetch alike) with 403, unless its Origin is deliberately allowed: for routes
 * that cost the visitor something even when read (a share link signs in with its token, and a
 * failed sign-in counts against the visitor's address).
 */
export function assertNotCrossSite(policy: OriginPolicy): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    if (request.headers['sec-fetch-site'] !== 'cross-site') return;
    const { origin } = request.headers;
    if (origin !== undefined && isAllowedOrigin(origin, { protocol: request.protocol, host: request.headers.host }, policy)) return;
    throw new GatewayError('GW_ERR_FORBIDDEN_ORIGIN', 'another site\'s page may not open share links through this gateway; open the share link itself');
  };
}

/** A Fastify hook refusing requests from another site's pages with 403. */
export function assertSameOrigin(policy: OriginPolicy): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const { origin } = request.headers;
    if (!isAllowedOrigin(origin, { protocol: request.protocol, host: request.headers.host }, policy)) {
      throw new GatewayError('GW_ERR_FORBIDDEN_ORIGIN', `requests from ${String(origin).slice(0, 200)} are not allowed; open the app from this gateway, or add the origin to --allowed-origins`);
    }
  };
}
