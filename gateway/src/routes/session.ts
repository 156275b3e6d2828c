import type { FastifyPluginAsync } from 'fastify';
import { clientGoneSignal } from '../lib/client-gone.js';
import type { Identities } from '../lib/identities.js';
import { KEY_LOG_LENGTH } from '../lib/identity.js';
import { jsonBodiesOnly } from '../lib/json-body.js';
import { assertSameOrigin, type OriginPolicy } from '../lib/origin.js';
import { clearSessionCookie, setSessionCookie } from '../lib/session-cookie.js';
import { ApiPath, HttpStatus, sessionResponseSchema, signInRequestSchema, type SessionResponse, type SignInRequest } from '../api/index.js';

export interface SessionRoutesOptions {
  /** Each request's user; a sign-in makes (or finds) the token's. */
  identities: Identities;
  origins: OriginPolicy;
}

// `{"token": "<up to 512 characters>"}` with room for JSON escapes.
const MAX_SIGN_IN_BODY_BYTES = 4096;

/**
 * `/api/session`: who a request is, signing in and out. The gateway decides none of it: `GET`
 * asks the tor-server (`whoami`, over the user's own signed-in connection), `POST` signs in
 * upstream first and only then sets the cookie (the token itself, so any gateway accepts it),
 * `DELETE` clears it. Sign-in and sign-out change state: other sites' pages are refused, and a
 * sign-in takes JSON only (a form or text/plain post from another page cannot reach it).
 */
export const sessionRoutes: FastifyPluginAsync<SessionRoutesOptions> = async (app, { identities, origins }) => {
  const sameOrigin = assertSameOrigin(origins);
  jsonBodiesOnly(app);
  const responses = { [HttpStatus.OK]: sessionResponseSchema };

  app.get(ApiPath.session, { schema: { response: responses } }, async (request, reply) => {
    const user = identities.forRequest(request);
    const access = await user.commandPool.run((client) => client.whoami(), { signal: clientGoneSignal(reply), clientAddress: request.ip });
    const label = user.signsIn ? user.signedIn?.label : undefined;
    return reply.header('cache-control', 'no-store').send({ access, ...(label !== undefined && { label }) } satisfies SessionResponse);
  });

  app.post<{ Body: SignInRequest }>(
    ApiPath.session,
    { preHandler: sameOrigin, bodyLimit: MAX_SIGN_IN_BODY_BYTES, schema: { body: signInRequestSchema, response: responses } },
    async (request, reply) => {
      const user = identities.forRequestToken(request, request.body.token);
      // Over a connection signed in with the token: a refused one never becomes a cookie.
      const access = await user.commandPool.run((client) => client.whoami(), { signal: clientGoneSignal(reply), clientAddress: request.ip });
      setSessionCookie(request, reply, request.body.token);
      request.log.info({ identity: user.key.slice(0, KEY_LOG_LENGTH), label: user.signedIn?.label, access }, 'signed in');
      return reply.header('cache-control', 'no-store').send({ access, ...(user.signedIn && { label: user.signedIn.label }) } satisfies SessionResponse);
    },
  );

  app.delete(ApiPath.session, { preHandler: sameOrigin }, async (request, reply) => {
    // Whatever the cookie holds (a dead or malformed token too), signing out clears it.
    identities.signOut(request);
    clearSessionCookie(request, reply);
    return reply.code(HttpStatus.NO_CONTENT).send();
  });
};
