import { TftcpConnectionError, TftcpProtocolError, TftcpReplyError, TftcpSizeMismatchError, type RefusalKind } from 'tor-server/client';
import { ErrorKind, SHARE_USED_UP, SignInRefusal } from 'tor-server/protocol';

/**
 * How the gateway's size-mismatch answers begin. It is the gateway's own kind, in the style of
 * the TFTCP error replies: the tor-server never sees an upload's missing or extra bytes (the
 * client cuts the connection instead), so it has no reply for them.
 */
export const SIZE_MISMATCH = 'Size mismatch';

/** The gateway's own error codes and the HTTP status each one answers with. */
export const GatewayErrors = {
  GW_ERR_BAD_REQUEST: 400,
  GW_ERR_INVALID_NAME: 400,
  GW_ERR_SIZE_MISMATCH: 400,
  /** No valid sign-in: none where the tor-server requires one, or a token unknown, revoked or expired. */
  GW_ERR_UNAUTHORIZED: 401,
  /** The tor-server's access level does not allow it (`Permission denied: ...`). */
  GW_ERR_FORBIDDEN: 403,
  GW_ERR_FORBIDDEN_ORIGIN: 403,
  GW_ERR_NOT_FOUND: 404,
  GW_ERR_FILE_EXISTS: 409,
  /** A tus PATCH whose Upload-Offset is not where the upload stands. */
  GW_ERR_OFFSET_MISMATCH: 409,
  GW_ERR_LENGTH_REQUIRED: 411,
  /** A tus request without `Tus-Resumable: 1.0.0`. */
  GW_ERR_TUS_VERSION: 412,
  GW_ERR_TOO_LARGE: 413,
  GW_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  GW_ERR_RANGE_NOT_SATISFIABLE: 416,
  GW_ERR_MISDIRECTED: 421,
  /** A tus PATCH whose bytes do not match its Upload-Checksum: nothing of it was stored. */
  GW_ERR_CHECKSUM_MISMATCH: 460,
  GW_ERR_TOO_MANY_TRANSFERS: 429,
  /** Too many sign-ins of tokens not yet known good from one address under way at once (and Retry-After). */
  GW_ERR_TOO_MANY_SIGN_INS: 429,
  /** Too many failed sign-ins from the user's address (`Too many attempts: retry in N s`, and Retry-After). */
  GW_ERR_TOO_MANY_ATTEMPTS: 429,
  /** The tor-server's bound on unfinished resumable uploads: one must be committed or aborted first (waiting alone does not help). */
  GW_ERR_TOO_MANY_PARTIALS: 429,
  /** The client left before the answer; nothing is sent (nginx logs these as 499). */
  GW_ERR_CLIENT_GONE: 499,
  GW_ERR_INTERNAL: 500,
  GW_ERR_UPSTREAM_FAILED: 502,
  GW_ERR_UPSTREAM_UNREACHABLE: 503,
  GW_ERR_UPSTREAM_BUSY: 503,
  GW_ERR_SHUTTING_DOWN: 503,
  GW_ERR_WEB_APP_MISSING: 503,
  GW_ERR_NO_SPACE: 507,
} as const;

export type GatewayErrorCode = keyof typeof GatewayErrors;

/** An error the gateway answers with: a stable code, its HTTP status, and a message for people. */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly statusCode: number;
  /** Sent as Retry-After (seconds) when set. */
  readonly retryAfterSeconds: number | undefined;
  /**
   * True when the token of the request is dead for good (the tor-server refused its sign-in, or
   * it cannot be a token at all): only then does a 401 clear the session cookie and end the user.
   */
  readonly signInRefused: boolean;
  constructor(code: GatewayErrorCode, message: string, options?: ErrorOptions & { statusCode?: number; retryAfterSeconds?: number; signInRefused?: boolean }) {
    super(message, options);
    this.code = code;
    // Only client errors raised by Fastify itself carry a status outside the catalogue (405, 406...).
    this.statusCode = options?.statusCode ?? GatewayErrors[code];
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.signInRefused = options?.signInRefused ?? false;
  }
}

/**
 * The one place a TFTCP refusal becomes an HTTP status (and a gateway code). Every other
 * module classifies replies through TftcpReplyError.kind, never by their text.
 */
export function codeForRefusal(kind: RefusalKind): GatewayErrorCode {
  switch (kind) {
    case 'not-found':
    case ErrorKind.UNKNOWN_UPLOAD:
      return 'GW_ERR_NOT_FOUND';
    case ErrorKind.INVALID_NAME:
      return 'GW_ERR_INVALID_NAME';
    case ErrorKind.INVALID_SIZE:
    case ErrorKind.INCOMPLETE_UPLOAD:
    case ErrorKind.CHECKSUM_MISMATCH:
    case 'unknown-command':
      return 'GW_ERR_BAD_REQUEST';
    case ErrorKind.FILE_EXISTS:
      return 'GW_ERR_FILE_EXISTS';
    case ErrorKind.PERMISSION_DENIED:
      return 'GW_ERR_FORBIDDEN';
    case 'sign-in-needed':
    case SignInRefusal.INVALID_TOKEN:
      return 'GW_ERR_UNAUTHORIZED';
    case SignInRefusal.TOO_MANY_ATTEMPTS:
      return 'GW_ERR_TOO_MANY_ATTEMPTS';
    case ErrorKind.TOO_MANY_UPLOADS:
      return 'GW_ERR_TOO_MANY_PARTIALS';
    case ErrorKind.TOO_LARGE:
      return 'GW_ERR_TOO_LARGE';
    case ErrorKind.NO_SPACE:
      return 'GW_ERR_NO_SPACE';
    case ErrorKind.INVALID_RANGE:
      return 'GW_ERR_RANGE_NOT_SATISFIABLE';
    case ErrorKind.TOO_MANY_CLIENTS:
    case ErrorKind.RANGE_BUSY:
    case ErrorKind.SHUTTING_DOWN:
    case ErrorKind.IDLE_TIMEOUT:
      return 'GW_ERR_UPSTREAM_BUSY';
    case ErrorKind.SERVER_ERROR:
    case 'other':
      return 'GW_ERR_UPSTREAM_FAILED';
  }
}

/** True for a refusal that means the request has no valid sign-in (a 401): the token is dead, or none was given where one is needed. */
export function endsSignIn(kind: RefusalKind): boolean {
  return codeForRefusal(kind) === 'GW_ERR_UNAUTHORIZED';
}

/**
 * True for a refusal after which the tor-server has signed the connection out (its token was
 * revoked or expired, or a share link is used up): the connection must never serve again.
 */
export function signsOut(error: unknown): boolean {
  return error instanceof TftcpReplyError && (endsSignIn(error.kind) || error.reply === SHARE_USED_UP);
}

/** HTTP status for a TFTCP refusal. */
export function statusForRefusal(kind: RefusalKind): number {
  return GatewayErrors[codeForRefusal(kind)];
}

interface HttpLikeError {
  statusCode?: unknown;
  message?: unknown;
}

/**
 * Turns anything thrown while serving a request into a GatewayError: TFTCP refusals keep the
 * server's reply line as their message, an upload source of the wrong size is a 400, a broken upstream is 502, client errors raised by
 * Fastify or its plugins keep their status, and anything else is a 500 that leaks no detail.
 */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof TftcpSizeMismatchError) {
    const arrived = error.received > error.announced ? 'more' : String(error.received);
    const detail = `${error.fileName} was announced as ${error.announced} bytes but ${arrived} arrived; nothing was stored`;
    return new GatewayError('GW_ERR_SIZE_MISMATCH', `${SIZE_MISMATCH}: ${detail}`, { cause: error });
  }
  if (error instanceof TftcpReplyError) {
    return new GatewayError(codeForRefusal(error.kind), error.reply, { cause: error, retryAfterSeconds: error.retryAfterSeconds, signInRefused: endsSignIn(error.kind) });
  }
  if (error instanceof TftcpConnectionError || error instanceof TftcpProtocolError) {
    return new GatewayError('GW_ERR_UPSTREAM_FAILED', `the tor-server connection failed: ${error.message}`, { cause: error });
  }
  const status = (error as HttpLikeError | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = (Object.keys(GatewayErrors) as GatewayErrorCode[]).find((c) => GatewayErrors[c] === status) ?? 'GW_ERR_BAD_REQUEST';
    return new GatewayError(code, String((error as HttpLikeError).message), { cause: error, statusCode: status });
  }
  return new GatewayError('GW_ERR_INTERNAL', 'internal gateway error', { cause: error });
}
