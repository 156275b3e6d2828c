import type { FileChange } from '../../protocol/changes.js';
import type { Logger } from '../logger.js';
import { StoreError, toFileName, type FileName, type Store, type StoredEntry, type Upload } from '../store/store.js';
import { QuietFiles } from './quiet-files.js';
import { ChangeRing } from './ring.js';

/** Changes kept for watchers that reconnect with `watch <since>`; older ones get `resync`. */
export const CHANGE_RING_SIZE = 10_000;
/** Hints from the store are gathered this long before looking, so a burst costs one look. */
export const HINT_SETTLE_MS = 50;
/** More hinted names than this at once are looked at as one full rescan. */
const MAX_HINTED_NAMES = 64;

/** Receives each change once, in the feed's order. */
export type ChangeListener = (change: FileChange) => void;

/** What a new watcher gets: where it starts, what it missed since `since`, and how to stop. */
export interface Subscription {
  /** The seq of the last change so far (the watch's `watching <seq>`). */
  seq: number;
  /** The changes after `since`, or 'resync' when they are not all known any more. Empty without `since`. */
  missed: FileChange[] | 'resync';
  stop(): void;
}

/**
 * The server's one change feed. It keeps the current name→row snapshot, and every change to it
 * (an upload stored, a delete, a rename, or whatever the store hints happened on disk) is
 * recorded once, in one server-wide order, numbered by `seq`. Mutations and looks at the disk
 * are recorded one at a time under the feed's lock, so a rename is never also seen as an
 * `added` by a rescan that looked between its two steps; the slow parts (an upload's fsync, the
 * listing of a full rescan) run outside it.
 */
export class ChangeFeed {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #snapshot = new Map<string, StoredEntry>();
  readonly #listeners = new Set<ChangeListener>();
  readonly #ring: ChangeRing;
  /** The seq this run started at: no change of this run has a smaller one. */
  readonly #baseSeq: number;
  #seq: number;
  #lock: Promise<unknown> = Promise.resolve();
  #stopWatching: () => void = () => {};
  readonly #hinted = new Set<string>();
  #fullLookHinted = false;
  #hintTimer: NodeJS.Timeout | undefined;
  /** One set per full listing under way: the names whose change the feed recorded while it ran. */
  readonly #listings = new Set<Set<string>>();
  /** Files changed by hand, announced once they stop changing. */
  readonly #quiet = new QuietFiles((names) =>
    this.#exclusive(() => this.#lookAt(names)).catch((error: unknown) => {
      this.#logger.warn('rescan-failed', { error: (error as Error).message });
    }),
  );
  #closed = false;

  private constructor(store: Store, logger: Logger, baseSeq: number, ringSize: number) {
    this.#store = store;
    this.#logger = logger;
    this.#baseSeq = baseSeq;
    this.#seq = baseSeq;
    this.#ring = new ChangeRing(ringSize);
  }

  /**
   * Lists the store for the first snapshot and starts listening to its hints. Seqs start from
   * the clock (microseconds), so a `since` from an earlier run is older than anything of this one.
   */
  static async start(store: Store, logger: Logger, options: { ringSize?: number; baseSeq?: number } = {}): Promise<ChangeFeed> {
    const feed = new ChangeFeed(store, logger, options.baseSeq ?? Date.now() * 1000, options.ringSize ?? CHANGE_RING_SIZE);
    for (const entry of await store.list()) feed.#snapshot.set(entry.name, entry);
    feed.#stopWatching = store.watch((name) => feed.#hint(name));
    return feed;
  }

  /** The seq of the last change so far. */
  get seq(): number {
    return this.#seq;
  }

  /** Watchers listening now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  /**
   * Starts delivering changes to `listener`, synchronously after what it missed since `since`:
   * nothing can come between the returned `missed` and the first live change.
   */
  subscribe(since: number | undefined, listener: ChangeListener): Subscription {
    const missed = since === undefined ? [] : this.#missedSince(since);
    this.#listeners.add(listener);
    return { seq: this.#seq, missed, stop: () => this.#listeners.delete(listener) };
  }

  /** Commits an upload (with the sha256 of its bytes when known) and records it as `added`; resolves with its row and version. */
  async commitUpload(upload: Upload, sha256?: string): Promise<StoredEntry> {
    // The fsync of the bytes, however long, holds up no other upload, delete or rename: only the linking is locked.
    await upload.flush();
    return this.#exclusive(async () => {
      const entry = await upload.commit(sha256);
      this.#recordEntry(entry);
      return entry;
    });
  }

  /** Deletes a file and records it as `removed`: true when deleted, false when no file had the name. */
  remove(name: FileName): Promise<boolean> {
    return this.#exclusive(async () => {
      try {
        await this.#store.remove(name);
      } catch (error) {
        if (error instanceof StoreError && error.kind === 'not-found') return false;
        throw error;
      }
      this.#recordRemoved(name);
      return true;
    });
  }

  /**
   * Renames a file and records one `renamed`: resolves with its new row, or undefined when no
   * file had `from`. StoreError `exists` when `to` is taken.
   */
  rename(from: FileName, to: FileName): Promise<StoredEntry | undefined> {
    return this.#exclusive(async () => {
      let entry: StoredEntry;
      try {
        entry = await this.#store.rename(from, to);
      } catch (error) {
        if (error instanceof StoreError && error.kind === 'not-found') return undefined;
        throw error;
      }
      if (!this.#snapshot.has(from)) {
        // Put there by hand and not looked at yet: to a watcher it is new.
        this.#recordEntry(entry);
      } else {
        this.#snapshot.delete(from);
        this.#snapshot.set(to, entry);
        this.#emit({ type: 'renamed', seq: this.#nextSeq(), from, to, entry });
      }
      return entry;
    });
  }

  /** Looks at the whole store now (tests and the console use it to not wait for the timer). */
  rescan(): Promise<void> {
    return this.#lookAtAll();
  }

  /** Stops listening to the store and drops every listener. */
  close(): void {
    this.#closed = true;
    this.#stopWatching();
    clearTimeout(this.#hintTimer);
    this.#quiet.close();
    this.#listeners.clear();
  }

  #missedSince(since: number): FileChange[] | 'resync' {
    // Older than this run, or from the future (another run's, or made up): no replay can be trusted.
    if (since < this.#baseSeq || since > this.#seq) return 'resync';
    return this.#ring.after(since) ?? 'resync';
  }

  #hint(name?: string): void {
    if (this.#closed) return;
    if (name === undefined || this.#hinted.size >= MAX_HINTED_NAMES) this.#fullLookHinted = true;
    // Hidden names (the server's temp folder and lock, the operator's dotfiles) are never listed.
    else if (!name.startsWith('.')) this.#hinted.add(name);
    else return;
    this.#hintTimer ??= setTimeout(() => {
      this.#hintTimer = undefined;
      const full = this.#fullLookHinted;
      const names = [...this.#hinted];
      this.#fullLookHinted = false;
      this.#hinted.clear();
      (full ? this.#lookAtAll() : this.#exclusive(() => this.#lookAt(names))).catch((error: unknown) => {
        this.#logger.warn('rescan-failed', { error: (error as Error).message });
      });
    }, HINT_SETTLE_MS);
  }

  /**
   * Lists the whole store without the lock (a large folder takes a while), then compares under
   * it; a name the feed recorded a change of meanwhile is looked at again rather than trusted to the listing.
   */
  async #lookAtAll(): Promise<void> {
    if (this.#closed) return;
    // Tracked until the comparison holds the lock: a change recorded while it waits for it counts too.
    const changedMeanwhile = new Set<string>();
    this.#listings.add(changedMeanwhile);
    try {
      const listed = await this.#store.list();
      await this.#exclusive(async () => {
        if (this.#closed) return;
        this.#listings.delete(changedMeanwhile);
        const entries = listed.filter((entry) => !changedMeanwhile.has(entry.name));
        for (const name of changedMeanwhile) {
          const checked = toFileName(name);
          const entry = checked.problem === undefined ? await this.#store.stat(checked.name) : undefined;
          if (entry) entries.push(entry);
        }
        this.#compareAll(entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
      });
    } finally {
      this.#listings.delete(changedMeanwhile);
    }
  }

  /** Records the difference between the snapshot and `entries`, every visible file of the store. */
  #compareAll(entries: StoredEntry[]): void {
    const present = new Set(entries.map((entry) => entry.name));
    for (const name of [...this.#snapshot.keys()].sort()) if (!present.has(name)) this.#recordRemoved(name);
    // The safety net announces what fs.watch missed at once, but lets a file being written become quiet.
    for (const entry of entries) {
      if (!this.#quiet.has(entry.name) || this.#quiet.seen(entry, this.#snapshot.get(entry.name)?.version)) this.#recordEntry(entry);
    }
  }

  async #lookAt(names: string[]): Promise<void> {
    for (const name of names.sort()) {
      if (this.#closed) return;
      const checked = toFileName(name);
      if (checked.problem !== undefined) continue;
      const entry = await this.#store.stat(checked.name);
      if (entry) {
        if (this.#quiet.seen(entry, this.#snapshot.get(entry.name)?.version)) this.#recordEntry(entry);
      } else {
        this.#quiet.forget(name);
        this.#recordRemoved(name);
      }
    }
  }

  /** Records a file as it is now: `added` when it is new or its version changed, nothing when known. */
  #recordEntry(entry: StoredEntry): void {
    if (this.#snapshot.get(entry.name)?.version === entry.version) return;
    this.#snapshot.set(entry.name, entry);
    this.#emit({ type: 'added', seq: this.#nextSeq(), entry });
  }

  #recordRemoved(name: string): void {
    if (!this.#snapshot.delete(name)) return;
    this.#emit({ type: 'removed', seq: this.#nextSeq(), name });
  }

  #nextSeq(): number {
    return ++this.#seq;
  }

  #emit(change: FileChange): void {
    for (const changed of this.#listings) {
      if (change.type === 'renamed') changed.add(change.from).add(change.to);
      else changed.add(change.type === 'added' ? change.entry.name : change.name);
    }
    this.#ring.push(change);
    for (const listener of [...this.#listeners]) {
      // One failing watcher must neither keep the change from the others nor fail the mutation that made it.
      try {
        listener(change);
      } catch (error) {
        this.#logger.error('change-listener-failed', { seq: change.seq, error: (error as Error).message });
      }
    }
  }

  /** Runs `task` when every earlier one is done. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(task);
    this.#lock = run.catch(() => {});
    return run;
  }
}
