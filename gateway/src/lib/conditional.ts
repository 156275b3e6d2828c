import etag from 'etag';
import fresh from 'fresh';
import type { FileEntry } from 'tor-server/protocol';

/**
 * A strong validator from the listing row. Uploads never overwrite, so a name with the same
 * size and modification time is the same content. `etag` makes it from a stats-like object
 * (size and mtime; a listing row has no inode or ctime, which `etag` does not use).
 */
export function etagFor(entry: FileEntry): string {
  const modified = new Date(entry.modified);
  return etag({ size: entry.size, mtime: modified, ctime: modified, ino: 0 }, { weak: false });
}

/** The Last-Modified header value for a listing row. */
export function lastModifiedFor(entry: Pick<FileEntry, 'modified'>): string {
  return new Date(entry.modified).toUTCString();
}

/** True when If-None-Match (or, without it, If-Modified-Since) says the client's copy is current. */
export function isNotModified(headers: { 'if-none-match'?: string; 'if-modified-since'?: string }, tag: string, modified: string): boolean {
  const noneMatch = headers['if-none-match'];
  const since = headers['if-modified-since'];
  // RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present. `fresh`
  // would require both to pass, and would also honour a request's `Cache-Control: no-cache`,
  // which the gateway leaves to the browser: it is handed only the header that counts.
  const conditions = noneMatch !== undefined ? { 'if-none-match': noneMatch } : since !== undefined ? { 'if-modified-since': since } : undefined;
  if (!conditions) return false;
  return fresh(conditions, { etag: tag, 'last-modified': lastModifiedFor({ modified }) });
}

/**
 * True when a Range may be honoured: no If-Range, or one naming the current version (strong
 * match). No jshttp module evaluates If-Range (`send` does it inline), so it is done here.
 */
export function ifRangeMatches(ifRange: string | undefined, tag: string, modified: string): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"')) return value === tag;
  if (value.startsWith('W/')) return false;
  const dateMs = Date.parse(value);
  return !Number.isNaN(dateMs) && Math.floor(Date.parse(modified) / 1000) * 1000 === dateMs;
}
