/** The web app's error catalogue: every failure the UI explains carries one of these codes. */

export const WebErrorCode = {
  /** The WebSocket to the gateway is not open (or closed while a request waited). */
  WS_CLOSED: 'WEB_ERR_WS_CLOSED',
  /** The gateway did not answer a WebSocket request in time. */
  WS_TIMEOUT: 'WEB_ERR_WS_TIMEOUT',
  /** The gateway answered `ok: false`; the message is the server's own line. */
  WS_REPLY: 'WEB_ERR_WS_REPLY',
} as const;
export type WebErrorCode = (typeof WebErrorCode)[keyof typeof WebErrorCode];

/** An error the app can show as is: `message` is meant for people. */
export class WebError extends Error {
  override readonly name = 'WebError';
  constructor(
    readonly code: WebErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The message to show for any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
