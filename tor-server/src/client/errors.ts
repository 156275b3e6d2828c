import { SIGN_IN_NEEDED, SignInRefusal, parseRetryAfter } from '../protocol/auth.js';
import { ErrorKind, Reply, errorKindOf, type ErrorKindText } from '../protocol/constants.js';

/** A sign-in refusal's kind: `Invalid token` or `Too many attempts`. */
export type SignInRefusalText = (typeof SignInRefusal)[keyof typeof SignInRefusal];

/**
 * What kind of refusal a reply line is. `sign-in-needed` is the `Permission denied` of a
 * connection without a valid sign-in (none on a server that requires one, or a token revoked
 * or expired): the other `Permission denied` lines are about the level or the file.
 */
export type RefusalKind = ErrorKindText | SignInRefusalText | 'sign-in-needed' | 'not-found' | 'unknown-command' | 'other';

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
  /** For `Too many attempts: retry in N s`: N. */
  readonly retryAfterSeconds: number | undefined;
  constructor(reply: string) {
    super('TOR_ERR_REFUSED', reply);
    this.reply = reply;
    this.kind = refusalKind(reply);
    this.retryAfterSeconds = parseRetryAfter(reply);
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

/**
 * An upload's source yielded more or fewer bytes than announced. The client cut the connection
 * (the server keeps nothing of an upload that never completes) before any byte past the
 * announced size was sent.
 */
export class TftcpSizeMismatchError extends TftcpError {
  /** The name the upload was announced under. */
  readonly fileName: string;
  readonly announced: number;
  /** Bytes the source yielded: short of `announced`, or past it by the chunk that overflowed. */
  readonly received: number;
  constructor(name: string, announced: number, received: number) {
    super(
      'TOR_ERR_SIZE_MISMATCH',
      received > announced
        ? `${name} was announced as ${announced} bytes but its source has more`
        : `${name} was announced as ${announced} bytes but its source ended after ${received}`,
    );
    this.fileName = name;
    this.announced = announced;
    this.received = received;
  }
}

/** Classifies a refusal reply line. */
export function refusalKind(reply: string): RefusalKind {
  if (reply === Reply.NOT_FOUND) return 'not-found';
  if (reply === Reply.UNKNOWN) return 'unknown-command';
  if (SIGN_IN_NEEDED.includes(reply)) return 'sign-in-needed';
  if (reply === SignInRefusal.INVALID_TOKEN) return SignInRefusal.INVALID_TOKEN;
  if (reply.startsWith(`${SignInRefusal.TOO_MANY_ATTEMPTS}:`)) return SignInRefusal.TOO_MANY_ATTEMPTS;
  return errorKindOf(reply) ?? 'other';
}

export { ErrorKind };
