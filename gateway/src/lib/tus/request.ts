/** The headers of a tus request, read and checked: the refusals come before any byte of a body is read. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TUS_CONTENT_TYPE, TUS_VERSION, TusHeader } from '../../api/index.js';
import { GatewayError } from '../../errors.js';

const BYTE_COUNT = /^\d{1,16}$/;

/** 412 (with the version spoken) for a request that does not speak tus 1.0.0. */
export async function checkTusVersion(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const version = header(request, TusHeader.resumable);
  if (version !== TUS_VERSION) {
    reply.header(TusHeader.version, TUS_VERSION);
    throw new GatewayError('GW_ERR_TUS_VERSION', `send Tus-Resumable: ${TUS_VERSION}${version === undefined ? '' : ` (not "${version.slice(0, 20)}")`}`);
  }
}

/** A request header as one string (repeated ones joined). */
export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** A byte count header; undefined when absent, 400 when it is not one. */
export function byteCount(request: FastifyRequest, name: string): number | undefined {
  const text = header(request, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!BYTE_COUNT.test(text) || !Number.isSafeInteger(value)) throw new GatewayError('GW_ERR_BAD_REQUEST', `${name} must be a byte count, not "${text.slice(0, 20)}"`);
  return value;
}

/** Whether the request carries a body. */
export function hasBody(request: FastifyRequest): boolean {
  return request.headers['transfer-encoding'] !== undefined || (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');
}

/** The body's Content-Length; 411 without one. */
export function bodyLength(request: FastifyRequest): number {
  const length = byteCount(request, 'content-length');
  if (length === undefined) throw new GatewayError('GW_ERR_LENGTH_REQUIRED', 'send the chunk with a Content-Length: the tor-server needs the length before the bytes');
  return length;
}

/** 415 unless the body is `application/offset+octet-stream`. */
export function checkBodyType(request: FastifyRequest): void {
  const type = header(request, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== TUS_CONTENT_TYPE) throw new GatewayError('GW_ERR_UNSUPPORTED_MEDIA_TYPE', `send the bytes as Content-Type: ${TUS_CONTENT_TYPE}`);
}
