import os from 'node:os';
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TftcpClient } from 'tor-server/client';
import { isUploadId, type ByteRange } from 'tor-server/protocol';
import {
  ApiPath,
  HttpStatus,
  TUS_CHECKSUM_ALGORITHMS,
  TUS_CONTENT_TYPE,
  TUS_EXTENSIONS,
  TUS_MAX_CHECKSUM_CHUNK_BYTES,
  TUS_VERSION,
  TusHeader,
  uploadPath,
} from '../api/index.js';
import { GatewayError } from '../errors.js';
import { clientGoneSignal } from '../lib/client-gone.js';
import { sendContinue } from '../lib/expect-continue.js';
import type { GatewayMetrics } from '../lib/metrics.js';
import { checkFileName } from '../lib/names.js';
import { assertSameOrigin, type OriginPolicy } from '../lib/origin.js';
import { TransferLimit } from '../lib/transfer-limit.js';
import type { TransferPool } from '../lib/transfer-pool.js';
import { checkUploadSize } from '../lib/upload.js';
import { parseChecksum } from '../lib/tus/checksum.js';
import { putPieces, spoolChecked, spooledBytes, type Chunk } from '../lib/tus/chunk.js';
import { formatNameMetadata, metadataFileName, parseMetadata } from '../lib/tus/metadata.js';

export interface UploadsRoutesOptions {
  /** The connections uploads run on (the same pool as `/api/files` transfers). */
  transferPool: TransferPool;
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
}

const DEFAULT_MAX_TRANSFERS_PER_ADDRESS = 16;
const DEFAULT_SPOOL_RESERVE_BYTES = 64 * 1024 * 1024;
const BYTE_COUNT = /^\d{1,16}$/;

/** What the gateway knows of an upload: all from the tor-server, nothing kept here. */
interface UploadState {
  id: string;
  size: number;
  name: string;
  /** Where the bytes held from 0 on end: the tus Upload-Offset. */
  offset: number;
  /** ISO 8601. */
  expires: string;
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
  const transfers = new TransferLimit(options.maxTransfersPerAddress ?? DEFAULT_MAX_TRANSFERS_PER_ADDRESS, (request, reply) => options.metrics.transferStarted(request, reply));
  const uploadUrl = `${ApiPath.uploads}:id`;

  // Bodies are streamed to the tor-server by the handlers, never parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // Every tus answer, errors included, says which version it speaks; none may be cached.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header(TusHeader.resumable, TUS_VERSION);
    reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  /** The transfer connections a request's uploads run on: the one place a per-user pool would be chosen. */
  const transferPoolFor = (_request: FastifyRequest): TransferPool => options.transferPool;

  /**
   * Runs `work` on a transfer connection, given back when it ends cleanly, cut otherwise. A reused
   * connection that died idle is replaced while `moved()` says no byte of the body was taken.
   */
  async function upstream<T>(request: FastifyRequest, reply: FastifyReply, work: (client: TftcpClient) => Promise<T>, moved?: () => boolean): Promise<T> {
    const pool = transferPoolFor(request);
    const { client, result } = await pool.start(work, clientGoneSignal(reply), moved);
    pool.finish(client);
    return result;
  }

  /** The upload's state, committing it when every byte is there (after a PATCH, or a gateway that stopped before its commit). */
  async function stateOf(client: TftcpClient, id: string): Promise<UploadState> {
    const { have, size, name, expires } = await client.details(id);
    const offset = contiguousEnd(have);
    if (offset === size) await client.commit(id);
    return { id, size, name, offset, expires };
  }

  /**
   * `begin`, always of a new upload. The tor-server resumes its partial of the same name and size
   * (how a TFTCP client that lost its id resumes), but a tus POST is a new upload, maybe of other
   * bytes with that name and size: the old partial is thrown away rather than mixed in. A POST
   * while another client still writes it fails (503, Range busy) and changes nothing.
   */
  async function beginFresh(client: TftcpClient, name: string, size: number): Promise<string> {
    const begun = await client.begin(name, size);
    if (begun.have.length === 0) return begun.id;
    await client.abort(begun.id);
    return (await client.begin(name, size)).id;
  }

  /** Sends one chunk at `chunk.offset` (spooled and checked first when it carries an Upload-Checksum), then reads the state back. */
  async function writeChunk(request: FastifyRequest, reply: FastifyReply, chunk: Omit<Chunk, 'body'>): Promise<UploadState> {
    const checksum = parseChecksum(header(request, TusHeader.uploadChecksum));
    if (checksum && chunk.length > spool.maxBytes) {
      throw new GatewayError('GW_ERR_TOO_LARGE', `a chunk with an Upload-Checksum carries at most ${spool.maxBytes} bytes (this one ${chunk.length}): send smaller chunks`);
    }
    sendContinue(request, reply);
    const spooled = checksum ? await spoolChecked({ ...chunk, body: request.raw }, checksum, spool) : undefined;
    // The spool file's stream owns its handle: destroyed here whatever happens, then the file removed.
    const body: Readable = spooled ? spooledBytes(spooled) : request.raw;
    try {
      const chunks = body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
      return await upstream(
        request,
        reply,
        async (client) => {
          await putPieces(client, chunk, chunks);
          return stateOf(client, chunk.id);
        },
        () => body.readableDidRead,
      );
    } finally {
      if (spooled) {
        body.destroy();
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
    const id = await upstream(request, reply, (client) => beginFresh(client, name, size));
    // creation-with-upload: the first bytes go at 0 (overwriting is harmless when `begin` resumed a partial of the same file).
    const state = withBody ? await writeChunk(request, reply, { id, offset: 0, length }) : await upstream(request, reply, (client) => stateOf(client, id));
    request.log.info({ id, name, size }, 'upload created');
    reply.code(HttpStatus.CREATED).header('location', uploadPath(id));
    if (withBody) reply.header(TusHeader.uploadOffset, String(state.offset));
    return reply.header(TusHeader.uploadExpires, httpDate(state.expires)).send();
  });

  app.head<{ Params: { id: string } }>(uploadUrl, { preHandler: [checkTusVersion, sameOrigin] }, async (request, reply) => {
    const state = await upstream(request, reply, (client) => stateOf(client, uploadId(request.params.id)));
    return reply
      .header(TusHeader.uploadOffset, String(state.offset))
      .header(TusHeader.uploadLength, String(state.size))
      .header(TusHeader.uploadMetadata, formatNameMetadata(state.name))
      .header(TusHeader.uploadExpires, httpDate(state.expires))
      .send();
  });

  app.patch<{ Params: { id: string } }>(uploadUrl, { preHandler: [checkTusVersion, sameOrigin] }, async (request, reply) => {
    const id = uploadId(request.params.id);
    checkBodyType(request);
    const offset = byteCount(request, TusHeader.uploadOffset);
    if (offset === undefined) throw new GatewayError('GW_ERR_BAD_REQUEST', 'send Upload-Offset: where these bytes go');
    const length = bodyLength(request);
    transfers.enter(request, reply);
    const before = await upstream(request, reply, (client) => client.details(id));
    const at = contiguousEnd(before.have);
    if (offset !== at) throw new GatewayError('GW_ERR_OFFSET_MISMATCH', `Upload-Offset is ${offset} but the upload stands at ${at}: ask HEAD and send from there`);
    if (offset + length > before.size) throw pastTheEnd(offset, length, before.size);
    const state = await writeChunk(request, reply, { id, offset, length });
    if (state.offset === state.size) request.log.info({ id, name: state.name, size: state.size }, 'stored');
    return reply.code(HttpStatus.NO_CONTENT).header(TusHeader.uploadOffset, String(state.offset)).header(TusHeader.uploadExpires, httpDate(state.expires)).send();
  });

  app.delete<{ Params: { id: string } }>(uploadUrl, { preHandler: [checkTusVersion, sameOrigin] }, async (request, reply) => {
    const id = uploadId(request.params.id);
    await upstream(request, reply, (client) => client.abort(id));
    return reply.code(HttpStatus.NO_CONTENT).send();
  });
};

/** 412 (with the version spoken) for a request that does not speak tus 1.0.0. */
async function checkTusVersion(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const version = header(request, TusHeader.resumable);
  if (version !== TUS_VERSION) {
    reply.header(TusHeader.version, TUS_VERSION);
    throw new GatewayError('GW_ERR_TUS_VERSION', `send Tus-Resumable: ${TUS_VERSION}${version === undefined ? '' : ` (not "${version.slice(0, 20)}")`}`);
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** A byte count header; undefined when absent, 400 when it is not one. */
function byteCount(request: FastifyRequest, name: string): number | undefined {
  const text = header(request, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!BYTE_COUNT.test(text) || !Number.isSafeInteger(value)) throw new GatewayError('GW_ERR_BAD_REQUEST', `${name} must be a byte count, not "${text.slice(0, 20)}"`);
  return value;
}

function hasBody(request: FastifyRequest): boolean {
  return request.headers['transfer-encoding'] !== undefined || (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');
}

function bodyLength(request: FastifyRequest): number {
  const length = byteCount(request, 'content-length');
  if (length === undefined) throw new GatewayError('GW_ERR_LENGTH_REQUIRED', 'send the chunk with a Content-Length: the tor-server needs the length before the bytes');
  return length;
}

function checkBodyType(request: FastifyRequest): void {
  const type = header(request, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== TUS_CONTENT_TYPE) throw new GatewayError('GW_ERR_UNSUPPORTED_MEDIA_TYPE', `send the bytes as Content-Type: ${TUS_CONTENT_TYPE}`);
}

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

/** An ISO 8601 time as an HTTP date (Upload-Expires). */
function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}
