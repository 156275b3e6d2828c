import type { FastifyReply, FastifyRequest } from 'fastify';
import { Reply, type FileEntry } from 'tor-server/protocol';
import type { Incoming, TftcpClient } from 'tor-server/client';
import { GatewayError } from '../errors.js';
import { contentDisposition } from './content-disposition.js';
import { clientGoneSignal } from './client-gone.js';
import { servedType } from './content-type.js';
import { etagFor, ifRangeMatches, isNotModified, lastModifiedFor } from './conditional.js';
import { checkFileName } from './names.js';
import { parseRange } from './range.js';
import type { CommandPool } from './command-pool.js';
import { FILE_SECURITY_HEADERS } from './security-headers.js';
import { reprDigest, type KnownDigests } from './known-digests.js';
import type { TransferLimit } from './transfer-limit.js';
import type { TransferPool } from './transfer-pool.js';

/** What serving a file uses: the pool for the lookup, the transfer pool for the bytes. */
export interface SendFileContext {
  pool: CommandPool;
  transferPool: TransferPool;
  transfers: TransferLimit;
  digests: KnownDigests;
  /** The end user's address, named on any connection opened for this request. */
  clientAddress: string;
}

/** The tor-server's row of exactly `name` (its `stat`), over the shared command pool; 404 when there is none. */
export async function statFile(pool: CommandPool, name: string, signal: AbortSignal, clientAddress: string): Promise<FileEntry> {
  const entry = await pool.run((client) => client.stat(name), { signal, clientAddress });
  if (!entry) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
  return entry;
}

/**
 * Answers GET/HEAD of one file through TFTCP: validators and conditional requests from the
 * tor-server's `stat` row, asked over the shared command pool (so a HEAD or a 304 costs no
 * connection of its own), `Repr-Digest` when the tor-server already told this
 * gateway the file's sha256, a single Range through `range`, the bytes streamed straight
 * from a transfer connection to the response. A plain GET of the whole file (no condition,
 * no Range) asks for the row and the bytes together, in one round trip. The transfer
 * connection goes back to the transfer pool when the bytes are through, and is cut when the
 * browser goes away midway. Active content (HTML, SVG, scripts...) is never served as such:
 * see servedType.
 */
export async function sendFile(request: FastifyRequest, reply: FastifyReply, context: SendFileContext, name: string, inline: boolean): Promise<FastifyReply> {
  checkFileName(name);
  const signal = clientGoneSignal(reply);
  if (request.method === 'GET' && !asksConditionally(request.headers)) return sendWholeFile(request, reply, context, name, inline, signal);
  const entry = await statFile(context.pool, name, signal, context.clientAddress);

  const etag = etagFor(entry);
  // Revalidate every time: the operator may delete a file and someone upload another under its name.
  if (isNotModified(request.headers, etag, entry.modified)) return reply.code(304).headers(validatorsOf(entry)).send();

  const ifRange = request.headers['if-range'];
  const honourRange = ifRangeMatches(Array.isArray(ifRange) ? ifRange[0] : ifRange, etag, entry.modified);
  const wanted = honourRange ? parseRange(request.headers.range, entry.size) : { kind: 'full' as const };
  if (wanted.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${entry.size}`);
    throw new GatewayError('GW_ERR_RANGE_NOT_SATISFIABLE', `the range ${request.headers.range} is outside the file (size ${entry.size})`);
  }
  const head = request.method === 'HEAD';
  if (!head) context.transfers.enter(request, reply);
  describeFile(reply, context, entry, inline);
  const partial = wanted.kind === 'partial';
  const length = partial ? wanted.end - wanted.start + 1 : entry.size;
  if (partial) reply.code(206).header('content-range', `bytes ${wanted.start}-${wanted.end}/${entry.size}`);
  if (head) return reply.header('content-length', length).send();

  const { transferPool } = context;
  const { client, result: incoming } = await transferPool.start((c) => (partial ? c.range(name, wanted.start, length) : c.download(name)), signal, undefined, context.clientAddress);
  if (incoming.size !== length) {
    // The file changed since the lookup: the headers would lie.
    incoming.stream.destroy();
    transferPool.cut(client);
    throw new GatewayError('GW_ERR_UPSTREAM_FAILED', `${name} changed on the tor-server while it was being sent; try again`);
  }
  return streamBytes(reply, transferPool, client, incoming);
}

/** A GET of the whole file with nothing to revalidate: the row and the bytes in one round trip on a transfer connection. */
async function sendWholeFile(request: FastifyRequest, reply: FastifyReply, context: SendFileContext, name: string, inline: boolean, signal: AbortSignal): Promise<FastifyReply> {
  context.transfers.enter(request, reply);
  const { transferPool } = context;
  const { client, result } = await transferPool.start((c) => c.statAndDownload(name), signal, undefined, context.clientAddress);
  if (!result) {
    transferPool.finish(client);
    throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);
  }
  const { entry, incoming } = result;
  if (incoming.size !== entry.size) {
    // The file changed between the two commands: the headers would lie.
    incoming.stream.destroy();
    transferPool.cut(client);
    throw new GatewayError('GW_ERR_UPSTREAM_FAILED', `${name} changed on the tor-server while it was being sent; try again`);
  }
  describeFile(reply, context, entry, inline);
  return streamBytes(reply, transferPool, client, incoming);
}

/** True when the request carries a validator the answer depends on, or asks for a range: the row is needed before any byte. */
function asksConditionally(headers: FastifyRequest['headers']): boolean {
  return headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined || headers.range !== undefined || headers['if-range'] !== undefined;
}

/** The validators of a file's version, on every answer about it (a 304 too). */
function validatorsOf(entry: FileEntry): Record<string, string> {
  return { etag: etagFor(entry), 'last-modified': lastModifiedFor(entry), 'cache-control': 'private, no-cache' };
}

/** The headers that describe the file's bytes: validators, type, disposition, and the digest when known. */
function describeFile(reply: FastifyReply, context: SendFileContext, entry: FileEntry, inline: boolean): void {
  const served = servedType(entry.name, inline);
  reply.headers({
    ...validatorsOf(entry),
    'content-type': served.header,
    'content-disposition': contentDisposition(served.inline ? 'inline' : 'attachment', entry.name),
    'accept-ranges': 'bytes',
    ...FILE_SECURITY_HEADERS,
  });
  // The digest is of the whole file (the representation), whatever range is sent.
  const digest = context.digests.get(entry);
  if (digest) reply.header('repr-digest', reprDigest(digest));
}

/** Streams a transfer's bytes as the body; the connection goes back to the pool after the last byte, or is cut. */
function streamBytes(reply: FastifyReply, transferPool: TransferPool, client: TftcpClient, incoming: Incoming): FastifyReply {
  reply.header('content-length', incoming.size);
  incoming.stream.once('end', () => transferPool.finish(client));
  // A browser that leaves mid-file leaves unread bytes on the connection: it is cut, by choice.
  reply.raw.once('close', () => {
    if (!incoming.stream.readableEnded) transferPool.cut(client);
  });
  // Fastify pipes the stream with backpressure and destroys it if the browser leaves.
  return reply.send(incoming.stream);
}
