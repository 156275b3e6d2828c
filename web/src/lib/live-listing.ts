import type { FileChange, FileEntry } from 'gateway/api';
import { uniqueByName } from './unique-files.js';

/** A listing as the gateway answers `show`/`search`: the rows and the feed position taken just before. */
export interface Listing {
  files: FileEntry[];
  seq: number;
}

/** What receiving something did: the changes that altered the list, and whether a full listing is needed. */
export interface PatchResult {
  applied: FileChange[];
  relist: boolean;
}

/**
 * Changes held while a listing is on its way. Past this many the page lists again instead
 * (a burst that large is cheaper to re-read than to replay, and the buffer stays bounded).
 */
export const MAX_HELD_CHANGES = 2000;

const NOTHING: PatchResult = { applied: [], relist: false };
const RELIST: PatchResult = { applied: [], relist: true };

/** Whether `name` is in the answer to `search <query>` (the tor-server's rule: contains, case-insensitively); '' is `show`. */
export function matchesSearch(name: string, query: string): boolean {
  return query === '' || name.toLowerCase().includes(query.toLowerCase());
}

/**
 * One change applied to the rows answering `query`. Patches are idempotent (added = upsert,
 * removed = delete if present, renamed = move), so a change the listing already reflects
 * changes nothing. Returns the same array when nothing changed, and null when the change
 * cannot be applied without a fresh listing (a rename into the search with no row to show).
 */
export function applyChange(files: readonly FileEntry[], change: FileChange, query: string): readonly FileEntry[] | null {
  switch (change.type) {
    case 'added':
      return upsert(files, change.file, query);
    case 'removed':
      return without(files, change.name);
    case 'renamed': {
      const old = files.find((file) => file.name === change.from);
      // Nothing under the old name, no row in the change, a row under the new one: already applied (the page's own rename).
      if (!old && !change.file && files.some((file) => file.name === change.to)) return files;
      const moved = change.file ?? (old && { ...old, name: change.to });
      const rest = without(files, change.from);
      if (!matchesSearch(change.to, query)) return rest;
      return moved ? upsert(rest, moved, query) : null;
    }
    case 'resync':
      return null;
  }
}

function upsert(files: readonly FileEntry[], file: FileEntry, query: string): readonly FileEntry[] {
  if (!matchesSearch(file.name, query)) return files;
  const index = files.findIndex((row) => row.name === file.name);
  if (index === -1) return [...files, file];
  const row = files[index]!;
  if (row.size === file.size && row.modified === file.modified) return files;
  return files.with(index, file);
}

function without(files: readonly FileEntry[], name: string): readonly FileEntry[] {
  const index = files.findIndex((row) => row.name === name);
  return index === -1 ? files : files.toSpliced(index, 1);
}

/**
 * The page's list kept live: a listing (with its feed position) plus every pushed change after
 * that position, patched in. While a listing or a catch-up is on its way, pushed changes are
 * held and applied on top of its answer, so none is lost and none is applied twice.
 */
export class LiveListing {
  #files: readonly FileEntry[] = [];
  #query = '';
  #seq: number | null = null;
  /** Listings and catch-ups on their way; changes are held while there is any. */
  #holds = 0;
  #held: FileChange[] = [];
  #heldOverflow = false;

  /** The rows, in no particular order. */
  get files(): readonly FileEntry[] {
    return this.#files;
  }

  /** The search the rows answer ('' for every file). */
  get query(): string {
    return this.#query;
  }

  /** The last feed position applied; null before the first listing. */
  get seq(): number | null {
    return this.#seq;
  }

  /** A listing or catch-up has been asked for: pushed changes are held until its answer (or failure). */
  hold(): void {
    this.#holds += 1;
  }

  /** The answer to a listing for `query`: its rows replace the list, then the held changes apply on top. */
  replace(listing: Listing, query: string): PatchResult {
    this.#files = uniqueByName(listing.files);
    this.#query = query;
    this.#seq = listing.seq;
    return this.#unhold([]);
  }

  /** The answer to `since`: the changes missed while disconnected, then the held ones. */
  catchUp(changes: readonly FileChange[]): PatchResult {
    return this.#unhold(changes);
  }

  /** A listing or catch-up failed: the held changes apply to the rows already shown. */
  release(): PatchResult {
    return this.#unhold([]);
  }

  /** One change pushed by the gateway. */
  receive(change: FileChange): PatchResult {
    if (this.#holds === 0) return this.#apply(change);
    if (this.#held.length >= MAX_HELD_CHANGES) this.#heldOverflow = true;
    else this.#held.push(change);
    return NOTHING;
  }

  /**
   * A change this page made itself (its delete or rename succeeded), shown at once rather than
   * when its event arrives; the event, or a listing, then finds it already applied.
   */
  applyOwn(change: FileChange): void {
    const next = applyChange(this.#files, change, this.#query);
    if (next !== null) this.#files = next;
  }

  #apply(change: FileChange): PatchResult {
    // Before any listing there is nothing to patch: the first listing will include it.
    if (this.#seq === null) return NOTHING;
    // Whatever its seq: a restarted server whose clock was set back numbers from lower down.
    if (change.type === 'resync') {
      this.#seq = change.seq;
      return RELIST;
    }
    if (change.seq <= this.#seq) return NOTHING;
    this.#seq = change.seq;
    const next = applyChange(this.#files, change, this.#query);
    if (next === null) return RELIST;
    if (next === this.#files) return NOTHING;
    this.#files = next;
    return { applied: [change], relist: false };
  }

  #unhold(first: readonly FileChange[]): PatchResult {
    this.#holds = Math.max(0, this.#holds - 1);
    const batch = [...first];
    let overflowed = false;
    if (this.#holds === 0) {
      overflowed = this.#heldOverflow;
      if (!overflowed) batch.push(...this.#held);
      this.#held = [];
      this.#heldOverflow = false;
    }
    const applied: FileChange[] = [];
    for (const change of batch) {
      const result = this.#apply(change);
      if (result.relist) return RELIST;
      applied.push(...result.applied);
    }
    return { applied, relist: overflowed };
  }
}
