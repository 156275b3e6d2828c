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
  /**
   * `GET`: who this request is to the tor-server (`SessionResponse`, or 401 when it requires a
   * sign-in); `POST` a `SignInRequest` to sign in (sets the cookie); `DELETE` to sign out.
   */
  session: `${API_PREFIX}/session`,
  /** `GET` the share links this session may see (`SharesResponse`); `POST` a `ShareRequest` (201, `NewShareResponse`). */
  shares: `${API_PREFIX}/shares`,
  /** `DELETE` one share link by id (204; 404 when it is none this session may revoke). */
  share: `${API_PREFIX}/shares/:id`,
  /** `GET` the file a share link opens (`SharedFileResponse`), without signing in. */
  sharedFile: `${API_PREFIX}/s/:token`,
  /** `GET`/`HEAD` the bytes of that file (ranges too; only whole downloads count toward its maximum). */
  sharedDownload: `${API_PREFIX}/s/:token/download`,
  /** `/api/uploads/`: the tus 1.0.0 endpoint of resumable uploads (creation, termination, expiration, checksum). */
  uploads: `${API_PREFIX}/uploads/`,
  /** `GET`: is the tor-server reachable. */
  health: `${API_PREFIX}/health`,
  /** `GET` upgraded to the WebSocket of messages.ts. */
  ws: `${API_PREFIX}/ws`,
} as const;

/** The public page of a share link (served by the web app), as `POST /api/shares` answers it. */
export const SHARE_PAGE_PREFIX = '/s/';

/** The public page of one share link. */
export function sharePagePath(token: string): string {
  return `${SHARE_PAGE_PREFIX}${encodeURIComponent(token)}`;
}

/** The API path of the file a share link opens; `download` for its bytes. */
export function sharedFilePath(token: string, download = false): string {
  return `${API_PREFIX}/s/${encodeURIComponent(token)}${download ? '/download' : ''}`;
}

/** The URL path of one file (the `:name` of ApiPath.file, percent-encoded). */
export function filePath(name: string): string {
  return `${ApiPath.files}/${encodeURIComponent(name)}`;
}
