import type { FastifyReply, FastifyRequest } from 'fastify';
import { Reply, type FileEntry } from 'tor-server/protocol';
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
 * tor-server's `stat` row, asked over the shared command pool (so a HEAD, a 304 or a 404
 * costs no connection of its own), `Repr-Digest` when the tor-server already told this
 * gateway the file's sha256, a single Range through `range`, the bytes streamed straight
 * from a transfer connection to the response. That connection goes back to the transfer pool
 * when the bytes are through, and is cut when the browser goes away midway. Active content
 * (HTML, SVG, scripts...) is never served as such: see servedType.
 */
export async function sendFile(request: FastifyRequest, reply: FastifyReply, context: SendFileContext, name: string, inline: boolean): Promise<FastifyReply> {
  checkFileName(name);
  const signal = clientGoneSignal(reply);
  const entry = await statFile(context.pool, name, signal, context.clientAddress);

  const etag = etagFor(entry);
  const validators = { etag, 'last-modified': lastModifiedFor(entry), 'cache-control': 'private, no-cache' };
  // Revalidate every time: the operator may delete a file and someone upload another under its name.
  if (isNotModified(request.headers, etag, entry.modified)) return reply.code(304).headers(validators).send();

  const ifRange = request.headers['if-range'];
  const honourRange = ifRangeMatches(Array.isArray(ifRange) ? ifRange[0] : ifRange, etag, entry.modified);
  const wanted = honourRange ? parseRange(request.headers.range, entry.size) : { kind: 'full' as const };
  if (wanted.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${entry.size}`);
    throw new GatewayError('GW_ERR_RANGE_NOT_SATISFIABLE', `the range ${request.headers.range} is outside the file (size ${entry.size})`);
  }
  const head = request.method === 'HEAD';
  if (!head) context.transfers.enter(request, reply);
  const served = servedType(name, inline);
  reply.headers({
    ...validators,
    'content-type': served.header,
    'content-disposition': contentDisposition(served.inline ? 'inline' : 'attachment', name),
    'accept-ranges': 'bytes',
    ...FILE_SECURITY_HEADERS,
  });
  // The digest is of the whole file (the representation), whatever range is sent.
  const digest = context.digests.get(entry);
  if (digest) reply.header('repr-digest', reprDigest(digest));
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
  reply.header('content-length', length);
  incoming.stream.once('end', () => transferPool.finish(client));
  // A browser that leaves mid-file leaves unread bytes on the connection: it is cut, by choice.
  reply.raw.once('close', () => {
    if (!incoming.stream.readableEnded) transferPool.cut(client);
  });
  // Fastify pipes the stream with backpressure and destroys it if the browser leaves.
  return reply.send(incoming.stream);
}
