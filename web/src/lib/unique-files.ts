import type { FileEntry } from 'gateway/api';

/**
 * The listing with one row per name, the first kept. The list is keyed by name, so a repeated
 * row (a misbehaving server or gateway) would make Svelte throw `each_key_duplicate` and show
 * no files at all.
 */
export function uniqueByName(files: readonly FileEntry[]): FileEntry[] {
  const seen = new Set<string>();
  return files.filter((file) => {
    if (seen.has(file.name)) return false;
    seen.add(file.name);
    return true;
  });
}
