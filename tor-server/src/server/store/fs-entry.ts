import type { Stats } from 'node:fs';
import type { StoredEntry } from './store.js';

// The span a listing row can carry: toISOString() prints other years with a sign and 6 digits.
const EARLIEST_MS = Date.parse('0000-01-01T00:00:00.000Z');
const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** The row and version of a file from its stat. */
export function toEntry(name: string, stat: Stats): StoredEntry {
  // Some file systems allow times no listing row can express (year 11476, or beyond Date's range):
  // clamp them rather than break every listing that contains the file.
  // stat.mtime is rounded to the millisecond as Node rounds it; it is an invalid Date past Date's range.
  const ms = stat.mtime.getTime();
  const time = Number.isNaN(ms) ? (stat.mtimeMs > 0 ? LATEST_MS : EARLIEST_MS) : Math.min(Math.max(ms, EARLIEST_MS), LATEST_MS);
  return { name, size: stat.size, modified: new Date(time).toISOString(), version: versionOf(stat) };
}

/** A file's version: any write changes its size or mtime, any replacement its inode. */
export function versionOf(stat: Stats): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}
