/**
 * Signing in and out over HTTP (`/api/session`). The gateway keeps the token in an HttpOnly
 * cookie, so this page never holds it longer than the sign-in request.
 */
import { ApiPath, HttpStatus, type SessionResponse, type SignInRequest } from 'gateway/api';
import { WebError } from './errors.js';
import { call, jsonBody, type ActionTarget } from './http.js';

/** Who this page is to the tor-server; throws a WebError (status 401) when it must sign in first. */
export async function fetchSession(target: ActionTarget = {}): Promise<SessionResponse> {
  const response = await call(target, ApiPath.session, {}, 'Asking who you are', false);
  return (await response.json()) as SessionResponse;
}

/** Signs in with `token` (the gateway sets the cookie); throws the server's refusal (`Invalid token`, ...). */
export async function signIn(token: string, target: ActionTarget = {}): Promise<SessionResponse> {
  const body: SignInRequest = { token };
  const response = await call(target, ApiPath.session, { method: 'POST', ...jsonBody(body) }, 'Signing in', false);
  return (await response.json()) as SessionResponse;
}

/** Signs out (the gateway clears the cookie). */
export async function signOut(target: ActionTarget = {}): Promise<void> {
  await call(target, ApiPath.session, { method: 'DELETE' }, 'Signing out', false);
}

/** Whether a session call was refused because this page is not (or no longer) signed in. */
export function isSignedOut(error: unknown): error is WebError {
  return error instanceof WebError && (error.status === HttpStatus.UNAUTHORIZED || error.status === HttpStatus.FORBIDDEN);
}
