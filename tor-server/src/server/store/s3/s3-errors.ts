import { StoreError } from '../store.js';

/** What the SDK puts on a service or network error (radosgw sends empty messages: never branch on `message`). */
interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The HTTP status of an engine's answer, when the error is one. */
export function statusOf(error: unknown): number | undefined {
  return (error as SdkError | undefined)?.$metadata?.httpStatusCode;
}

/** True for "no such key" (HeadObject answers a bare 404, GetObject NoSuchKey). */
export function isNotFound(error: unknown): boolean {
  const { name, Code } = error as SdkError;
  if (name === 'NoSuchBucket' || Code === 'NoSuchBucket') return false;
  return statusOf(error) === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

/** True when a conditional request's condition failed (If-None-Match: * on a taken key, If-Match on a changed one). */
export function isPreconditionFailed(error: unknown): boolean {
  return statusOf(error) === 412 || (error as SdkError).name === 'PreconditionFailed';
}

// Network failures the SDK passes on from Node: the engine is down or unreachable.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

const VAGUE_NAMES = new Set(['UnknownError', 'Unknown', 'Forbidden', 'NotFound', 'BadRequest']);

/**
 * A short, clear account of what went wrong with the engine, for the client's `Server error`
 * line and the log: from the error's name and HTTP status, never its message.
 */
export function s3Problem(error: unknown): string {
  const e = error as SdkError & { cause?: SdkError };
  const code = e.code ?? e.cause?.code;
  if (code !== undefined && NETWORK_CODES.has(code)) return `the S3 engine is unreachable (${code})`;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'ECONNABORTED') return 'the S3 engine did not answer in time';
  const status = statusOf(error);
  const name = e.name ?? e.Code ?? 'error';
  // What the SDK calls an error when the engine sent no code (a HEAD's bare status, radosgw's empty bodies).
  const named = VAGUE_NAMES.has(name) ? '' : ` ${name}`;
  if (status === 403) return `the S3 engine refused access (403${named}): check the credentials and the bucket policy`;
  if (status === 404 && name === 'NoSuchBucket') return 'the S3 bucket does not exist';
  if (status !== undefined && status >= 500) return `the S3 engine failed (${status}${named})`;
  if (status !== undefined) return `the S3 engine answered ${status}${named}`;
  return `the S3 request failed (${code ?? name})`;
}

/** True when the engine says the bucket or account is full (a quota). */
function isQuotaExceeded(error: unknown): boolean {
  const { name, Code } = error as SdkError;
  return name === 'QuotaExceeded' || Code === 'QuotaExceeded' || statusOf(error) === 507;
}

/**
 * An engine error as a StoreError: a full quota is `no-space`, anything else `unavailable` with
 * {@link s3Problem} as its reason, which the commands put in their `Server error` line.
 */
export function s3StoreError(error: unknown, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  const problem = s3Problem(error);
  if (isQuotaExceeded(error)) return new StoreError('no-space', 'the S3 quota is used up', { reason: 'QuotaExceeded', cause: error });
  return new StoreError('unavailable', `${doing}: ${problem}`, { reason: problem, cause: error });
}
