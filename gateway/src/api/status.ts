/** HTTP statuses of the API that both sides act on (errors have theirs in errors.ts's catalogue). */
export const HttpStatus = {
  OK: 200,
  /** Every file of an upload was stored. */
  CREATED: 201,
  /** A download of a byte range. */
  PARTIAL_CONTENT: 206,
  /** Some files of a multipart upload were stored, some not: see each result. */
  MULTI_STATUS: 207,
  NOT_MODIFIED: 304,
  NOT_FOUND: 404,
  /** `GET /api/health` when the tor-server does not answer. */
  SERVICE_UNAVAILABLE: 503,
} as const;
