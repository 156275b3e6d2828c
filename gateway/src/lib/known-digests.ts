import type { FileEntry } from 'tor-server/protocol';

const DEFAULT_MAX_ENTRIES = 10_000;

/**
 * The SHA-256 digests the tor-server has told this gateway (its `hash` answers), remembered per
 * file version (name, size and modification time), so a later GET or HEAD of the same version
 * can say `Repr-Digest` without asking again. The gateway never computes a digest itself. A
 * file changed in place under the same size and time would keep a stale digest here, as it
 * would keep a stale ETag: the tor-server's stores never do that (uploads never overwrite).
 * Bounded: the least recently used are forgotten first.
 */
export class KnownDigests {
  readonly #max: number;
  /** Map order is use order: the first key is the least recently used. */
  readonly #digests = new Map<string, string>();

  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    this.#max = maxEntries;
  }

  /** Remembers the sha256 (hex) the tor-server gave for this version of the file. */
  remember(entry: FileEntry, sha256Hex: string): void {
    const key = keyOf(entry);
    this.#digests.delete(key);
    this.#digests.set(key, sha256Hex);
    if (this.#digests.size > this.#max) this.#digests.delete(this.#digests.keys().next().value!);
  }

  /** The sha256 (hex) of this version of the file, when known. */
  get(entry: FileEntry): string | undefined {
    const key = keyOf(entry);
    const hex = this.#digests.get(key);
    if (hex === undefined) return undefined;
    this.#digests.delete(key);
    this.#digests.set(key, hex);
    return hex;
  }
}

/** An RFC 9530 `Repr-Digest` field value for a sha256 given in hex. */
export function reprDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;
}

function keyOf(entry: FileEntry): string {
  return `${entry.size}\t${entry.modified}\t${entry.name}`;
}
