import type { StoredEntry } from '../store/store.js';

/**
 * A file changed on disk by hand is announced once its version has stayed the same this long:
 * a copy in progress is one `added` when it is done, not one per write.
 */
export const FILE_QUIET_MS = 500;
/** How often files waiting to be quiet are looked at again. */
const QUIET_CHECK_MS = 100;
/** Past this many files waiting to be quiet at once, a changed file is announced as soon as it is seen. */
const MAX_WAITING = 1024;

/**
 * Files changed by hand and not announced yet: the version last seen of each, and since when it
 * has not changed. While any waits, `lookAgain` is called every {@link QUIET_CHECK_MS} with
 * their names, to look at them (and so call {@link seen}) again.
 */
export class QuietFiles {
  readonly #waiting = new Map<string, { version: string; since: number }>();
  readonly #lookAgain: (names: string[]) => Promise<void>;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** `lookAgain` never rejects. */
  constructor(lookAgain: (names: string[]) => Promise<void>) {
    this.#lookAgain = lookAgain;
  }

  /** Whether `name` is waiting to be quiet. */
  has(name: string): boolean {
    return this.#waiting.has(name);
  }

  /** `name` is gone (or no longer changed by hand): it waits no more. */
  forget(name: string): void {
    this.#waiting.delete(name);
  }

  /**
   * The file as it is now, and the version already announced for its name: true when it is to
   * be announced now (quiet long enough, or too many waiting), false while it waits or when
   * nothing changed.
   */
  seen(entry: StoredEntry, announced: string | undefined): boolean {
    const waiting = this.#waiting.get(entry.name);
    if (announced === entry.version) {
      this.#waiting.delete(entry.name);
      return false;
    }
    if (waiting?.version === entry.version) {
      if (performance.now() - waiting.since < FILE_QUIET_MS) return false;
      this.#waiting.delete(entry.name);
      return true;
    }
    if (!waiting && this.#waiting.size >= MAX_WAITING) return true;
    this.#waiting.set(entry.name, { version: entry.version, since: performance.now() });
    this.#arm();
    return false;
  }

  /** Stops looking again. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    if (this.#closed) return;
    this.#timer ??= setTimeout(async () => {
      await this.#lookAgain([...this.#waiting.keys()]);
      this.#timer = undefined;
      if (this.#waiting.size > 0) this.#arm();
    }, QUIET_CHECK_MS).unref();
  }
}
