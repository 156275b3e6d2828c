import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Reply, type FileEntry } from 'tor-server/protocol';
import { GatewayError } from '../errors.js';
import { clientGoneSignal } from '../lib/client-gone.js';
import type { Identities } from '../lib/identities.js';
import type { Identity } from '../lib/identity.js';
import type { KnownDigests } from '../lib/known-digests.js';
import { assertNotCrossSite, type OriginPolicy } from '../lib/origin.js';
import { isTokenShaped } from '../lib/token-id.js';
import { sendFile } from '../lib/send-file.js';
import type { TransferLimit } from '../lib/transfer-limit.js';
import { ApiPath, HttpStatus, sharedFileSchema, type SharedFileResponse } from '../api/index.js';

export interface SharedFileRoutesOptions {
  /** A share link is a token like any other: its connections sign in with it. */
  identities: Identities;
  digests: KnownDigests;
  /** The per-address count of transfers, shared with the file routes. */
  transfers: TransferLimit;
  /** Origins besides the gateway's own whose pages may call these routes across sites. */
  origins: OriginPolicy;
}

interface SharedParams {
  token: string;
}

const sharedParamsSchema = { type: 'object', properties: { token: { type: 'string', minLength: 1 } }, required: ['token'] } as const;

/**
 * `/api/s/<token>`: the one file a share link opens, for its public page, with no sign-in
 * but the link itself. The stat and the bytes come over connections signed in with the link's
 * token, which the tor-server limits to that file (its `show` lists only it); whole downloads
 * count toward the link's maximum there, HEAD and ranges do not. The download is always an
 * attachment, sent by the same code as /api/files. Every link tried costs a sign-in counted
 * against the visitor's address: another site's page is refused (403) before any, and a token
 * that cannot be one is 404 without asking the tor-server.
 */
export const sharedFileRoutes: FastifyPluginAsync<SharedFileRoutesOptions> = async (app, { identities, digests, transfers, origins }) => {
  const notCrossSite = assertNotCrossSite(origins);

  /** The link's identity, and the one file it opens (404 once that file is gone). */
  async function sharedFile(request: FastifyRequest<{ Params: SharedParams }>, signal: AbortSignal): Promise<{ link: Identity; file: FileEntry }> {
    if (!isTokenShaped(request.params.token)) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
    const link = identities.forRequestToken(request, request.params.token);
    const files = await link.commandPool.run((client) => client.show(), { signal, clientAddress: request.ip });
    const file = files.length === 1 ? files[0] : undefined;
    if (!file) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
    return { link, file };
  }

  app.get<{ Params: SharedParams }>(ApiPath.sharedFile, { preHandler: notCrossSite, schema: { params: sharedParamsSchema, response: { [HttpStatus.OK]: sharedFileSchema } } }, async (request, reply) => {
    const { file } = await sharedFile(request, clientGoneSignal(reply));
    return reply.header('cache-control', 'no-store').send(file satisfies SharedFileResponse);
  });

  app.route<{ Params: SharedParams }>({
    method: ['GET', 'HEAD'],
    url: ApiPath.sharedDownload,
    exposeHeadRoute: false,
    preHandler: notCrossSite,
    schema: { params: sharedParamsSchema },
    handler: async (request, reply) => {
      const { link, file } = await sharedFile(request, clientGoneSignal(reply));
      return sendFile(request, reply, { pool: link.commandPool, transferPool: link.transferPool, transfers, digests, clientAddress: request.ip }, file.name, false);
    },
  });
};
