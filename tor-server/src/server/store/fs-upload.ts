import { constants as fsc, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import type { Logger } from '../logger.js';
import { BatchedFileWriter } from './batched-writer.js';
import { toEntry } from './fs-entry.js';
import { StoreError, type StoredEntry, type Upload } from './store.js';

/**
 * An upload written to a hidden temp file, linked under its name when complete. It owns the
 * temp file's handle until commit or abort closes it.
 */
export class FsUpload implements Upload {
  readonly #name: string;
  readonly #tempPath: string;
  readonly #target: string;
  readonly #folder: string;
  readonly #handle: fs.FileHandle;
  readonly #writer: BatchedFileWriter;
  readonly #logger: Logger;
  #done = false;
  /** The synced temp file's own stat, once {@link flush} has run. */
  #flushed: Stats | undefined;

  private constructor(name: string, tempPath: string, target: string, folder: string, handle: fs.FileHandle, logger: Logger) {
    this.#name = name;
    this.#tempPath = tempPath;
    this.#target = target;
    this.#folder = folder;
    this.#handle = handle;
    this.#writer = new BatchedFileWriter(handle);
    this.#logger = logger;
  }

  /** Creates the temp file `tempPath` for an upload of `name`, to be linked as `target` (its path in `folder`). */
  static async create(name: string, tempPath: string, target: string, folder: string, logger: Logger): Promise<FsUpload> {
    try {
      const handle = await fs.open(tempPath, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
      return new FsUpload(name, tempPath, target, folder, handle, logger);
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  /**
   * An upload over `tempPath`, a complete file already there (a resumable upload's data linked
   * into the temp folder): only its commit or abort is left to do.
   */
  static async adopt(name: string, tempPath: string, target: string, folder: string, logger: Logger): Promise<FsUpload> {
    try {
      const handle = await fs.open(tempPath, fsc.O_WRONLY | fsc.O_NOFOLLOW);
      return new FsUpload(name, tempPath, target, folder, handle, logger);
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  write(chunk: Buffer): Promise<void> {
    return this.#writer.write(chunk);
  }

  async finish(): Promise<StoreError | undefined> {
    const error = await this.#writer.finish();
    return error && storeErrorOf(error);
  }

  /** fsyncs the temp file and closes it: the slow part of a commit, which needs no lock. */
  async flush(): Promise<void> {
    if (this.#flushed) return;
    try {
      await this.#handle.sync();
      // The handle's own stat: the version of exactly these bytes, whatever happens to the name next.
      const stat = await this.#handle.stat();
      await this.#handle.close();
      this.#flushed = stat;
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  /**
   * Flushes (when not done yet), then links the temp file under its name (link fails rather
   * than overwrite, where rename would replace), then fsyncs the folder so the name survives a crash.
   */
  async commit(): Promise<StoredEntry> {
    await this.flush();
    this.#done = true;
    const stat = this.#flushed!;
    try {
      await fs.link(this.#tempPath, this.#target);
    } catch (error) {
      // A FileHandle closes once, however often it is asked to: this cannot close another's descriptor.
      await this.#handle.close().catch(() => {});
      await fs.rm(this.#tempPath, { force: true }).catch(() => {});
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new StoreError('exists', this.#name, { reason: 'EEXIST', cause: error });
      throw storeErrorOf(error);
    }
    // The name now holds the file: the temp name is no longer needed.
    await fs.rm(this.#tempPath, { force: true }).catch(() => {});
    await syncDirAfter(this.#folder, `upload of ${this.#name}`, this.#logger);
    return toEntry(this.#name, stat);
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    // A write still in flight must not meet a closed handle.
    await this.#writer.finish();
    await this.#handle.close().catch(() => {});
    await fs.rm(this.#tempPath, { force: true }).catch(() => {});
  }
}

/** An fs error as a StoreError of the kind a command answers; the message stays the system's, for the log. */
export function storeErrorOf(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StoreError('no-space', message, { reason: code, cause: error });
  return new StoreError('unavailable', message, { reason: code, cause: error });
}

/**
 * Syncs `dir` after `change` to a name in it. The change is made already: a failing sync is a
 * warning in the log (the change might not survive a crash), not a failure of the change.
 */
export async function syncDirAfter(dir: string, change: string, logger: Logger): Promise<void> {
  await syncDir(dir).catch((error: unknown) => {
    logger.warn('folder-sync-failed', { change, error: (error as Error).message, note: 'the change is made, but may not survive a crash' });
  });
}

/** fsyncs a folder, so the names just linked into it or removed from it survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, fsc.O_RDONLY);
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the data itself is already synced.
  } finally {
    await handle.close();
  }
}
