import os from 'node:os';
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { TftcpReplyError, type TftcpClient } from 'tor-server/client';
import { ErrorKind, isUploadId, type ByteRange } from 'tor-server/protocol';
import {
  ApiPath,
  HttpStatus,
  TUS_CHECKSUM_ALGORITHMS,
  TUS_EXTENSIONS,
  TUS_MAX_CHECKSUM_CHUNK_BYTES,
  TUS_VERSION,
  TusHeader,
  uploadPath,
} from '../api/index.js';
import { GatewayError, signsOut } from '../errors.js';
import { clientGoneSignal } from '../lib/client-gone.js';
import { sendContinue } from '../lib/expect-continue.js';
import type { GatewayMetrics } from '../lib/metrics.js';
import { checkFileName } from '../lib/names.js';
import { assertSameOrigin, type OriginPolicy } from '../lib/origin.js';
import { TransferLimit } from '../lib/transfer-limit.js';
import type { Identities } from '../lib/identities.js';
import type { TransferPool } from '../lib/transfer-pool.js';
import { checkUploadSize } from '../lib/upload.js';
import { parseChecksum } from '../lib/tus/checksum.js';
import { putPieces, spoolChecked, spooledBytes, type Chunk } from '../lib/tus/chunk.js';
import { cutWhenIdle } from '../lib/tus/idle.js';
import { bodyLength, byteCount, checkBodyType, checkTusVersion, hasBody, header } from '../lib/tus/request.js';
import { formatNameMetadata, metadataFileName, parseMetadata } from '../lib/tus/metadata.js';

export interface UploadsRoutesOptions {
  /** Who each request is: its user's transfer connections carry the uploads (signed in with its token). */
  identities: Identities;
  /** The count of transfers per client address shared with `/api/files` and the share links; a new one when absent. */
  transfers?: TransferLimit;
  origins: OriginPolicy;
  /** Largest upload accepted (`Tus-Max-Size`). */
  maxUploadSize: number;
  /** Transfers one client address may have under way at once. Default 16. */
  maxTransfersPerAddress?: number;
  metrics: GatewayMetrics;
  /** Where chunks with an Upload-Checksum wait until checked. Default: the OS temp folder. */
  spoolDir?: string;
  /** Bytes the spool folder's file system must keep free. Default 64 MiB. */
  spoolReserveBytes?: number;
  /** A PATCH (or POST) body that sends no byte for this long is cut, its range freed. Default 30 s. */
  bodyIdleMs?: number;
}

const DEFAULT_MAX_TRANSFERS_PER_ADDRESS = 16;
const DEFAULT_SPOOL_RESERVE_BYTES = 64 * 1024 * 1024;
const DEFAULT_BODY_IDLE_MS = 30_000;

/** What the gateway knows of an upload: all from the tor-server, nothing kept here. */
interface UploadState {
  id: string;
  size: number;
  name: string;
  /** Where the bytes held from 0 on end: the tus Upload-Offset. */
  offset: number;
  /** ISO 8601; undefined once committed (it never expires then). */
  expires: string | undefined;
}

/**
 * `/api/uploads/`: tus 1.0.0 (core, creation, creation-with-upload, termination, expiration,
 * checksum) mapped onto the tor-server's resumable uploads. The upload URL is the tor-server's
 * upload id and the gateway keeps no state of its own, so any gateway, or this one restarted,
 * resumes an upload: HEAD is `status`, PATCH is `put`s of its bytes at the upload's offset,
 * POST is `begin`, DELETE is `abort`, and the PATCH (or HEAD) that finds every byte stored
 * commits the file under its name.
 */
export const uploadsRoutes: FastifyPluginAsync<UploadsRoutesOptions> = async (app, options) => {
  const { maxUploadSize } = options;
  if (!Number.isSafeInteger(maxUploadSize) || maxUploadSize < 0) throw new Error('uploadsRoutes: maxUploadSize must be a byte count');
  const spool = { dir: options.spoolDir ?? os.tmpdir(), reserveBytes: options.spoolReserveBytes ?? DEFAULT_SPOOL_RESERVE_BYTES, maxBytes: TUS_MAX_CHECKSUM_CHUNK_BYTES };
  const sameOrigin = assertSameOrigin(options.origins);
  const transfers = options.transfers ?? new TransferLimit(options.maxTransfersPerAddress ?? DEFAULT_MAX_TRANSFERS_PER_ADDRESS, (request, reply) => options.metrics.transferStarted(request, reply));
  const uploadUrl = `${ApiPath.uploads}:id`;
  const bodyIdleMs = options.bodyIdleMs ?? DEFAULT_BODY_IDLE_MS;

  // Bodies are streamed to the tor-server by the handlers, never parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // Every tus answer, errors included, says which version it speaks; none may be cached.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header(TusHeader.resumable, TUS_VERSION);
    reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  /** The transfer connections a request's uploads run on: its user's (one token, or everyone in open mode). */
  const transferPoolFor = (request: FastifyRequest): TransferPool => options.identities.forRequest(request).transferPool;

  /**
   * Runs `work` on a transfer connection, given back when it ends cleanly, cut otherwise. A reused
   * connection that died idle is replaced while `moved()` says no byte of the body was taken.
   */
  async function upstream<T>(request: FastifyRequest, reply: FastifyReply, work: (client: TftcpClient) => Promise<T>, moved?: () => boolean): Promise<T> {
    const pool = transferPoolFor(request);
    const { client, result } = await pool.start(work, clientGoneSignal(reply), moved, request.ip);
    pool.finish(client);
    return result;
  }

  /**
   * The upload's state, committing it when every byte is there (after a PATCH, or a gateway that
   * stopped before its commit). One committed a while ago (its answer lost) is complete. A name
   * taken meanwhile is a 409 with the tor-server's words, and the partial is aborted: its bytes
   * can never be stored under that name, and the client picks another one and uploads again.
   */
  async function stateOf(request: FastifyRequest, client: TftcpClient, id: string): Promise<UploadState> {
    const details = await client.details(id);
    if (details.committed) return { id, size: details.size, name: details.name, offset: details.size, expires: undefined };
    const { have, size, name, expires } = details;
    const offset = contiguousEnd(have);
    if (offset === size) {
      try {
        await client.commit(id);
      } catch (error) {
        if (error instanceof TftcpReplyError && error.kind === ErrorKind.FILE_EXISTS) {
          await client.abort(id).catch((abortError: unknown) => {
            // Signed out meanwhile: that is the answer now, and the connection must not go back to the pool.
            if (signsOut(abortError)) throw abortError;
            logAbortFailed(request, id, abortError);
          });
        }
        throw error;
      }
      return { id, size, name, offset, expires: undefined };
    }
    return { id, size, name, offset, expires };
  }

  /**
   * Throws away the partial of a creation whose first chunk failed: no Location was sent, so no
   * client can resume it, and it would count against the owner's bound until it expired. Best
   * effort, on a connection of its own (the client may be gone); `status details` first lets a
   * put cut a moment ago end, or `abort` would find it busy.
   */
  async function discard(request: FastifyRequest, id: string): Promise<void> {
    try {
      const pool = transferPoolFor(request);
      const { client } = await pool.start(
        async (c) => {
          await c.details(id);
          await c.abort(id);
        },
        undefined,
        undefined,
        request.ip,
      );
      pool.finish(client);
    } catch (error) {
      logAbortFailed(request, id, error);
    }
  }

  /** Sends one chunk at `chunk.offset` (spooled and checked first when it carries an Upload-Checksum), then reads the state back. */
  async function writeChunk(request: FastifyRequest, reply: FastifyReply, chunk: Omit<Chunk, 'body'>): Promise<UploadState> {
    const checksum = parseChecksum(header(request, TusHeader.uploadChecksum));
    if (checksum && chunk.length > spool.maxBytes) {
      throw new GatewayError('GW_ERR_TOO_LARGE', `a chunk with an Upload-Checksum carries at most ${spool.maxBytes} bytes (this one ${chunk.length}): send smaller chunks`);
    }
    sendContinue(request, reply);
    // A sender that stops midway (a half-open connection) would hold the chunk's range for minutes.
    const arriving = cutWhenIdle(request.raw.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>, bodyIdleMs, () => {
      request.log.info({ id: chunk.id, idleMs: bodyIdleMs }, 'upload body idle: cut');
      request.raw.destroy(new GatewayError('GW_ERR_BAD_REQUEST', `no byte of the chunk arrived for ${bodyIdleMs} ms: what arrived is kept, ask HEAD`));
    });
    const spooled = checksum ? await spoolChecked({ ...chunk, body: arriving }, checksum, spool) : undefined;
    // The spool file's stream owns its handle: destroyed here whatever happens, then the file removed.
    const body: Readable | undefined = spooled ? spooledBytes(spooled) : undefined;
    try {
      const chunks = body ? (body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) : arriving;
      return await upstream(
        request,
        reply,
        async (client) => {
          await putPieces(client, chunk, chunks);
          return stateOf(request, client, chunk.id);
        },
        () => (body ?? request.raw).readableDidRead,
      );
    } finally {
      if (spooled) {
        body?.destroy();
        await spooled.remove();
      }
    }
  }

  app.options(ApiPath.uploads, answerOptions);
  app.options(uploadUrl, answerOptions);
  function answerOptions(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
    return reply
      .code(HttpStatus.NO_CONTENT)
      .header(TusHeader.version, TUS_VERSION)
      .header(TusHeader.extension, TUS_EXTENSIONS.join(','))
      .header(TusHeader.maxSize, String(maxUploadSize))
      .header(TusHeader.checksumAlgorithm, TUS_CHECKSUM_ALGORITHMS.join(','))
      .send();
  }

  app.post(ApiPath.uploads, { preHandler: [checkTusVersion, sameOrigin] }, async (request, reply) => {
    if (header(request, TusHeader.uploadDeferLength) !== undefined) throw new GatewayError('GW_ERR_BAD_REQUEST', 'Upload-Defer-Length is not supported: send Upload-Length');
    const size = byteCount(request, TusHeader.uploadLength);
    if (size === undefined) throw new GatewayError('GW_ERR_BAD_REQUEST', 'send Upload-Length: the size of the file');
    checkUploadSize(size, maxUploadSize);
    const name = metadataFileName(parseMetadata(header(request, TusHeader.uploadMetadata)));
    checkFileName(name);
    const withBody = hasBody(request);
    if (withBody) checkBodyType(request);
    const length = withBody ? bodyLength(request) : 0;
    if (length > size) throw pastTheEnd(0, length, size);
    if (withBody) transfers.enter(request, reply);
    // `create`, not `begin`: a tus POST is a new upload even when another of that name and size is under way.
    const { id } = await upstream(request, reply, (client) => client.create(name, size));
    const state = withBody ? await writeChunk(request, reply, { id, offset: 0, length }).catch(async (error: unknown) => {
      // A token refused meanwhile cannot abort either: signing in again with it would only count a failure.
      if (!signsOut(error)) await discard(request, id);
      throw error;
    }) : await upstream(request, reply, (client) => stateOf(request, client, id));
    request.log.info({ id, name, size }, 'upload created');
    reply.code(HttpStatus.CREATED).header('location', uploadPath(id));
    if (withBody) reply.header(TusHeader.uploadOffset, String(state.offset));
    return withExpiry(reply, state).send();
  });

  app.head<{ Params: { id: string } }>(uploadUrl, { preHandler: [checkTusVersion, sameOrigin] }, async (request, reply) => {
    const state = await upstream(request, reply, (client) => stateOf(request, client, uploadId(request.params.id)));
    // The tor-server keeps the name alone of the creation's metadata: `filename` is all HEAD echoes.
    const answer = reply.header(TusHeader.uploadOffset, String(state.offset)).header(TusHeader.uploadLength, String(state.size)).header(TusHeader.uploadMetadata, formatNameMetadata(state.name));
    return withExpiry(answer, state).send();
  });

  app.patch<{ Params: { id: string } }>(uploadUrl, { preHandler: [checkTusVersion, sameOrigin] }, async (request, reply) => {
    const id = uploadId(request.params.id);
    checkBodyType(request);
    const offset = byteCount(request, TusHeader.uploadOffset);
    if (offset === undefined) throw new GatewayError('GW_ERR_BAD_REQUEST', 'send Upload-Offset: where these bytes go');
    const length = bodyLength(request);
    transfers.enter(request, reply);
    const before = await upstream(request, reply, (client) => client.details(id));
    const at = before.committed ? before.size : contiguousEnd(before.have);
    if (offset !== at) throw new GatewayError('GW_ERR_OFFSET_MISMATCH', `Upload-Offset is ${offset} but the upload stands at ${at}: ask HEAD and send from there`);
    if (offset + length > before.size) throw pastTheEnd(offset, length, before.size);
    const state = await writeChunk(request, reply, { id, offset, length });
    if (state.offset === state.size) request.log.info({ id, name: state.name, size: state.size }, 'stored');
    return withExpiry(reply.code(HttpStatus.NO_CONTENT).header(TusHeader.uploadOffset, String(state.offset)), state).send();
  });

  app.delete<{ Params: { id: string } }>(uploadUrl, { preHandler: [checkTusVersion, sameOrigin] }, async (request, reply) => {
    const id = uploadId(request.params.id);
    await upstream(request, reply, async (client) => {
      // `details` first lets a put cut a moment ago (the browser cancelling its PATCH) end, or `abort` would find it busy.
      await client.details(id);
      await client.abort(id);
    });
    return reply.code(HttpStatus.NO_CONTENT).send();
  });
};

function pastTheEnd(offset: number, length: number, size: number): GatewayError {
  return new GatewayError('GW_ERR_TOO_LARGE', `the chunk ends at ${offset + length}, past the upload's length of ${size} bytes`);
}

/** The id of an upload URL; 404 for anything that cannot be one. */
function uploadId(id: string): string {
  if (!isUploadId(id)) throw new GatewayError('GW_ERR_NOT_FOUND', 'no upload has this URL: create one with POST');
  return id;
}

/** Where the bytes held from 0 on end (the tus offset): ranges are sorted and disjoint. */
export function contiguousEnd(have: readonly ByteRange[]): number {
  const first = have[0];
  return first && first[0] === 0 ? first[1] : 0;
}

/** Upload-Expires, for an upload that has not been committed yet. */
function withExpiry(reply: FastifyReply, state: UploadState): FastifyReply {
  return state.expires === undefined ? reply : reply.header(TusHeader.uploadExpires, httpDate(state.expires));
}

function logAbortFailed(request: FastifyRequest, id: string, error: unknown): void {
  request.log.info({ id, reason: (error as Error).message }, 'could not abort the upload: it expires after the partial TTL');
}

/** An ISO 8601 time as an HTTP date (Upload-Expires). */
function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}
