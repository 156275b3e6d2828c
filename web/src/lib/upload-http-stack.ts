import type { HttpRequest, HttpResponse, HttpStack } from 'tus-js-client';
import { TusHeader } from 'gateway/api';

/** The bytes a chunk's body holds: a Blob slice of a File in browsers, a Uint8Array elsewhere. */
async function bytesOf(body: Blob | Uint8Array<ArrayBuffer>): Promise<BufferSource> {
  return body instanceof Blob ? body.arrayBuffer() : body;
}

/** `sha256 <base64>` of a chunk, for `Upload-Checksum`, computed with WebCrypto. */
export async function sha256Checksum(body: Blob | Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await bytesOf(body)));
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return `sha256 ${btoa(binary)}`;
}

/** 5xx: the gateway or the tor-server behind it is having a moment; the upload is not gone. */
const SERVER_ERROR = 500;

/** A HEAD refused for who the user is (401, 403) or too many sign-ins at once (429): the upload is not gone either. */
const REFUSALS_TO_KEEP = new Set([401, 403, 429]);

/**
 * A HEAD the gateway refused with REFUSALS_TO_KEEP: thrown so tus-js-client keeps the upload's
 * URL (an answer it would take as "gone"), carrying the status for the page to act on (a HEAD
 * answer has no body to show).
 */
export class HeadRefusedError extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`the gateway refused to look up the upload (${status})`);
    this.status = status;
  }
}

/**
 * The web app's HTTP stack for tus-js-client, around its default one:
 * - every request that carries upload bytes (a PATCH, or a POST with its first chunk) also
 *   carries the sha256 of exactly those bytes, so the gateway checks each chunk before any of
 *   it is stored, with no hashing of the whole file before the first byte;
 * - a HEAD answered 5xx fails like a lost connection. tus-js-client takes any failed HEAD
 *   answer as "the upload is gone" and creates a new one from zero; a tor-server restarting
 *   behind the gateway must not cost the bytes it already holds, so it is retried instead;
 * - a HEAD refused for the sign-in (a session that ended, a level taken away) fails the same
 *   way, as a HeadRefusedError, so signing in again resumes the upload instead of starting it over.
 */
export class UploadHttpStack implements HttpStack {
  readonly #inner: HttpStack;

  constructor(inner: HttpStack) {
    this.#inner = inner;
  }

  createRequest(method: string, url: string): HttpRequest {
    const request = this.#inner.createRequest(method, url);
    const send = request.send.bind(request);
    request.send = async (body: unknown): Promise<HttpResponse> => {
      if (body instanceof Blob || body instanceof Uint8Array) request.setHeader(TusHeader.uploadChecksum, await sha256Checksum(body as Blob | Uint8Array<ArrayBuffer>));
      const response = await send(body);
      if (method === 'HEAD' && response.getStatus() >= SERVER_ERROR) throw new Error(`the gateway answered ${response.getStatus()}: try again`);
      if (method === 'HEAD' && REFUSALS_TO_KEEP.has(response.getStatus())) throw new HeadRefusedError(response.getStatus());
      return response;
    };
    return request;
  }

  getName(): string {
    return `tor(${this.#inner.getName()})`;
  }
}
