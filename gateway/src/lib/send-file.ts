import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TftcpClient } from 'tor-server/client';
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
import type { TransferLimit } from './transfer-limit.js';
import type { Upstream } from './upstream.js';

/** What serving a file uses: the pool for the lookup, a connection of its own for the bytes. */
export interface SendFileContext {
  upstream: Upstream;
  pool: CommandPool;
  transfers: TransferLimit;
}

/** Finds the listing row of exactly `name` (search is a substring match, so filter it). */
export async function findFile(client: TftcpClient, name: string): Promise<FileEntry | undefined> {
  const rows = await client.search(name);
  return rows.find((row) => row.name === name);
}

/**
 * Answers GET/HEAD of one file through TFTCP: validators and conditional requests from the
 * listing row, looked up over the shared command pool (so a HEAD, a 304 or a 404 costs no
 * connection of its own), a single Range through `range`, the bytes streamed straight from a
 * TFTCP connection of their own to the response. That connection is released when the bytes
 * are through, and cut when the browser goes away. Active content (HTML, SVG, scripts...) is
 * never served as such: see servedType.
 */
export async function sendFile(request: FastifyRequest, reply: FastifyReply, context: SendFileContext, name: string, inline: boolean): Promise<FastifyReply> {
  checkFileName(name);
  const signal = clientGoneSignal(reply);
  const entry = await context.pool.run((client) => findFile(client, name), { signal });
  if (!entry) throw new GatewayError('GW_ERR_NOT_FOUND', Reply.NOT_FOUND);

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
  const partial = wanted.kind === 'partial';
  const length = partial ? wanted.end - wanted.start + 1 : entry.size;
  if (partial) reply.code(206).header('content-range', `bytes ${wanted.start}-${wanted.end}/${entry.size}`);
  if (head) return reply.header('content-length', length).send();

  const { upstream } = context;
  const client = await upstream.connect({ signal });
  let handedOver = false;
  try {
    const incoming = partial ? await client.range(name, wanted.start, length) : await client.download(name);
    if (incoming.size !== length) {
      // The file changed since the lookup: the headers would lie.
      incoming.stream.destroy();
      throw new GatewayError('GW_ERR_UPSTREAM_FAILED', `${name} changed on the tor-server while it was being sent; try again`);
    }
    reply.header('content-length', length);
    incoming.stream.once('end', () => upstream.release(client));
    // A browser that leaves mid-file leaves unread bytes on the connection: it is cut, by choice.
    reply.raw.once('close', () => {
      if (!incoming.stream.readableEnded) upstream.discard(client);
    });
    handedOver = true;
    // Fastify pipes the stream with backpressure and destroys it if the browser leaves.
    return reply.send(incoming.stream);
  } finally {
    if (!handedOver) upstream.release(client);
  }
}
