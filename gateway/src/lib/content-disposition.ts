import { encodeExtended, parse } from 'content-disposition';

const EXTENDED_PREFIX = "UTF-8''";

/**
 * Formats a Content-Disposition header (RFC 6266) carrying `name` both as an ASCII fallback
 * and, exactly, as UTF-8 in `filename*` (RFC 5987/8187), which every current browser prefers.
 * The RFC 8187 encoding is the `content-disposition` module's; the header itself is put
 * together here because the module's `create` leaves out `filename*` for ASCII and Latin-1
 * names and keeps Latin-1 letters in the plain `filename`, where TFTCP names (any UTF-8) want
 * an ASCII-only fallback and the exact name always.
 */
export function contentDisposition(type: 'attachment' | 'inline', name: string): string {
  // Quoted-string fallback: printable ASCII only, without the quote, backslash or percent
  // (some browsers percent-decode the plain parameter).
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${type}; filename="${fallback}"; filename*=${encodeExtended(name)}`;
}

/** Percent-encodes everything outside RFC 5987's attr-char set. */
export function encodeRfc5987(value: string): string {
  return encodeExtended(value).slice(EXTENDED_PREFIX.length);
}

/** Reads the file name back out of a Content-Disposition header, preferring `filename*`. */
export function parseContentDispositionName(header: string): string | undefined {
  return parse(header).parameters.filename;
}
