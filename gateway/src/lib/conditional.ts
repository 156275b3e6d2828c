import type { FileEntry } from 'tor-server/protocol';

/**
 * A strong validator from the listing row. Uploads never overwrite, so a name with the same
 * size and modification time is the same content.
 */
export function etagFor(entry: FileEntry): string {
  return `"${entry.size.toString(36)}-${Date.parse(entry.modified).toString(36)}"`;
}

/** The Last-Modified header value for a listing row. */
export function lastModifiedFor(entry: FileEntry): string {
  return new Date(entry.modified).toUTCString();
}

/** True when If-None-Match (or, without it, If-Modified-Since) says the client's copy is current. */
export function isNotModified(headers: { 'if-none-match'?: string; 'if-modified-since'?: string }, etag: string, modified: string): boolean {
  const noneMatch = headers['if-none-match'];
  if (noneMatch !== undefined) {
    // Weak comparison, as RFC 9110 §13.1.2 asks for If-None-Match.
    const strip = (tag: string) => tag.trim().replace(/^W\//, '');
    return noneMatch.trim() === '*' || noneMatch.split(',').some((tag) => strip(tag) === etag);
  }
  const since = headers['if-modified-since'];
  if (since === undefined) return false;
  const sinceMs = Date.parse(since);
  // HTTP dates have whole seconds.
  return !Number.isNaN(sinceMs) && Math.floor(Date.parse(modified) / 1000) * 1000 <= sinceMs;
}

/** True when a Range may be honoured: no If-Range, or one naming the current version (strong match). */
export function ifRangeMatches(ifRange: string | undefined, etag: string, modified: string): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"')) return value === etag;
  if (value.startsWith('W/')) return false;
  const dateMs = Date.parse(value);
  return !Number.isNaN(dateMs) && Math.floor(Date.parse(modified) / 1000) * 1000 === dateMs;
}
