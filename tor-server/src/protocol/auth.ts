import { ErrorKind, Reply, errorReply, parseAccessLevel, type AccessLevel } from './constants.js';
import { parseDuration } from './duration.js';

/**
 * Sign-in refusals after which the server closes the connection. Kept apart from ErrorKind:
 * they answer `auth` only, and the client classifies them (RefusalKind) beside the kinds.
 */
export const SignInRefusal = {
  /** `auth` with a token the server does not know (the connection closes after a short delay). */
  INVALID_TOKEN: 'Invalid token',
  /** Too many failed sign-ins from one address: `Too many attempts: retry in N s`. */
  TOO_MANY_ATTEMPTS: 'Too many attempts',
} as const;

/** `never` in a share line: the share does not expire. */
export const NEVER = 'never';
/** `unlimited` in a share line: no maximum of downloads. */
export const UNLIMITED = 'unlimited';

/** The refusal of any command but `auth` and `exit` before signing in on a server that requires it. */
export const SIGN_IN_FIRST = errorReply(ErrorKind.PERMISSION_DENIED, 'sign in with auth <token>');
/** The refusal of a command after the session's token was revoked. */
export const TOKEN_REVOKED = errorReply(ErrorKind.PERMISSION_DENIED, 'token revoked; sign in again with auth <token>');
/** The refusal of a command after the session's token expired. */
export const TOKEN_EXPIRED = errorReply(ErrorKind.PERMISSION_DENIED, 'token expired; sign in again with auth <token>');
/** `auth` with a real token that expired: the holder knows the secret, so the reason is theirs to see. */
export const TOKEN_EXPIRED_AT_SIGN_IN = errorReply(ErrorKind.PERMISSION_DENIED, 'token expired');
/** The refusal of a share link that reached its maximum of downloads (at sign-in and after). */
export const SHARE_USED_UP = errorReply(ErrorKind.PERMISSION_DENIED, 'share link used up');
/** The refusal of `client` from an address not named in --trusted-proxies. */
export const CLIENT_NOT_TRUSTED = errorReply(ErrorKind.PERMISSION_DENIED, 'only a trusted proxy may name a client address');
/** The refusal of `client` after `auth` or a first `client`. */
export const CLIENT_TOO_LATE = errorReply(ErrorKind.PERMISSION_DENIED, 'client must come once, before auth');

/** The refusal of a command on another file than the one a token is limited to. */
export function onlyFileReply(only: string): string {
  return errorReply(ErrorKind.PERMISSION_DENIED, `this token is limited to ${only}`);
}

/** The refusal of a sign-in after too many failures from the address. */
export function tooManyAttemptsReply(seconds: number): string {
  return `${SignInRefusal.TOO_MANY_ATTEMPTS}: retry in ${seconds} s`;
}

/** The seconds of a `Too many attempts: retry in N s` line; undefined for any other line. */
export function parseRetryAfter(reply: string): number | undefined {
  const match = /^Too many attempts: retry in (\d{1,9}) s$/.exec(reply);
  return match ? Number(match[1]) : undefined;
}

/**
 * The `Permission denied` lines that mean "this connection has no valid sign-in": not signed in
 * on a server that requires it, or its token revoked or expired. Signing in (again) is the way out.
 */
export const SIGN_IN_NEEDED: readonly string[] = [SIGN_IN_FIRST, TOKEN_REVOKED, TOKEN_EXPIRED, TOKEN_EXPIRED_AT_SIGN_IN];

/** `signed in as <label> (<level>)`. */
export function formatSignedInLine(label: string, access: AccessLevel): string {
  return `${Reply.SIGNED_IN} ${label} (${access})`;
}

/** Reads a `signed in as` line; undefined for any other line. */
export function parseSignedInLine(line: string): { label: string; access: AccessLevel } | undefined {
  const match = /^signed in as (.+) \((\w+)\)$/.exec(line);
  const access = match && parseAccessLevel(match[2]!);
  return match && access ? { label: match[1]!, access } : undefined;
}

/** A share link as `share` answers it and `shares` lists it. */
export interface ShareInfo {
  id: string;
  name: string;
  /** ISO time, or null for never. */
  expires: string | null;
  downloads: number;
  /** null for unlimited. */
  maxDownloads: number | null;
}

/** `share <token> <expires ISO or never> <max or unlimited>`. */
export function formatShareLine(token: string, expires: string | null, maxDownloads: number | null): string {
  return `${Reply.SHARE} ${token} ${expires ?? NEVER} ${maxDownloads ?? UNLIMITED}`;
}

/** Reads a `share` line; undefined for any other line. */
export function parseShareLine(line: string): { token: string; expires: string | null; maxDownloads: number | null } | undefined {
  const match = /^share (\S+) (\S+) (\d+|unlimited)$/.exec(line);
  if (!match) return undefined;
  return { token: match[1]!, expires: match[2] === NEVER ? null : match[2]!, maxDownloads: match[3] === UNLIMITED ? null : Number(match[3]) };
}

/** One row of `shares`: `<id>\t<name>\t<expires ISO or never>\t<downloads>/<max or unlimited>`. */
export function formatShareRow(share: ShareInfo): string {
  return `${share.id}\t${share.name}\t${share.expires ?? NEVER}\t${share.downloads}/${share.maxDownloads ?? UNLIMITED}`;
}

/** Reads a `shares` row; undefined for any other line. */
export function parseShareRow(line: string): ShareInfo | undefined {
  const fields = line.split('\t');
  const counts = fields.length === 4 ? /^(\d+)\/(\d+|unlimited)$/.exec(fields[3]!) : null;
  if (!counts) return undefined;
  return {
    id: fields[0]!,
    name: fields[1]!,
    expires: fields[2] === NEVER ? null : fields[2]!,
    downloads: Number(counts[1]),
    maxDownloads: counts[2] === UNLIMITED ? null : Number(counts[2]),
  };
}

/** What `share` is asked for: the file, and optionally a lifetime and a maximum of downloads. */
export interface ShareRequest {
  name: string;
  /** A duration such as 7d, 12h or 90m. */
  expires?: string;
  maxDownloads?: number;
}

const SHARE_OPTION = /^(.*\S) --(expires|max-downloads) (\S+)$/s;

/** `<name> [--expires 7d] [--max-downloads N]` (options after the name, in any order); undefined when malformed. */
export function parseShareArgument(argument: string): ShareRequest | undefined {
  const request: Partial<ShareRequest> = {};
  let rest = argument;
  for (let match = SHARE_OPTION.exec(rest); match; match = SHARE_OPTION.exec(rest)) {
    const [, before, option, value] = match as unknown as [string, string, string, string];
    if (option === 'expires') {
      if (request.expires !== undefined || parseDuration(value) === undefined) return undefined;
      request.expires = value;
    } else {
      if (request.maxDownloads !== undefined || !/^\d{1,9}$/.test(value) || Number(value) < 1) return undefined;
      request.maxDownloads = Number(value);
    }
    rest = before;
  }
  return rest.startsWith('--') ? undefined : { ...request, name: rest };
}

/** The argument of `share`, the inverse of {@link parseShareArgument}. */
export function formatShareArgument(request: ShareRequest): string {
  return [request.name, ...(request.expires ? ['--expires', request.expires] : []), ...(request.maxDownloads ? ['--max-downloads', String(request.maxDownloads)] : [])].join(' ');
}
