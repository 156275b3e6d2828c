/**
 * Signing in and share links over HTTP. The gateway decides none of it: it carries the user's
 * token to the tor-server (`auth`, `share`, `shares`, `unshare`) and answers with what that says.
 * Browser-safe, like the rest of `gateway/src/api/`.
 */
import { ACCESS_LEVELS, type AccessLevel, fileEntrySchema } from './schemas.js';
import type { FileEntry } from './messages.js';

/**
 * The cookie `POST /api/session` sets: the token itself (HttpOnly, SameSite=Strict, Path=/,
 * Secure under HTTPS), so any gateway in front of the same tor-server accepts it.
 */
export const SESSION_COOKIE = 'tft_session';

/** API clients send `Authorization: Bearer <token>` instead of the cookie. */
export const BEARER_PREFIX = 'Bearer ';

/** `#token=<token>` in a link to the web app signs in with it (and is removed from the address bar). */
export const TOKEN_FRAGMENT = 'token';

/**
 * `GET`/`POST /api/session` response body: who the tor-server says this request is.
 * `GET` answers 401 (`ErrorResponse`) when the tor-server requires a sign-in and none was sent.
 */
export interface SessionResponse {
  /** What the tor-server lets this session do (its `whoami`). */
  access: AccessLevel;
  /** The token's label (`signed in as <label>`); absent when not signed in (open mode). */
  label?: string;
}
export const sessionResponseSchema = {
  type: 'object',
  properties: {
    access: { type: 'string', enum: ACCESS_LEVELS },
    label: { type: 'string' },
  },
  required: ['access'],
} as const;

/**
 * `POST /api/session` request body. Answers 200 and the cookie, 401 `Invalid token` (or
 * `Permission denied: token expired`: a dead token, like any 401, which also clears the
 * cookie), 403 `Permission denied: share link used up`, 429 `Too many attempts: retry in N s`
 * (with Retry-After). `DELETE /api/session` answers 204 and clears the cookie.
 */
export interface SignInRequest {
  token: string;
}
export const signInRequestSchema = {
  type: 'object',
  properties: { token: { type: 'string', minLength: 1, maxLength: 512 } },
  required: ['token'],
  additionalProperties: false,
} as const;

/** `POST /api/shares` request body: share one file (`share <name> [--expires] [--max-downloads]`). */
export interface ShareRequest {
  name: string;
  /** A duration such as `90m`, `12h`, `7d`; absent: never (capped by the tor-server at the creator's expiry). */
  expires?: string;
  /** At least 1; absent: unlimited. */
  maxDownloads?: number;
}
export const shareRequestSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    expires: { type: 'string', pattern: '^[1-9][0-9]{0,5}[mhd]$' },
    maxDownloads: { type: 'integer', minimum: 1 },
  },
  required: ['name'],
  additionalProperties: false,
} as const;

/** One share link as `GET /api/shares` lists it (a `shares` row). */
export interface ShareEntry {
  /** The token's id (8 hex digits): what `DELETE /api/shares/<id>` takes. */
  id: string;
  name: string;
  /** ISO time, or null for never. */
  expires: string | null;
  downloads: number;
  /** null for unlimited. */
  maxDownloads: number | null;
}
export const shareEntrySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    expires: { type: ['string', 'null'] },
    downloads: { type: 'integer' },
    maxDownloads: { type: ['integer', 'null'] },
  },
  required: ['id', 'name', 'expires', 'downloads', 'maxDownloads'],
} as const;

/** `GET /api/shares` response body. */
export type SharesResponse = ShareEntry[];
export const sharesSchema = { type: 'array', items: shareEntrySchema } as const;

/**
 * `POST /api/shares` response body (201): the new link. `token` is shown once; `path` is the
 * public page (`/s/<token>`) to hand out, relative to the gateway's origin.
 */
export interface NewShareResponse extends ShareEntry {
  token: string;
  path: string;
}
export const newShareSchema = {
  type: 'object',
  properties: { ...shareEntrySchema.properties, token: { type: 'string' }, path: { type: 'string' } },
  required: [...shareEntrySchema.required, 'token', 'path'],
} as const;

/** `GET /api/s/<token>` response body: the one file a share link opens (its `stat`), for the public page. */
export type SharedFileResponse = FileEntry;
export const sharedFileSchema = fileEntrySchema;
