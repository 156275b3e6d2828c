import type { FastifyPluginAsync } from 'fastify';
import { Reply } from 'tor-server/protocol';
import { GatewayError } from '../errors.js';
import { clientGoneSignal } from '../lib/client-gone.js';
import type { Identities } from '../lib/identities.js';
import { jsonBodiesOnly } from '../lib/json-body.js';
import { checkFileName } from '../lib/names.js';
import { assertSameOrigin, type OriginPolicy } from '../lib/origin.js';
import { tokenId } from '../lib/token-id.js';
import {
  ApiPath,
  HttpStatus,
  newShareSchema,
  shareRequestSchema,
  sharePagePath,
  sharesSchema,
  type NewShareResponse,
  type ShareRequest,
  type SharesResponse,
} from '../api/index.js';

export interface SharesRoutesOptions {
  identities: Identities;
  origins: OriginPolicy;
}

// `{"name": "<up to 255 bytes of UTF-8>", "expires": "...", "maxDownloads": ...}` with room for JSON escapes.
const MAX_SHARE_BODY_BYTES = 4096;

/**
 * `/api/shares`: the share links of the request's user (`shares`), a new one (`share`),
 * revoking one (`unshare`). The tor-server decides who may (write, and admin for others' links).
 */
export const sharesRoutes: FastifyPluginAsync<SharesRoutesOptions> = async (app, { identities, origins }) => {
  const sameOrigin = assertSameOrigin(origins);
  jsonBodiesOnly(app);

  app.get(ApiPath.shares, { schema: { response: { [HttpStatus.OK]: sharesSchema } } }, async (request, reply) => {
    const shares: SharesResponse = await identities.forRequest(request).commandPool.run((client) => client.shares(), { signal: clientGoneSignal(reply), clientAddress: request.ip });
    return reply.header('cache-control', 'no-store').send(shares);
  });

  app.post<{ Body: ShareRequest }>(
    ApiPath.shares,
    { preHandler: sameOrigin, bodyLimit: MAX_SHARE_BODY_BYTES, schema: { body: shareRequestSchema, response: { [HttpStatus.CREATED]: newShareSchema } } },
    async (request, reply) => {
      const { name, expires, maxDownloads } = request.body;
      checkFileName(name);
      const made = await identities.forRequest(request).commandPool.run((client) => client.share({ name, expires, maxDownloads }), { signal: clientGoneSignal(reply), clientAddress: request.ip });
      if (!made) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
      const id = tokenId(made.token);
      request.log.info({ share: id, name }, 'share link made');
      const body: NewShareResponse = { id, name, expires: made.expires, downloads: 0, maxDownloads: made.maxDownloads, token: made.token, path: sharePagePath(made.token) };
      return reply.code(HttpStatus.CREATED).header('cache-control', 'no-store').send(body);
    },
  );

  app.delete<{ Params: { id: string } }>(ApiPath.share, { preHandler: sameOrigin }, async (request, reply) => {
    const { id } = request.params;
    const revoked = await identities.forRequest(request).commandPool.run((client) => client.unshare(id), { signal: clientGoneSignal(reply), clientAddress: request.ip });
    if (!revoked) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
    request.log.info({ share: id }, 'share link revoked');
    return reply.code(HttpStatus.NO_CONTENT).send();
  });
};
