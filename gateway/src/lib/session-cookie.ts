import type { FastifyReply, FastifyRequest } from 'fastify';
import { BEARER_PREFIX, SESSION_COOKIE } from '../api/index.js';

/** The token a request carries, and whether it came in the session cookie (which a 401 clears). */
export interface RequestToken {
  token: string;
  fromCookie: boolean;
}

/** Reads a Cookie header (@fastify/cookie's parser). */
export type CookieParser = (header: string) => Record<string, string | undefined>;

// The cookie outlives any browser session; Chrome caps Max-Age at 400 days anyway. The token's
// own expiry still applies: the tor-server refuses it then, and the 401 clears the cookie.
const SESSION_COOKIE_MAX_AGE_S = 400 * 24 * 60 * 60;

// The page's origin, when the browser says it is HTTPS (behind a TLS-terminating proxy the
// gateway itself speaks plain HTTP, but the browser's cookie must still be Secure).
const HTTPS_ORIGIN = /^https:\/\//i;

/**
 * The token of a request: `Authorization: Bearer <token>` (API clients), else the session
 * cookie (browsers); undefined when it has neither. Its shape is not checked here.
 */
export function requestToken(request: FastifyRequest, parseCookie: CookieParser): RequestToken | undefined {
  const authorization = request.headers.authorization;
  let found: RequestToken | undefined;
  if (authorization !== undefined && authorization.slice(0, BEARER_PREFIX.length).toLowerCase() === BEARER_PREFIX.toLowerCase()) {
    found = { token: authorization.slice(BEARER_PREFIX.length).trim(), fromCookie: false };
  } else if (request.headers.cookie) {
    const token = parseCookie(request.headers.cookie)[SESSION_COOKIE];
    if (token) found = { token, fromCookie: true };
  }
  return found;
}

/** Sets the session cookie: the token itself, so any gateway in front of the same tor-server accepts it. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, { ...cookieAttributes(request), maxAge: SESSION_COOKIE_MAX_AGE_S });
}

/** Clears the session cookie (signed out, or its token is dead). */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieAttributes(request));
}

/** True when the browser reached the gateway over HTTPS: itself, or through a TLS-terminating proxy (the page's Origin says so). */
export function browserUsesHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https' || HTTPS_ORIGIN.test(request.headers.origin ?? '');
}

function cookieAttributes(request: FastifyRequest) {
  // HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it.
  return { httpOnly: true, sameSite: 'strict', path: '/', secure: browserUsesHttps(request) } as const;
}
