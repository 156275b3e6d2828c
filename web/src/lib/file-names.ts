/** Name arithmetic for uploads that collide with an existing file, and a file's URL. */
import { QueryField, filePath } from 'gateway/api';

// Kept whole when numbering, so `backup.tar.gz` becomes `backup (1).tar.gz`, not `backup.tar (1).gz`.
const DOUBLE_EXTENSIONS = ['.tar.gz', '.tar.bz2', '.tar.xz', '.tar.zst'];
const NUMBER_SUFFIX = /^(.*) \((\d+)\)$/;

function splitExtension(name: string): [stem: string, extension: string] {
  const lower = name.toLowerCase();
  const double = DOUBLE_EXTENSIONS.find((ext) => lower.endsWith(ext) && lower.length > ext.length);
  if (double) return [name.slice(0, -double.length), name.slice(-double.length)];
  const dot = name.lastIndexOf('.');
  return dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
}

/**
 * The first of `name (1).ext`, `name (2).ext`, ... not in `taken`.
 * A name that already ends in ` (n)` counts on from n.
 */
export function alternativeName(name: string, taken: ReadonlySet<string>): string {
  const [stem, extension] = splitExtension(name);
  const numbered = NUMBER_SUFFIX.exec(stem);
  const base = numbered?.[1] ?? stem;
  let n = numbered ? Number(numbered[2]) + 1 : 1;
  while (taken.has(`${base} (${n})${extension}`)) n += 1;
  return `${base} (${n})${extension}`;
}

/** The URL of a file on the gateway; `inline` asks for it to be shown rather than saved. */
export function fileUrl(name: string, inline = false): string {
  const path = filePath(name);
  return inline ? `${path}?${QueryField.inline}=1` : path;
}
