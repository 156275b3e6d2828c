import { ErrorKind, Reply, errorKindOf, type ErrorKindText } from '../protocol/constants.js';

/** What kind of refusal a reply line is. */
export type RefusalKind = ErrorKindText | 'not-found' | 'unknown-command' | 'other';

/** Base of every error the TFTCP client throws; `code` is stable, `message` is for people. */
export class TftcpError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The server refused the command; `message` is its reply line verbatim. The connection is still usable. */
export class TftcpReplyError extends TftcpError {
  readonly reply: string;
  readonly kind: RefusalKind;
  constructor(reply: string) {
    super('TOR_ERR_REFUSED', reply);
    this.reply = reply;
    this.kind = refusalKind(reply);
  }
}

/** The server could not be reached, or the connection broke or timed out. */
export class TftcpConnectionError extends TftcpError {
  constructor(message: string, options?: ErrorOptions) {
    super('TOR_ERR_CONNECTION', message, options);
  }
}

/** The server sent something TFTCP does not allow at that point. */
export class TftcpProtocolError extends TftcpError {
  constructor(message: string) {
    super('TOR_ERR_PROTOCOL', message);
  }
}

/** Classifies a refusal reply line. */
export function refusalKind(reply: string): RefusalKind {
  if (reply === Reply.NOT_FOUND) return 'not-found';
  if (reply === Reply.UNKNOWN) return 'unknown-command';
  return errorKindOf(reply) ?? 'other';
}

export { ErrorKind };
