import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { storeErrorOf, syncDir } from '../store/fs-upload.js';
import { toFileName, type FileName, type Upload } from '../store/store.js';
import { Partial, parseRecord } from './partial.js';
import type { PartialBytes, PartialBytesWriter } from './partial-bytes.js';

/** Hidden folder inside the served folder where resumable uploads live; unlike the temp folder, kept across restarts. */
export const PARTIALS_DIR_NAME = '.tor-partials';

const INDEX_SUFFIX = '.json';
// Index files being replaced; a crash may leave one.
const TEMP_SUFFIX = '.tmp';
// 128 random bits, as lower-case hex: unguessable, and only [a-z0-9].
const ID_BYTES = 16;
// Expired partials are looked for this often at most (more often with a shorter TTL).
const MAX_SWEEP_MS = 60_000;
/**
 * A partial that holds no byte yet expires after this without activity (or after the TTL, when
 * shorter): a creation whose client vanished before its first byte (a gateway stopped, a page
 * closed between its POST and its first PATCH) takes a place in the owner's bound for minutes,
 * not for a day. A client that is there touches it with every `status`.
 */
export const EMPTY_PARTIAL_TTL_MS = 10 * 60_000;
/**
 * Committed uploads remembered per owner (the oldest forgotten first): enough for every upload
 * a client may have under way at once to be told "committed" after a lost answer.
 */
export const MAX_COMMITTED_PER_OWNER = 256;

export interface PartialStoreOptions {
  /** A partial with no activity for this long is deleted. */
  ttlMs: number;
  /** Most partials one owner may have at once. */
  maxPerOwner: number;
  logger: Logger;
  /** Where the partials' bytes wait until commit (the store's choice), given the partials folder. */
  bytes(dir: string): PartialBytes;
}

/** What `begin` answers: the partial, and whether it was an existing one resumed. */
export interface Begun {
  partial: Partial;
  resumed: boolean;
}

/** An upload committed a while ago, as `status <id> details` tells of it. */
export interface Committed {
  size: number;
  name: FileName;
  at: number;
}

/** The resumable uploads of a served folder, each owned by the owner that began it. */
export class PartialStore {
  readonly dir: string;
  readonly #options: PartialStoreOptions;
  readonly #bytes: PartialBytes;
  readonly #partials = new Map<string, Partial>();
  /** Per owner, the ids committed within the TTL (in memory only: a restart forgets them), oldest first. */
  readonly #committed = new Map<string, Map<string, Committed>>();
  #beginning: Promise<unknown> = Promise.resolve();
  readonly #sweeper: NodeJS.Timeout;

  private constructor(dir: string, options: PartialStoreOptions) {
    this.dir = dir;
    this.#options = options;
    this.#bytes = options.bytes(dir);
    this.#sweeper = setInterval(() => void this.sweep(), Math.min(MAX_SWEEP_MS, Math.max(1, Math.floor(Math.min(options.ttlMs, EMPTY_PARTIAL_TTL_MS) / 2))));
    this.#sweeper.unref();
  }

  /** Opens (creating) the partials folder of `root` and loads the partials an earlier run left; files no index names are deleted. */
  static async open(root: string, options: PartialStoreOptions): Promise<PartialStore> {
    const dir = path.join(root, PARTIALS_DIR_NAME);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new PartialStore(dir, options);
    try {
      await store.#load();
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  /** Every partial, for the console. */
  list(): Partial[] {
    return [...this.#partials.values()];
  }

  /** The owner's partial with this id; undefined when there is none (someone else's included, so ids cannot be probed). */
  get(owner: string, id: string): Partial | undefined {
    const partial = this.#partials.get(id);
    return partial && partial.owner === owner && !partial.gone ? partial : undefined;
  }

  /** The owner's upload with this id committed within the TTL; undefined otherwise. */
  committed(owner: string, id: string, now = Date.now()): Committed | undefined {
    const entry = this.#committed.get(owner)?.get(id);
    return entry && now - entry.at < this.#options.ttlMs ? entry : undefined;
  }

  /**
   * With `resume`, the owner's partial of `name` with this size and sha256 when there is one
   * (resumed), else a new one; 'too-many' when the owner has as many as allowed already.
   */
  begin(owner: string, name: FileName, size: number, sha256: string | undefined, resume = true): Promise<Begun | 'too-many'> {
    // One at a time: the limit and the lookup of a partial to resume must see the ones begun
    // just before, or twelve `begin`s at once pass a limit of four and make duplicates.
    const result = this.#beginning.then(() => this.#begin(owner, name, size, sha256, resume));
    this.#beginning = result.catch(() => {});
    return result;
  }

  async #begin(owner: string, name: FileName, size: number, sha256: string | undefined, resume: boolean): Promise<Begun | 'too-many'> {
    const mine = this.list().filter((p) => p.owner === owner && !p.gone);
    const same = resume ? mine.find((p) => p.name === name && p.size === size && p.sha256 === sha256) : undefined;
    if (same) {
      same.touch();
      return { partial: same, resumed: true };
    }
    if (mine.length >= this.#options.maxPerOwner) return 'too-many';
    const id = randomBytes(ID_BYTES).toString('hex');
    const partial = new Partial(id, path.join(this.dir, id + INDEX_SUFFIX), {
      owner,
      name,
      size,
      sha256: sha256 ?? null,
      ranges: [],
      touchedAt: Date.now(),
    });
    try {
      await this.#bytes.create(partial);
      await partial.save();
      await syncDir(this.dir);
    } catch (error) {
      await partial.remove();
      await this.#bytes.discard(partial);
      throw storeErrorOf(error);
    }
    this.#partials.set(id, partial);
    return { partial, resumed: false };
  }

  /** Deletes a partial (aborted, committed, discarded): its index first, so a crash between leaves only bytes no index names. */
  async remove(partial: Partial): Promise<void> {
    if (this.#partials.get(partial.id) === partial) this.#partials.delete(partial.id);
    await partial.remove();
    await this.#bytes.discard(partial);
  }

  /** Opens a put's writer into the partial at `offset`; throws a StoreError. */
  openWriter(partial: Partial, offset: number): Promise<PartialBytesWriter> {
    return this.#bytes.openWriter(partial, offset);
  }

  /** Makes a complete partial's bytes whole where they wait and answers their sha256; throws a StoreError. */
  seal(partial: Partial): Promise<string> {
    return this.#bytes.seal(partial);
  }

  /** When the partial expires unless it moves again (ms since the epoch): sooner while it holds no byte. */
  expiresAt(partial: Partial): number {
    const ttl = partial.stored === 0 ? Math.min(this.#options.ttlMs, EMPTY_PARTIAL_TTL_MS) : this.#options.ttlMs;
    return partial.touchedAt + ttl;
  }

  /** Deletes a committed partial's files and remembers its id for the TTL, so a client whose answer was lost learns it is done. */
  async committedNow(partial: Partial, now = Date.now()): Promise<void> {
    let mine = this.#committed.get(partial.owner);
    if (!mine) this.#committed.set(partial.owner, (mine = new Map()));
    mine.set(partial.id, { size: partial.size, name: partial.name, at: now });
    if (mine.size > MAX_COMMITTED_PER_OWNER) mine.delete(mine.keys().next().value!);
    await this.remove(partial);
  }

  /** Deletes the partials idle for longer than their TTL (never one a put or commit is using), and forgets old commits. */
  async sweep(now = Date.now()): Promise<void> {
    for (const [owner, mine] of this.#committed) {
      for (const [id, entry] of mine) if (now - entry.at >= this.#options.ttlMs) mine.delete(id);
      if (mine.size === 0) this.#committed.delete(owner);
    }
    for (const partial of this.list()) {
      if (partial.active || now < this.expiresAt(partial)) continue;
      this.#options.logger.info('partial-expired', { id: partial.id, name: partial.name, owner: partial.owner, stored: partial.stored, size: partial.size });
      await this.remove(partial);
    }
    await this.#bytes.sweep(new Set(this.#partials.keys()));
  }

  /** Makes the Upload that commits the sealed partial under its name, with the `sha256` of its bytes. */
  adopt(partial: Partial, sha256: string): Promise<Upload> {
    return this.#bytes.adopt(partial, sha256);
  }

  /** Stops the expiry timer. */
  close(): void {
    clearInterval(this.#sweeper);
  }

  async #load(): Promise<void> {
    const found: Partial[] = [];
    for (const file of await fs.readdir(this.dir)) {
      if (!file.endsWith(INDEX_SUFFIX)) continue;
      const id = file.slice(0, -INDEX_SUFFIX.length);
      const text = await fs.readFile(path.join(this.dir, file), 'utf8').catch(() => undefined);
      const record = text === undefined ? undefined : parseRecord(text, (name) => {
        const checked = toFileName(name);
        return checked.problem === undefined ? checked.name : undefined;
      });
      if (!record) {
        this.#options.logger.warn('partial-unreadable', { id, note: 'its files are deleted' });
        continue;
      }
      found.push(new Partial(id, path.join(this.dir, file), record));
    }
    for (const partial of await this.#bytes.restore(found)) this.#partials.set(partial.id, partial);
    // Leftovers: torn index temp files, bytes whose index never got written, unreadable partials.
    for (const file of await fs.readdir(this.dir)) {
      const id = file.split('.')[0]!;
      if (!this.#partials.has(id) || file.endsWith(TEMP_SUFFIX)) await fs.rm(path.join(this.dir, file), { force: true, recursive: true });
    }
  }
}
