/** The web app's error catalogue: every failure the UI explains carries one of these codes. */

export const WebErrorCode = {
  /** The WebSocket to the gateway is not open (or closed while a request waited). */
  WS_CLOSED: 'WEB_ERR_WS_CLOSED',
  /** The gateway did not answer a WebSocket request in time. */
  WS_TIMEOUT: 'WEB_ERR_WS_TIMEOUT',
  /** The gateway answered `ok: false`; the message is the server's own line. */
  WS_REPLY: 'WEB_ERR_WS_REPLY',
  /** An HTTP request was refused (403, 404, 409...); the message is the server's own line. */
  HTTP_REFUSED: 'WEB_ERR_HTTP_REFUSED',
  /** An HTTP request got no answer at all. */
  HTTP_UNREACHABLE: 'WEB_ERR_HTTP_UNREACHABLE',
} as const;
export type WebErrorCode = (typeof WebErrorCode)[keyof typeof WebErrorCode];

/** What to tell people when a request got no answer at all. */
export const GATEWAY_UNREACHABLE = 'The gateway could not be reached; check the connection and try again';

/** An error the app can show as is: `message` is meant for people. */
export class WebError extends Error {
  override readonly name = 'WebError';
  constructor(
    readonly code: WebErrorCode,
    message: string,
    /** The HTTP status of a refused request. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The message to show for any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The message in an error response body (`{"error": ...}`, or `message` as Fastify words it), if there is one. */
export function errorBodyMessage(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown } | null;
    if (typeof parsed?.error === 'string' && parsed.error) return parsed.error;
    if (typeof parsed?.message === 'string' && parsed.message) return parsed.message;
  } catch {
    // Not JSON (a proxy's error page): the caller falls back to the status.
  }
  return null;
}
