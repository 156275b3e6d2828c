/**
 * Formats a Content-Disposition header (RFC 6266) carrying `name` both as an ASCII fallback
 * and, exactly, as UTF-8 in `filename*` (RFC 5987/8187), which every current browser prefers.
 */
export function contentDisposition(type: 'attachment' | 'inline', name: string): string {
  // Quoted-string fallback: printable ASCII only, without the quote, backslash or percent
  // (some browsers percent-decode the plain parameter).
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

/** Percent-encodes everything outside RFC 5987's attr-char set. */
export function encodeRfc5987(value: string): string {
  // encodeURIComponent leaves ' ( ) * unescaped, which attr-char does not allow.
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Reads the file name back out of a Content-Disposition header, preferring `filename*`. */
export function parseContentDispositionName(header: string): string | undefined {
  const extended = /filename\*\s*=\s*UTF-8''([^;\s]+)/i.exec(header);
  if (extended) return decodeURIComponent(extended[1]!);
  const plain = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  return plain ? plain[1]!.replace(/\\(.)/g, '$1') : undefined;
}
