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

/** Browser → gateway. `id` is chosen by the browser and echoed in the reply. */
export type WsRequest = { id: number; command: 'show' } | { id: number; command: 'search'; text: string };

export type WsCommand = WsRequest['command'];

/** Gateway → browser: the answer to one request, in request order per socket. */
export type WsReply =
  | { id: number; ok: true; files: FileEntry[] }
  /** `error` is the tor-server's reply line verbatim where there is one; `id` is null when the request had none. */
  | { id: number | null; ok: false; error: string };

/** Gateway → browser, unprompted. */
export type WsEvent =
  /** The gateway's TFTCP link for this socket went up or down. */
  | { event: 'upstream'; connected: boolean }
  /** An upload through this gateway completed: listings may have changed. */
  | { event: 'files-changed' };

export type WsServerMessage = WsReply | WsEvent;

/** Largest WebSocket message the gateway accepts, in bytes. */
export const WS_MAX_MESSAGE_BYTES = 64 * 1024;
