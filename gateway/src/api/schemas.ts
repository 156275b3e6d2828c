/**
 * The JSON bodies of the HTTP API: a TypeScript type for each, and the JSON schema Fastify
 * validates requests and serializes responses with. Keep each pair side by side.
 */
import type { FileEntry } from './messages.js';
import { HASH_ALGORITHM, QueryField } from './fields.js';

/** One file as the gateway reports it (a TFTCP listing row, {@link FileEntry}). */
export const fileEntrySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    size: { type: 'integer' },
    modified: { type: 'string' },
  },
  required: ['name', 'size', 'modified'],
} as const;

/** `GET /api/files` response body. */
export type ListingResponse = FileEntry[];
export const listingSchema = { type: 'array', items: fileEntrySchema } as const;

/** One file's outcome in a `POST /api/files` (or `PUT /api/files/<name>`) response. */
export interface UploadResult {
  name: string;
  size: number;
  ok: boolean;
  /** The tor-server's reply line, or the gateway's own reason. */
  error?: string;
}
export const uploadResultSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    size: { type: 'integer' },
    ok: { type: 'boolean' },
    error: { type: 'string' },
  },
  required: ['name', 'size', 'ok'],
} as const;

/**
 * `POST /api/files` response body: one result per file part, in form order. Status 201 when
 * every file was stored, 207 when some were, the failure's status (409, 413...) when none were.
 */
export interface UploadResponse {
  files: UploadResult[];
  /** Why the rest of the form was not read (too many parts, malformed); the files after it have no result. */
  error?: string;
}
export const uploadResponseSchema = {
  type: 'object',
  properties: {
    files: { type: 'array', items: uploadResultSchema },
    error: { type: 'string' },
  },
  required: ['files'],
} as const;

/** `GET /api/health` response body. */
export interface HealthResponse {
  gateway: 'ok';
  upstream: 'ok' | 'unreachable';
}
export const healthSchema = {
  type: 'object',
  properties: {
    gateway: { type: 'string', enum: ['ok'] },
    upstream: { type: 'string', enum: ['ok', 'unreachable'] },
  },
  required: ['gateway', 'upstream'],
} as const;

/** Every error response body. `error` is the tor-server's reply line verbatim where there is one (e.g. `Permission denied: ...`). */
export interface ErrorResponse {
  error: string;
}

/** `GET /api/files` query. A repeated `search` is refused by the schema rather than guessed at. */
export interface ListingQuery {
  [QueryField.search]?: string;
}
export const listingQuerySchema = {
  type: 'object',
  properties: { [QueryField.search]: { type: 'string' } },
} as const;

/** `GET /api/files/<name>` query. `hash` other than `sha256` is a 400. */
export interface FileQuery {
  [QueryField.inline]?: string;
  [QueryField.hash]?: string;
}
export const fileQuerySchema = {
  type: 'object',
  properties: { [QueryField.inline]: { type: 'string' }, [QueryField.hash]: { type: 'string' } },
} as const;

/** `GET /api/files/<name>?hash=sha256` response body. */
export interface HashResponse {
  /** 64 lower-case hex digits, as the tor-server's `hash` computed them. */
  [HASH_ALGORITHM]: string;
}
export const hashResponseSchema = {
  type: 'object',
  properties: { [HASH_ALGORITHM]: { type: 'string' } },
  required: [HASH_ALGORITHM],
} as const;

/** `PATCH /api/files/<name>` request body: rename the file (never overwrites). The response is the new row (FileEntry). */
export interface RenameRequest {
  name: string;
}
export const renameRequestSchema = {
  type: 'object',
  properties: { name: { type: 'string' } },
  required: ['name'],
  additionalProperties: false,
} as const;

/** The tor-server's access levels, each allowing what the one before does and more. */
export const ACCESS_LEVELS = ['read', 'write', 'admin'] as const;
/** `read`: list, search, download, hash, watch; `write`: upload too; `admin`: delete and rename too. */
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** `/api/files/<name>` path parameters. The name itself is checked by the TFTCP rules (names.ts). */
export interface FileParams {
  name: string;
}
export const fileParamsSchema = {
  type: 'object',
  properties: { name: { type: 'string' } },
  required: ['name'],
} as const;
