import { createHash } from 'node:crypto';
import { constants as fsc, createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { storeErrorOf } from '../store/fs-upload.js';
import type { FileName, Upload } from '../store/store.js';
import type { Partial } from './partial.js';
import type { PartialBytes, PartialBytesWriter } from './partial-bytes.js';
import { PartialWriter } from './partial-writer.js';
import { PrefixHash, READ_BACK_BYTES } from './prefix-hash.js';

const DATA_SUFFIX = '.data';
// As an upload's temp file: the committed file is this one.
const DATA_MODE = 0o644;

/**
 * A folder store's partials: each one's bytes in one sparse data file `<id>.data` next to its
 * index, written at any offset and linked into place whole at commit.
 */
export class FolderPartialBytes implements PartialBytes {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #adopt: (name: FileName, file: string) => Promise<Upload>;
  /** The running sha256 of each partial begun in this run (a restored one has none: its commit reads the file). */
  readonly #prefixes = new Map<string, PrefixHash>();

  /** `adopt` makes the store's Upload of a complete data file (its no-overwrite linking). */
  constructor(dir: string, logger: Logger, adopt: (name: FileName, file: string) => Promise<Upload>) {
    this.#dir = dir;
    this.#logger = logger;
    this.#adopt = adopt;
  }

  /** The partial's data file. */
  dataPath(partial: Partial): string {
    return dataFileOf(this.#dir, partial.id);
  }

  async create(partial: Partial): Promise<void> {
    await createDataFile(this.dataPath(partial));
    this.#prefixes.set(partial.id, new PrefixHash(this.dataPath(partial), partial.size));
  }

  async restore(partials: Partial[]): Promise<Partial[]> {
    const kept: Partial[] = [];
    for (const partial of partials) {
      const data = await fs.lstat(this.dataPath(partial)).catch(() => undefined);
      if (!data?.isFile()) {
        this.#logger.warn('partial-unreadable', { id: partial.id, note: 'its files are deleted' });
        continue;
      }
      // A second link: it was committed (linked into place) and the server stopped before its
      // removal reached the disk. It is a published file now, never to be written again.
      if (data.nlink > 1) {
        this.#logger.info('partial-committed-before-stop', { id: partial.id, name: partial.name });
        continue;
      }
      kept.push(partial);
    }
    return kept;
  }

  openWriter(partial: Partial, offset: number): Promise<PartialBytesWriter> {
    return PartialWriter.open(partial, this.dataPath(partial), offset, 0, this.#prefixes.get(partial.id));
  }

  async seal(partial: Partial): Promise<string> {
    return (await this.#prefixes.get(partial.id)?.digest(partial.ranges)) ?? sha256OfFile(this.dataPath(partial));
  }

  adopt(partial: Partial): Promise<Upload> {
    return this.#adopt(partial.name, this.dataPath(partial));
  }

  async discard(partial: Partial): Promise<void> {
    await this.#prefixes.get(partial.id)?.stop();
    this.#prefixes.delete(partial.id);
    await fs.rm(this.dataPath(partial), { force: true }).catch(() => {});
  }

  async sweep(): Promise<void> {}
}

/** The file in the partials folder `dir` that holds a partial's bytes whole (at any offset). */
export function dataFileOf(dir: string, id: string): string {
  return path.join(dir, id + DATA_SUFFIX);
}

/** Creates an empty file for a partial's bytes (never over one); throws a StoreError. */
export async function createDataFile(file: string): Promise<void> {
  try {
    // The mode a committed file gets (it may be this file, linked into place); the folder itself is private.
    const handle = await fs.open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, DATA_MODE);
    await handle.close();
  } catch (error) {
    throw storeErrorOf(error);
  }
}

/** The sha256 of a file as 64 lower-case hex digits, read once as a stream; throws a StoreError. */
export async function sha256OfFile(file: string): Promise<string> {
  const digest = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: READ_BACK_BYTES })) digest.update(chunk as Buffer);
  } catch (error) {
    throw storeErrorOf(error);
  }
  return digest.digest('hex');
}
