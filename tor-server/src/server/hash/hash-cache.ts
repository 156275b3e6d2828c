import { createHash } from 'node:crypto';
import type { StoredFile } from '../store/store.js';

/** Files whose sha256 is remembered; past this, the least recently used is forgotten. */
export const HASH_CACHE_ENTRIES = 10_000;
/** Hex sha256 of no bytes at all. */
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** How a hash was found: remembered, computed now, or computed for another client at the same time. */
export type HashSource = 'cached' | 'computed' | 'shared';

/** One computation that several clients may be waiting on; it stops when the last of them leaves. */
interface Running {
  key: string;
  digest: Promise<string>;
  stop: AbortController;
  waiters: number;
}

/** The client went away before the hash was ready. */
export class HashAbandonedError extends Error {
  readonly code = 'TOR_ERR_HASH_ABANDONED';
}

/**
 * sha256 of stored files, remembered per name under the file's version (so a changed file is
 * hashed again, and an unchanged one never), bounded by {@link HASH_CACHE_ENTRIES}.
 */
export class HashCache {
  readonly #capacity: number;
  /** name → the version hashed and its digest; Map order is the recency order. */
  readonly #known = new Map<string, { version: string; hex: string }>();
  readonly #running = new Map<string, Running>();

  constructor(capacity = HASH_CACHE_ENTRIES) {
    this.#capacity = capacity;
  }

  /** The digest of `name` at `version`, when known. */
  get(name: string, version: string): string | undefined {
    const known = this.#known.get(name);
    if (known?.version !== version) return undefined;
    this.#known.delete(name);
    this.#known.set(name, known);
    return known.hex;
  }

  /** Remembers the digest of `name` at `version` (an upload hashed as its bytes passed). */
  put(name: string, version: string, hex: string): void {
    this.#known.delete(name);
    this.#known.set(name, { version, hex });
    if (this.#known.size > this.#capacity) this.#known.delete(this.#known.keys().next().value!);
  }

  /** A rename keeps the bytes and their version: the digest follows the file to its new name. */
  rename(from: string, to: string): void {
    const known = this.#known.get(from);
    this.#known.delete(from);
    this.#known.delete(to);
    if (known) this.put(to, known.version, known.hex);
  }

  /**
   * The sha256 of an open file, streamed with backpressure and never held whole. Takes ownership
   * of `file`. A computation of the same name and version already under way is shared; it is
   * stopped when every client waiting on it has aborted its `signal` (HashAbandonedError).
   */
  async digest(name: string, file: StoredFile, signal: AbortSignal): Promise<{ hex: string; source: HashSource }> {
    const cached = this.get(name, file.version) ?? file.sha256 ?? (await file.keptSha256?.());
    if (cached !== undefined) {
      await file.close();
      return { hex: cached, source: 'cached' };
    }
    const key = `${name}\0${file.version}`;
    const running = this.#running.get(key);
    if (running) {
      // Joined before anything is awaited: were the last other waiter to leave while this file
      // closes, the computation this client now waits on must not be stopped under it.
      const [hex] = await Promise.all([this.#wait(running, signal), file.close()]);
      return { hex, source: 'shared' };
    }
    const stop = new AbortController();
    const started: Running = { key, digest: hashFile(file, stop.signal), stop, waiters: 0 };
    this.#running.set(key, started);
    started.digest.then(
      (hex) => this.put(name, file.version, hex),
      () => {},
    );
    void started.digest
      .finally(() => {
        if (this.#running.get(key) === started) this.#running.delete(key);
      })
      .catch(() => {});
    return { hex: await this.#wait(started, signal), source: 'computed' };
  }

  async #wait(running: Running, signal: AbortSignal): Promise<string> {
    running.waiters++;
    let onAbort: (() => void) | undefined;
    const abandoned = new Promise<never>((_, reject) => {
      onAbort = () => reject(new HashAbandonedError('the client left before the hash was ready'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([running.digest, abandoned]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
      if (--running.waiters === 0) {
        // No one waits any more: a client arriving from now on starts afresh rather than join a stopped hash.
        if (this.#running.get(running.key) === running) this.#running.delete(running.key);
        running.stop.abort();
      }
    }
  }
}

/** Streams the file through sha256; aborting `signal` destroys the stream (and so releases the file). */
async function hashFile(file: StoredFile, signal: AbortSignal): Promise<string> {
  if (file.size === 0) {
    await file.close();
    return EMPTY_SHA256;
  }
  const hash = createHash('sha256');
  const stream = file.read(0, file.size);
  const onAbort = () => stream.destroy(new HashAbandonedError('every client waiting for this hash left'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) hash.update(chunk as Buffer);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return hash.digest('hex');
}
