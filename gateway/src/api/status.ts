/** HTTP statuses of the API that both sides act on (errors have theirs in errors.ts's catalogue). */
export const HttpStatus = {
  OK: 200,
  /** Every file of an upload was stored. */
  CREATED: 201,
  /** A download of a byte range. */
  PARTIAL_CONTENT: 206,
  /** Some files of a multipart upload were stored, some not: see each result. */
  MULTI_STATUS: 207,
  /** A file was deleted. */
  NO_CONTENT: 204,
  NOT_MODIFIED: 304,
  /** The tor-server requires a sign-in and this request carries no (valid) token. */
  UNAUTHORIZED: 401,
  /** The tor-server's access level does not allow it (`Permission denied: ...`). */
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  /** The new name of a rename (or an upload's name) is taken. */
  CONFLICT: 409,
  /** Too many failed sign-ins from this address (`Too many attempts: retry in N s`, and Retry-After). */
  TOO_MANY_REQUESTS: 429,
  /** `GET /api/health` when the tor-server does not answer. */
  SERVICE_UNAVAILABLE: 503,
} as const;
