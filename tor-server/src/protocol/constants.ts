/** Protocol version named in docs/PROTOCOL.md. */
export const PROTOCOL_VERSION = 'TFTCP/1.1';

/** Default TCP port of a tor-server. */
export const DEFAULT_PORT = 7777;

/** Longest command line a server accepts, in bytes, excluding the line ending. */
export const MAX_LINE_BYTES = 4096;

/** File names are 1 to this many bytes of UTF-8. */
export const MAX_NAME_BYTES = 255;

/** Command words, exactly as clients send them. */
export const Command = {
  SHOW: 'show',
  SEARCH: 'search',
  DOWNLOAD: 'download',
  RANGE: 'range',
  UPLOAD: 'upload',
  EXIT: 'exit',
  // TFTCP/1.1
  STAT: 'stat',
  HASH: 'hash',
  DELETE: 'delete',
  RENAME: 'rename',
  WATCH: 'watch',
  WHOAMI: 'whoami',
  // TFTCP/1.1 access control
  AUTH: 'auth',
  CLIENT: 'client',
  SHARE: 'share',
  SHARES: 'shares',
  UNSHARE: 'unshare',
  // TFTCP/1.1 resumable uploads
  BEGIN: 'begin',
  /** As `begin`, but always a new upload: never resumes one of the same name, size and sha256. */
  CREATE: 'create',
  PUT: 'put',
  STATUS: 'status',
  COMMIT: 'commit',
  ABORT: 'abort',
} as const;
export type CommandName = (typeof Command)[keyof typeof Command];

/** The fixed reply words of TFTCP. Any other reply line is a human-readable error. */
export const Reply = {
  OK: 'ok',
  UNKNOWN: 'This command does not exist, rewrite',
  END: 'end',
  FOUND: 'found',
  NOT_FOUND: 'Not found file',
  EXIT: 'exit',
  // TFTCP/1.1
  /** `delete` removed the file. */
  DELETED: 'deleted',
  /** `rename` gave the file its new name. */
  RENAMED: 'renamed',
  /** A watcher's `since` is no longer (or never was) in the server's memory: list again. */
  RESYNC: 'resync',
  /** First word of `hash`'s answer: `sha256 <64 lower-case hex>`. */
  SHA256: 'sha256',
  /** First word of `whoami`'s answer: `access <level>`. */
  ACCESS: 'access',
  /** First word of a watch's start line: `watching <seq>`, the last change so far. */
  WATCHING: 'watching',
  /** First words of `auth`'s answer: `signed in as <label> (<level>)`. */
  SIGNED_IN: 'signed in as',
  /** First word of `share`'s answer: `share <token> <expires ISO or never> <max downloads or unlimited>`. */
  SHARE: 'share',
  /** First word of `begin`'s answer: `upload <id>`. */
  UPLOAD_ID: 'upload',
  /** First word of the byte ranges a partial upload holds: `have <ranges>`. */
  HAVE: 'have',
  /** First word of `status <id> details`'s last line: `partial <size> <expires ISO> <name>`. */
  PARTIAL: 'partial',
  /** Last line of `status <id> details` for an upload committed a while ago: `committed <size> <name>`. */
  COMMITTED: 'committed',
  /** A `put`'s bytes are durably stored. */
  STORED: 'stored',
} as const;

/** `have none`: a partial upload that holds no byte yet. */
export const NO_RANGES = 'none';

/** In `begin`, the sha256 argument of a client that does not give one. */
export const NO_SHA256 = '-';

/** The word after `status <id>` that asks for the `partial <size> <expires> <name>` line too. */
export const STATUS_DETAILS = 'details';

/**
 * What a client may do, each level including the ones before it: `read` lists, stats, hashes,
 * downloads and watches; `write` also uploads; `admin` also deletes and renames.
 */
export const ACCESS_LEVELS = ['read', 'write', 'admin'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** True when a client with level `has` may run a command that needs `needs`. */
export function accessAllows(has: AccessLevel, needs: AccessLevel): boolean {
  return ACCESS_LEVELS.indexOf(has) >= ACCESS_LEVELS.indexOf(needs);
}

/** `text` as an access level, or undefined when it is none. */
export function parseAccessLevel(text: string): AccessLevel | undefined {
  return (ACCESS_LEVELS as readonly string[]).includes(text) ? (text as AccessLevel) : undefined;
}

/**
 * Stable beginnings of the error reply lines. A reply is `<kind>` or `<kind>: <detail>`,
 * so clients (the gateway's HTTP status mapping) can classify them without parsing prose.
 */
export const ErrorKind = {
  INVALID_NAME: 'Invalid file name',
  FILE_EXISTS: 'File already exists',
  TOO_LARGE: 'File too large',
  NO_SPACE: 'Not enough space on the server',
  INVALID_SIZE: 'Invalid size',
  INVALID_RANGE: 'Invalid range',
  TOO_MANY_CLIENTS: 'Too many clients',
  SHUTTING_DOWN: 'Server is shutting down',
  IDLE_TIMEOUT: 'Idle timeout',
  SERVER_ERROR: 'Server error',
  PERMISSION_DENIED: 'Permission denied',
  // TFTCP/1.1 resumable uploads
  /** No partial upload of this client has the id (unknown, expired, committed, aborted or someone else's). */
  UNKNOWN_UPLOAD: 'Unknown upload',
  /** Another connection is writing part of this range right now: send it later. */
  RANGE_BUSY: 'Range busy',
  INCOMPLETE_UPLOAD: 'Incomplete upload',
  CHECKSUM_MISMATCH: 'Checksum mismatch',
  TOO_MANY_UPLOADS: 'Too many partial uploads',
} as const;
export type ErrorKindText = (typeof ErrorKind)[keyof typeof ErrorKind];

/** Formats an error reply line: the stable kind, then an optional human detail. */
export function errorReply(kind: ErrorKindText, detail?: string): string {
  return detail ? `${kind}: ${detail}` : kind;
}

const ERROR_KINDS = Object.values(ErrorKind);

/** Finds which error kind a reply line is, or undefined for a line that is none of them. */
export function errorKindOf(line: string): ErrorKindText | undefined {
  return ERROR_KINDS.find((kind) => line === kind || line.startsWith(`${kind}:`));
}
