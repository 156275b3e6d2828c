/** JSON bodies of the gateway's HTTP API, shared with the web app through `import type`. */

export type { FileInfo } from '../ws/messages.js';

/** One file's outcome in a `POST /api/files` response. */
export interface UploadResult {
  name: string;
  size: number;
  ok: boolean;
  /** The tor-server's reply line, or the gateway's own reason. */
  error?: string;
}

/**
 * `POST /api/files` response body: one result per file part, in form order. Status 201 when
 * every file was stored, 207 when some were, the failure's status (409, 413...) when none were.
 */
export interface UploadResponse {
  files: UploadResult[];
  /** Why the rest of the form was not read (too many parts, malformed); the files after it have no result. */
  error?: string;
}

/** `GET /api/health` response body. */
export interface HealthResponse {
  gateway: 'ok';
  upstream: 'ok' | 'unreachable';
}

/** Every error response body. */
export interface ErrorResponse {
  error: string;
}
