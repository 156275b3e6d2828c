/**
 * The gateway's URL paths, defined once: Fastify registers its routes under these and the
 * web app builds its requests from them, so a renamed route is a compile error in both.
 * Browser-safe: no Node import here or anywhere in `gateway/src/api/`.
 */
/** Everything under this prefix is the API: never the web app, and a JSON 404 when unknown. */
export const API_PREFIX = '/api';

export const ApiPath = {
  /** `GET` the listing (`?search=`), `POST` a multipart form of files. */
  files: `${API_PREFIX}/files`,
  /**
   * `GET`/`HEAD` one file (`?inline=1` to show it, `?hash=sha256` for its digest as JSON),
   * `PUT` its raw bytes, `DELETE` it (204), `PATCH` `{"name": "<new>"}` to rename it (200, the new row).
   */
  file: `${API_PREFIX}/files/:name`,
  /** `GET`: what this gateway's tor-server lets its clients do (`SessionResponse`). */
  session: `${API_PREFIX}/session`,
  /** `GET`: is the tor-server reachable. */
  health: `${API_PREFIX}/health`,
  /** `GET` upgraded to the WebSocket of messages.ts. */
  ws: `${API_PREFIX}/ws`,
} as const;

/** The URL path of one file (the `:name` of ApiPath.file, percent-encoded). */
export function filePath(name: string): string {
  return `${ApiPath.files}/${encodeURIComponent(name)}`;
}
