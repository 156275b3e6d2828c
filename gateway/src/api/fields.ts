/** Query and form field names of the HTTP API, shared by the gateway and the web app. */

/** Query parameters. */
export const QueryField = {
  /** `GET /api/files?search=<text>`: only names containing the text; empty means all. */
  search: 'search',
  /** `GET /api/files/<name>?inline=1`: show the file in the page rather than save it. */
  inline: 'inline',
  /** `GET /api/files/<name>?hash=sha256`: the file's digest as JSON (`HashResponse`) instead of its bytes. */
  hash: 'hash',
} as const;

/** The only digest `?hash=` asks for (the tor-server's `hash` command computes SHA-256). */
export const HASH_ALGORITHM = 'sha256';

/** Values of a flag such as `inline` that mean "on" (`?inline` alone counts too). */
export const TRUE_FLAG_VALUES: readonly string[] = ['1', 'true', ''];

/** Multipart form fields of `POST /api/files`. */
export const FormField = {
  /** A text field right before a file part announcing its size in bytes, so its bytes stream straight through. */
  size: 'size',
  /** The file parts' field name as the web app sends them (the gateway accepts any name). */
  file: 'file',
} as const;
