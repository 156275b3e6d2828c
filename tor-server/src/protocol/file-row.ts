import { fileNameProblem } from './names.js';
import { parseSize } from './command-line.js';

/** One file as `show` and `search` list it. */
export interface FileEntry {
  name: string;
  size: number;
  /** Last modified, ISO 8601 UTC as Date.prototype.toISOString() prints it. */
  modified: string;
}

/** Formats a listing row: name TAB size TAB modified. */
export function formatFileRow(entry: FileEntry): string {
  return `${entry.name}\t${entry.size}\t${entry.modified}`;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Parses a listing row; undefined when the row is malformed. */
export function parseFileRow(line: string): FileEntry | undefined {
  const fields = line.split('\t');
  if (fields.length !== 3) return undefined;
  const [name, sizeText, modified] = fields as [string, string, string];
  const size = parseSize(sizeText);
  if (fileNameProblem(name) !== undefined || size === undefined || !ISO_UTC.test(modified)) return undefined;
  return { name, size, modified };
}

/** Orders entries by name, by code point, as the server lists them. */
export function compareByName(a: FileEntry, b: FileEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
