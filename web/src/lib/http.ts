/**
 * The one way the app's JSON calls reach the gateway: a bounded wait, the server's own line as
 * the error message, and a word to whoever listens when a request was refused for want of a
 * sign-in (the session then checks whether it is still signed in).
 */
import { HttpStatus } from 'gateway/api';
import { errorBodyMessage, GATEWAY_UNREACHABLE, WebError, WebErrorCode } from './errors.js';

/** What each call waits for at most; the server may be slow, but the page must not hang. */
export const ACTION_TIMEOUT_MS = 30_000;

/** Where the calls go: the page's own gateway, or `base` in tests outside a page. */
export interface ActionTarget {
  fetch?: typeof fetch;
  base?: string;
}

/** Statuses after which the session may have ended (revoked, expired): worth asking the gateway. */
const SIGN_IN_STATUSES: ReadonlySet<number> = new Set([HttpStatus.UNAUTHORIZED, HttpStatus.FORBIDDEN]);

const refusalListeners = new Set<(status: number) => void>();

/** Calls `listener` with the status of every 401 or 403 a call gets; returns the unsubscribe function. */
export function onSignInRefusal(listener: (status: number) => void): () => void {
  refusalListeners.add(listener);
  return () => refusalListeners.delete(listener);
}

/** Tells the listeners that a request was refused with `status`, if it is one a lost sign-in explains. */
export function reportRefusal(status: number): void {
  if (!SIGN_IN_STATUSES.has(status)) return;
  for (const listener of refusalListeners) listener(status);
}

/**
 * Sends one request; resolves with an ok response or throws a WebError to show (`what failed`
 * when the body has no message). The session's own calls pass `report: false`: their refusal
 * is the answer they ask for, not news.
 */
export async function call(target: ActionTarget, path: string, init: RequestInit, what: string, report = true): Promise<Response> {
  const fetchFn = target.fetch ?? fetch;
  let response: Response;
  try {
    response = await fetchFn(`${target.base ?? ''}${path}`, { cache: 'no-store', signal: AbortSignal.timeout(ACTION_TIMEOUT_MS), ...init });
  } catch {
    throw new WebError(WebErrorCode.HTTP_UNREACHABLE, GATEWAY_UNREACHABLE);
  }
  if (response.ok) return response;
  const message = errorBodyMessage(await response.text().catch(() => '')) ?? `${what} failed (HTTP ${response.status})`;
  if (report) reportRefusal(response.status);
  throw new WebError(WebErrorCode.HTTP_REFUSED, message, response.status);
}

/** A JSON request body with its content type. */
export function jsonBody(value: unknown): RequestInit {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
