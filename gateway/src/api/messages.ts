/**
 * The messages of `GET /api/ws`, defined once: the gateway implements them and the web app
 * imports them from `gateway/api`, so the two sides cannot drift apart.
 */

/**
 * One file as the gateway reports it: the TFTCP listing row, the same type on every side, and
 * in JSON as it is (`modified` is already an ISO 8601 UTC string). A type-only reference: the
 * browser bundle takes no code from tor-server.
 */
export type FileEntry = import('tor-server/protocol').FileEntry;

/**
 * One change to the tor-server's files, from any client or the operator's disk. `seq` rises
 * by one per change (per tor-server run). Applying a change is idempotent: `added` upserts,
 * `removed` deletes the name if present, `renamed` moves the row. `resync` means changes were
 * missed: list again.
 */
export type FileChange =
  | { type: 'added'; seq: number; file: FileEntry }
  | { type: 'removed'; seq: number; name: string }
  /** `file` is the renamed row when the gateway knows it. */
  | { type: 'renamed'; seq: number; from: string; to: string; file?: FileEntry }
  | { type: 'resync'; seq: number };

export type FileChangeType = FileChange['type'];

/** Browser → gateway. `id` is chosen by the browser and echoed in the reply. */
export type WsRequest =
  | { id: number; command: 'show' }
  | { id: number; command: 'search'; text: string }
  /** Application-level keep-alive (browsers cannot see protocol pings): answered with `pong: true`. */
  | { id: number; command: 'ping' }
  /** The changes after `seq` (the last one the browser applied), or `resync: true` when the gateway no longer holds them all. */
  | { id: number; command: 'since'; seq: number };

export type WsCommand = WsRequest['command'];

/**
 * The answer to `show` and `search`. `seq` is the change feed's position taken just before the
 * listing was asked for: apply the `files-changed` events with a higher seq on top of it.
 */
export interface WsListingReply {
  id: number;
  ok: true;
  files: FileEntry[];
  seq: number;
}

/** The answer to `ping`. */
export interface WsPongReply {
  id: number;
  ok: true;
  pong: true;
}

/** The answer to `since` while the gateway holds every change after it: oldest first; `seq` is the feed's position now. */
export interface WsChangesReply {
  id: number;
  ok: true;
  changes: FileChange[];
  seq: number;
}

/** The answer to `since` when the gateway no longer holds every change after it: list again. */
export interface WsResyncReply {
  id: number;
  ok: true;
  resync: true;
  seq: number;
}

/** A refusal. `error` is the tor-server's reply line verbatim where there is one; `id` is null when the request had none. */
export interface WsErrorReply {
  id: number | null;
  ok: false;
  error: string;
}

/** The successful answer to each request. */
export interface WsAnswers {
  show: WsListingReply;
  search: WsListingReply;
  ping: WsPongReply;
  since: WsChangesReply | WsResyncReply;
}

/** Gateway → browser: the answer to one request, in request order per socket. */
export type WsReply = WsAnswers[WsCommand] | WsErrorReply;

/** Gateway → browser, unprompted. */
export type WsEvent =
  /**
   * The gateway's TFTCP link went up or down. `liveChanges: false` (with `reason`) on a session
   * the gateway cannot give live changes (it follows as many signed-in users as it may): no
   * `files-changed` will come to it; list again to see changes, or reconnect later.
   */
  | { event: 'upstream'; connected: boolean; liveChanges?: false; reason?: string }
  /** One change to the files, by anyone (every change, in seq order). */
  | { event: 'files-changed'; change: FileChange };

export type WsServerMessage = WsReply | WsEvent;

/**
 * Close code of a WebSocket whose sign-in the tor-server refused (a token revoked, expired or
 * unknown, or none where one is required); the close reason is its reply line (at most 123
 * bytes). Sign in again, then reconnect.
 */
export const WS_CLOSE_SIGNED_OUT = 4401;

/** Largest WebSocket message the gateway accepts, in bytes. */
export const WS_MAX_MESSAGE_BYTES = 64 * 1024;

/** The gateway sends a WebSocket ping this often, and drops a session that misses two pongs. */
export const WS_PING_INTERVAL_MS = 30_000;
