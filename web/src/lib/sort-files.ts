import type { FileEntry } from 'gateway/api';

export type SortKey = 'name' | 'size' | 'modified';
export type SortDirection = 'ascending' | 'descending';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compareBy(key: SortKey, a: FileEntry, b: FileEntry): number {
  switch (key) {
    case 'name':
      return collator.compare(a.name, b.name);
    case 'size':
      return a.size - b.size;
    case 'modified':
      return Date.parse(a.modified) - Date.parse(b.modified);
  }
}

/** A sorted copy of `files`; ties fall back to the name so the order is stable across refreshes. */
export function sortFiles(files: readonly FileEntry[], key: SortKey, direction: SortDirection): FileEntry[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...files].sort((a, b) => sign * compareBy(key, a, b) || collator.compare(a.name, b.name));
}

/** The direction a column starts in when first chosen: names A→Z, sizes and dates largest/newest first. */
export function defaultDirection(key: SortKey): SortDirection {
  return key === 'name' ? 'ascending' : 'descending';
}
