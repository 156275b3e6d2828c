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

/** Orders entries by name, by Unicode code point (UTF-16 code unit order differs above U+FFFF). */
export function compareByName(a: FileEntry, b: FileEntry): number {
  const x = a.name;
  const y = b.name;
  const shared = Math.min(x.length, y.length);
  for (let i = 0; i < shared; i++) {
    const cx = x.charCodeAt(i);
    const cy = y.charCodeAt(i);
    if (cx === cy) continue;
    // A surrogate stands for a code point above U+FFFF, which sorts after every other character.
    const sx = cx >= 0xd800 && cx <= 0xdfff;
    const sy = cy >= 0xd800 && cy <= 0xdfff;
    if (sx !== sy) return sx ? 1 : -1;
    return cx - cy;
  }
  return x.length - y.length;
}
