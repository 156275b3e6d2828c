import type { FastifyPluginAsync } from 'fastify';
import { Reply } from 'tor-server/protocol';
import { GatewayError } from '../errors.js';
import { clientGoneSignal } from '../lib/client-gone.js';
import type { Identities } from '../lib/identities.js';
import { checkFileName } from '../lib/names.js';
import { assertSameOrigin, type OriginPolicy } from '../lib/origin.js';
import { ApiPath, HttpStatus, fileEntrySchema, fileParamsSchema, renameRequestSchema, type FileEntry, type FileParams, type RenameRequest } from '../api/index.js';

export interface FileChangesRoutesOptions {
  /** Deletes and renames are short commands: they go over the request's user's command pool. */
  identities: Identities;
  origins: OriginPolicy;
}

// `{"name": "<up to 255 bytes of UTF-8>"}` with room for JSON escapes.
const MAX_RENAME_BODY_BYTES = 4096;

/**
 * `DELETE` and `PATCH /api/files/<name>`: delete a file, rename it (never overwriting). The
 * tor-server decides who may (its access level); its refusals (`Permission denied: ...`, a
 * taken name, an invalid one) are answered with their reply line through errors.ts. Both
 * change state, so pages of other origins are refused, as for uploads.
 */
export const fileChangesRoutes: FastifyPluginAsync<FileChangesRoutesOptions> = async (app, { identities, origins }) => {
  const sameOrigin = assertSameOrigin(origins);

  app.delete<{ Params: FileParams }>(ApiPath.file, { preHandler: sameOrigin, schema: { params: fileParamsSchema } }, async (request, reply) => {
    const { name } = request.params;
    checkFileName(name);
    const deleted = await identities.forRequest(request).commandPool.run((client) => client.delete(name), { signal: clientGoneSignal(reply), clientAddress: request.ip });
    if (!deleted) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
    request.log.info({ name }, 'deleted');
    return reply.code(HttpStatus.NO_CONTENT).send();
  });

  app.patch<{ Params: FileParams; Body: RenameRequest }>(
    ApiPath.file,
    { preHandler: sameOrigin, bodyLimit: MAX_RENAME_BODY_BYTES, schema: { params: fileParamsSchema, body: renameRequestSchema, response: { [HttpStatus.OK]: fileEntrySchema } } },
    async (request, reply) => {
      const from = request.params.name;
      const to = request.body.name;
      checkFileName(from);
      checkFileName(to);
      const row = await identities.forRequest(request).commandPool.run(
        async (client) => {
          if (!(await client.rename(from, to))) return undefined;
          // Someone may rename or delete it again at once: then there is no row to show.
          return (await client.stat(to)) ?? null;
        },
        { signal: clientGoneSignal(reply), clientAddress: request.ip },
      );
      if (row === undefined) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
      if (row === null) throw new GatewayError('GW_ERR_NOT_FOUND', `${to} was renamed, then changed again before it could be shown; list the files again`);
      request.log.info({ from, to }, 'renamed');
      return reply.send(row satisfies FileEntry);
    },
  );
};
