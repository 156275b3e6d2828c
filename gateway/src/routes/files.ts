import os from 'node:os';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TftcpClient } from 'tor-server/client';
import { Reply } from 'tor-server/protocol';
import { GatewayError } from '../errors.js';
import { clientGoneSignal } from '../lib/client-gone.js';
import { sendContinue } from '../lib/expect-continue.js';
import { closeAfterResponse } from '../lib/linger.js';
import { receiveMultipart } from '../lib/multipart-upload.js';
import { checkFileName, searchTextProblem } from '../lib/names.js';
import { assertSameOrigin, type OriginPolicy } from '../lib/origin.js';
import type { KnownDigests } from '../lib/known-digests.js';
import type { GatewayMetrics } from '../lib/metrics.js';
import { remoteHash } from '../lib/remote-hash.js';
import { sendFile, statFile } from '../lib/send-file.js';
import { DEFAULT_MAX_TRANSFERS_PER_ADDRESS, TransferLimit } from '../lib/transfer-limit.js';
import { checkUploadSize, uploadExactly } from '../lib/upload.js';
import type { Identities } from '../lib/identities.js';
import {
  ApiPath,
  HASH_ALGORITHM,
  HttpStatus,
  QueryField,
  TRUE_FLAG_VALUES,
  filePath,
  fileParamsSchema,
  fileQuerySchema,
  listingQuerySchema,
  listingSchema,
  uploadResponseSchema,
  uploadResultSchema,
  type FileEntry,
  type FileParams,
  type FileQuery,
  type HashResponse,
  type ListingQuery,
  type UploadResponse,
  type UploadResult,
} from '../api/index.js';

export interface FilesRoutesOptions {
  /**
   * Each request's user (its token, or the anonymous one): listings and lookups go over that
   * user's command pool; downloads, uploads and digests run on its transfer pool's connections,
   * reused from one transfer to the next.
   */
  identities: Identities;
  /** The sha256 digests the tor-server has told, for Repr-Digest. */
  digests: KnownDigests;
  origins: OriginPolicy;
  maxUploadSize: number;
  /** Downloads and uploads one client address may have under way (or waiting) at once. Default 16. */
  maxTransfersPerAddress?: number;
  /** The per-address count shared with other routes that transfer (share links); default one of this plugin's own. */
  transfers?: TransferLimit;
  /** Counts the transfers in progress. */
  metrics: GatewayMetrics;
  /** Most files stored from one multipart form. Default 1000. */
  maxFormFiles?: number;
  /** Where multipart parts without a size hint wait until they are complete. Default: the OS temp folder. */
  spoolDir?: string;
  /** Bytes the spool folder's file system must keep free. Default 64 MiB. */
  spoolReserveBytes?: number;
}

const DEFAULT_MAX_FORM_FILES = 1000;
const DEFAULT_SPOOL_RESERVE_BYTES = 64 * 1024 * 1024;

/** `/api/files`: listing and search, streamed downloads with ranges, digests, multipart and raw uploads. */
export const filesRoutes: FastifyPluginAsync<FilesRoutesOptions> = async (app, options) => {
  const { identities, digests, maxUploadSize } = options;
  if (!Number.isSafeInteger(maxUploadSize) || maxUploadSize < 0) throw new Error('filesRoutes: maxUploadSize must be a byte count');
  const spoolDir = options.spoolDir ?? os.tmpdir();
  const maxFiles = options.maxFormFiles ?? DEFAULT_MAX_FORM_FILES;
  const spoolReserveBytes = options.spoolReserveBytes ?? DEFAULT_SPOOL_RESERVE_BYTES;
  const sameOrigin = assertSameOrigin(options.origins);
  const transfers = options.transfers ?? new TransferLimit(options.maxTransfersPerAddress ?? DEFAULT_MAX_TRANSFERS_PER_ADDRESS, (request, reply) => options.metrics.transferStarted(request, reply));

  // Bodies are streamed by the handlers themselves, never buffered by a parser.
  app.removeAllContentTypeParsers();
  // Files beyond maxFiles are still parsed, to report them; every part counts toward `parts`.
  const parts = 2 * maxFiles + 100;
  await app.register(multipart, { limits: { fileSize: Infinity, files: parts, parts, fields: maxFiles + 100, fieldSize: 64 * 1024 }, throwFileSizeLimit: false });
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  // Browsers hear of it through the change feed, as of every other change.
  const stored = (result: UploadResult) => app.log.info({ name: result.name, size: result.size }, 'stored');

  app.get<{ Querystring: ListingQuery }>(ApiPath.files, { schema: { querystring: listingQuerySchema, response: { [HttpStatus.OK]: listingSchema } } }, async (request, reply) => {
    const text = request.query[QueryField.search] ?? '';
    // The TFTCP limits are in UTF-8 bytes and control characters, which a JSON schema cannot say.
    const problem = searchTextProblem(text);
    if (problem) throw new GatewayError('GW_ERR_BAD_REQUEST', problem);
    const { commandPool } = identities.forRequest(request);
    const files: FileEntry[] = await commandPool.run((client) => client.list(text), { signal: clientGoneSignal(reply), clientAddress: request.ip });
    return reply.header('cache-control', 'no-store').send(files);
  });

  app.route<{ Params: FileParams; Querystring: FileQuery }>({
    method: ['GET', 'HEAD'],
    url: ApiPath.file,
    exposeHeadRoute: false,
    // No response schema: a 200 here is mostly the file's own bytes.
    schema: { params: fileParamsSchema, querystring: fileQuerySchema },
    handler: (request, reply) => {
      const algorithm = request.query[QueryField.hash];
      if (algorithm !== undefined) return sendDigest(request, reply, request.params.name, algorithm);
      const { commandPool, transferPool } = identities.forRequest(request);
      return sendFile(request, reply, { pool: commandPool, transferPool, transfers, digests, clientAddress: request.ip }, request.params.name, isTrue(request.query[QueryField.inline]));
    },
  });

  /**
   * `?hash=sha256`: the tor-server's digest of the file, remembered for Repr-Digest. The hash runs
   * on a transfer connection (counted as a transfer of the address), the lookups around it on the pool.
   */
  async function sendDigest(request: FastifyRequest, reply: FastifyReply, name: string, algorithm: string): Promise<FastifyReply> {
    if (algorithm !== HASH_ALGORITHM) throw new GatewayError('GW_ERR_BAD_REQUEST', `unknown hash "${algorithm.slice(0, 40)}"; the one available is ${HASH_ALGORITHM}`);
    checkFileName(name);
    const signal = clientGoneSignal(reply);
    const { commandPool: pool, transferPool } = identities.forRequest(request);
    const before = await statFile(pool, name, signal, request.ip);
    transfers.enter(request, reply);
    const sha256 = await remoteHash(transferPool, name, signal, request.ip);
    if (sha256 === undefined) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
    // Remembered for this version only when no other file took the name meanwhile.
    const after = await pool.run((client) => client.stat(name), { signal, clientAddress: request.ip });
    if (after && sameVersion(before, after)) digests.remember(after, sha256);
    reply.header('cache-control', 'no-store');
    if (request.method === 'HEAD') return reply.type('application/json; charset=utf-8').send();
    return reply.send({ [HASH_ALGORITHM]: sha256 } satisfies HashResponse);
  }

  // Bodies that are not an UploadResponse (a refusal before any part) are errors, answered by the error handler.
  const uploadResponses: Record<number, object> = { [HttpStatus.CREATED]: uploadResponseSchema, [HttpStatus.MULTI_STATUS]: uploadResponseSchema };
  app.post(ApiPath.files, { preHandler: sameOrigin, schema: { response: uploadResponses } }, async (request, reply) => {
    if (!request.isMultipart()) {
      throw new GatewayError('GW_ERR_UNSUPPORTED_MEDIA_TYPE', 'send the files as multipart/form-data, or PUT the raw bytes to /api/files/<name>');
    }
    transfers.enter(request, reply);
    const outcome = await receiveMultipart(request, {
      transferPool: identities.forRequest(request).transferPool,
      maxUploadSize,
      maxFiles,
      spoolDir,
      spoolReserveBytes,
      signal: clientGoneSignal(reply),
      clientAddress: request.ip,
      // Each part is checked as it arrives, so the body is wanted right away.
      onReady: () => sendContinue(request, reply),
      onStored: stored,
    });
    if (outcome.unread) closeAfterResponse(request, reply);
    const body: UploadResponse = { files: outcome.files, ...(outcome.stoppedBecause ? { error: outcome.stoppedBecause } : {}) };
    return reply.code(outcome.status).send(body);
  });

  app.put<{ Params: FileParams }>(ApiPath.file, { preHandler: sameOrigin, schema: { params: fileParamsSchema, response: { [HttpStatus.CREATED]: uploadResultSchema } } }, async (request, reply) => {
    const { name } = request.params;
    const lengthHeader = request.headers['content-length'];
    if (lengthHeader === undefined) {
      throw new GatewayError('GW_ERR_LENGTH_REQUIRED', 'send the body with a Content-Length: the tor-server needs the size before the bytes');
    }
    const size = Number(lengthHeader);
    checkFileName(name);
    checkUploadSize(size, maxUploadSize);
    transfers.enter(request, reply);
    let accepted = false;
    // `100 Continue` only once the tor-server took the name and the size: a refusal is the answer instead.
    const upload = (client: TftcpClient) =>
      uploadExactly(client, name, size, request.raw, () => {
        accepted = true;
        sendContinue(request, reply);
      });
    // A reused connection that died idle is replaced only while no byte of the body was read.
    const { transferPool } = identities.forRequest(request);
    const { client } = await transferPool.start(upload, clientGoneSignal(reply), () => accepted, request.ip);
    transferPool.finish(client);
    const result: UploadResult = { name, size, ok: true };
    stored(result);
    return reply.code(HttpStatus.CREATED).header('location', filePath(name)).send(result);
  });
};

function sameVersion(a: FileEntry, b: FileEntry): boolean {
  return a.size === b.size && a.modified === b.modified;
}

function isTrue(flag: string | undefined): boolean {
  return flag !== undefined && TRUE_FLAG_VALUES.includes(flag);
}
