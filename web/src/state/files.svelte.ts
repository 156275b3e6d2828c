import type { FileChange, FileEntry } from 'gateway/api';
import { WebErrorCode, WebError, messageOf } from '../lib/errors.js';
import { LiveListing, type PatchResult } from '../lib/live-listing.js';
import { RecentChanges, type RowHighlight } from '../lib/recent-changes.js';
import { defaultDirection, sortFiles, type SortDirection, type SortKey } from '../lib/sort-files.js';
import type { WsClient } from '../lib/ws-client.js';

/** Typing pauses this long before a search goes out. */
export const SEARCH_DEBOUNCE_MS = 200;

/**
 * The listing: what the tor-server has (or what matches the search), sorted, with totals, kept
 * live by the gateway's change feed (see LiveListing) and marking what just changed.
 */
export class FileListState {
  readonly #client: WsClient;
  readonly #live = new LiveListing();
  readonly #recent = new RecentChanges((marks) => (this.#highlights = marks));
  #files = $state.raw<readonly FileEntry[]>([]);
  #highlights = $state.raw<ReadonlyMap<string, RowHighlight>>(new Map());
  #loaded = $state(false);
  #error = $state<string | null>(null);
  #query = $state('');
  #shownQuery = $state('');
  #sortKey = $state<SortKey>('name');
  #sortDirection = $state<SortDirection>('ascending');
  #debounce: ReturnType<typeof setTimeout> | null = null;
  #inFlight: Promise<void> | null = null;
  #again = false;

  constructor(client: WsClient) {
    this.#client = client;
  }

  /** The files listed, in the chosen order. */
  readonly files: FileEntry[] = $derived(sortFiles(this.#files, this.#sortKey, this.#sortDirection));
  readonly count: number = $derived(this.#files.length);
  readonly totalBytes: number = $derived(this.#files.reduce((sum, file) => sum + file.size, 0));

  /** Rows changed in the last few seconds, by name. */
  get highlights(): ReadonlyMap<string, RowHighlight> {
    return this.#highlights;
  }

  /** True once a first listing has arrived. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** The server's message when the last listing failed. */
  get error(): string | null {
    return this.#error;
  }

  /** The text in the search box. */
  get query(): string {
    return this.#query;
  }

  /** The search the current list answers (the highlight follows it, not the keystrokes). */
  get shownQuery(): string {
    return this.#shownQuery;
  }

  get sortKey(): SortKey {
    return this.#sortKey;
  }

  get sortDirection(): SortDirection {
    return this.#sortDirection;
  }

  /** Changes the search text; the search runs once typing pauses, or at once when cleared. */
  setQuery(text: string): void {
    this.#query = text;
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = null;
    if (text.trim() === '') {
      void this.refresh();
      return;
    }
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.refresh();
    }, SEARCH_DEBOUNCE_MS);
  }

  /** Sorts by `key`; choosing the current key again flips the direction. */
  sortBy(key: SortKey): void {
    if (this.#sortKey === key) {
      this.#sortDirection = this.#sortDirection === 'ascending' ? 'descending' : 'ascending';
    } else {
      this.#sortKey = key;
      this.#sortDirection = defaultDirection(key);
    }
  }

  /** Sorts by `key` in `direction` (the sort menu on narrow screens). */
  setSort(key: SortKey, direction: SortDirection): void {
    this.#sortKey = key;
    this.#sortDirection = direction;
  }

  /** Reloads the list for the current search; calls made while one runs coalesce into one more. */
  refresh(): Promise<void> {
    if (this.#inFlight) {
      this.#again = true;
      return this.#inFlight;
    }
    this.#inFlight = (async () => {
      do {
        this.#again = false;
        await this.#load();
      } while (this.#again);
    })().finally(() => (this.#inFlight = null));
    return this.#inFlight;
  }

  /** One change pushed by the gateway: patched in, or a fresh listing when it says to (`resync`). */
  receive(change: FileChange): void {
    this.#settle(this.#live.receive(change));
  }

  /**
   * After a reconnect: the changes missed while away (`since` the last position), or a fresh
   * listing when the gateway no longer holds them all or nothing was listed yet.
   */
  async catchUp(): Promise<void> {
    const seq = this.#live.seq;
    // Nothing listed yet, or the search changed while the socket was away: only a listing will do.
    if (seq === null || this.#live.query !== this.#listedQuery()) return this.refresh();
    this.#live.hold();
    let result: PatchResult;
    try {
      const answer = await this.#client.since(seq);
      result = answer.resync ? { ...this.#live.release(), relist: true } : this.#live.catchUp(answer.changes);
    } catch {
      // The socket went again; its next opening catches up from the same position.
      result = this.#live.release();
    }
    this.#settle(result);
  }

  /** Shows a change this page made (its own delete or rename) at once, before its event arrives. */
  applyOwn(change: FileChange): void {
    this.#live.applyOwn(change);
    this.#files = this.#live.files;
    this.#recent.note([change]);
  }

  #settle(result: PatchResult): void {
    this.#files = this.#live.files;
    this.#recent.note(result.applied);
    if (result.relist) void this.refresh();
  }

  /** The search a listing asks for now: the box's text, or '' (every file) when it is blank. */
  #listedQuery(): string {
    return this.#query.trim() === '' ? '' : this.#query;
  }

  async #load(): Promise<void> {
    const query = this.#listedQuery();
    this.#live.hold();
    try {
      const listing = query === '' ? await this.#client.show() : await this.#client.search(query);
      this.#settle(this.#live.replace(listing, query));
      this.#shownQuery = query;
      this.#loaded = true;
      this.#error = null;
    } catch (error) {
      this.#settle(this.#live.release());
      // A closed socket is the badge's news, not the list's: keep the last list on screen.
      if (error instanceof WebError && error.code === WebErrorCode.WS_CLOSED) return;
      this.#error = messageOf(error);
    }
  }
}
