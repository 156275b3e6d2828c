import { randomBytes } from 'node:crypto';
import { constants as fsc, fstatSync, lstatSync, openSync, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { compareByName } from '../../protocol/file-row.js';
import { silentLogger, type Logger } from '../logger.js';
import { decodeUtf8, escapeBytes } from './disk-names.js';
import { FolderLock } from './folder-lock.js';
import { toEntry, versionOf } from './fs-entry.js';
import { closeQuietly, readFileRange } from './file-range.js';
import { FsUpload, storeErrorOf, syncDirAfter } from './fs-upload.js';
import { watchFolder } from './folder-watch.js';
import { StoreError, toFileName, type FileName, type ListOptions, type Store, type StoredEntry, type StoredFile } from './store.js';

/** Hidden folder inside the served folder where uploads are written until they are complete. */
export const TEMP_DIR_NAME = '.tor-tmp';

// Files stat-ed per turn of the event loop when listing a large folder.
const STAT_BATCH = 256;
// Free space an upload must leave, so the server still has room for its own metadata.
/** Bytes of a local disk never handed out (the index files and logs need some too). */
export const SPACE_MARGIN_BYTES = 1024 * 1024;
// Unlistable names remembered so each is warned about once; beyond this, no more warnings.
const MAX_WARNED_NAMES = 4096;
const DOT = 0x2e;

/**
 * The served folder as a Store. Symlinks are never followed, and uploads land under their name
 * only when complete and never over a file. It holds the folder's lock from {@link FsStore.open}
 * to {@link FsStore.close}.
 */
export class FsStore implements Store {
  readonly root: string;
  readonly tempDir: string;
  readonly #lock: FolderLock;
  readonly #logger: Logger;
  /** Names with an upload in flight: a second upload of the same name is refused at once. */
  readonly #reserved = new Set<string>();
  /** Names on disk already warned about as not listable (bounded: see MAX_WARNED_NAMES). */
  readonly #warned = new Set<string>();
  #warnedEnough = false;

  private constructor(root: string, lock: FolderLock, logger: Logger) {
    this.root = root;
    this.tempDir = path.join(root, TEMP_DIR_NAME);
    this.#lock = lock;
    this.#logger = logger;
  }

  /**
   * Creates the folder if needed and locks it, touching nothing else in it; throws
   * FolderLockedError when another live server holds it. Call {@link clearAbandonedUploads} before use.
   */
  static async open(dir: string, logger: Logger = silentLogger): Promise<FsStore> {
    await fs.mkdir(dir, { recursive: true });
    const root = await fs.realpath(dir);
    return new FsStore(root, await FolderLock.acquire(root), logger);
  }

  async clearAbandonedUploads(): Promise<void> {
    await fs.rm(this.tempDir, { recursive: true, force: true });
    await fs.mkdir(this.tempDir, { mode: 0o700 });
  }

  close(): Promise<void> {
    return this.#lock.release();
  }

  /** Names the TFTCP rules refuse are left out, with a warning once per name. */
  async list(options: ListOptions = {}): Promise<StoredEntry[]> {
    const { filter } = options;
    // As bytes: a name that is not UTF-8 would otherwise be read as U+FFFD and pass for another name.
    const dirents = await fs.readdir(this.root, { encoding: 'buffer', withFileTypes: true });
    const names: string[] = [];
    for (const dirent of dirents) {
      if (!dirent.isFile()) continue;
      const name = this.#listableName(dirent.name);
      if (name !== undefined && (filter === undefined || filter(name))) names.push(name);
    }
    const entries: StoredEntry[] = [];
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      // Synchronous (see stat): 10,000 files took 34 ms of CPU instead of 87–223 ms, and the
      // other clients wait at most one batch (about 1.5 ms) between turns.
      if (i > 0) await nextTurn();
      for (const name of names.slice(i, i + STAT_BATCH)) {
        // A file removed between readdir and lstat is simply not listed.
        const stat = lstatQuietly(path.join(this.root, name));
        if (stat?.isFile()) entries.push(toEntry(name, stat));
      }
    }
    return entries.sort(compareByName);
  }

  // stat and openRead call the file system synchronously: from the inode cache each call takes a
  // few µs, where a hand-off to libuv's thread pool and back costs about 50 µs of CPU (measured on
  // a 2-core VM; it was most of the server's work for a small file's stat and download). A disk
  // that hangs stalls the thread pool's four threads just the same. Bytes are read in the thread
  // pool, but for ranges of up to 64 KiB (see readFileRange).

  async stat(name: FileName): Promise<StoredEntry | undefined> {
    try {
      const stat = lstatSync(this.#pathOf(name), { throwIfNoEntry: false });
      return stat?.isFile() ? toEntry(name, stat) : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storeErrorOf(error);
    }
  }

  async openRead(name: FileName): Promise<StoredFile | undefined> {
    let fd: number;
    try {
      // O_NOFOLLOW: a symlink planted in the folder must not lead outside it. O_NONBLOCK: opening
      // a named pipe would otherwise wait for a writer, and stall the server.
      fd = openSync(this.#pathOf(name), fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storeErrorOf(error);
    }
    // Until it is returned, the descriptor is ours to close, whatever fails.
    let stat: Stats;
    try {
      stat = fstatSync(fd);
    } catch (error) {
      closeQuietly(fd);
      throw storeErrorOf(error);
    }
    if (!stat.isFile()) {
      closeQuietly(fd);
      return undefined;
    }
    return new FsStoredFile(fd, stat.size, versionOf(stat));
  }

  async remove(name: FileName): Promise<void> {
    const target = this.#pathOf(name);
    await this.#requireFile(name, target);
    try {
      await fs.unlink(target);
    } catch (error) {
      if (isMissing(error)) throw new StoreError('not-found', name);
      throw storeErrorOf(error);
    }
    await this.#syncRoot(`delete ${name}`);
  }

  /** link (which fails rather than overwrite, where rename would replace), then unlink the old name. */
  async rename(from: FileName, to: FileName): Promise<StoredEntry> {
    const source = this.#pathOf(from);
    const target = this.#pathOf(to);
    if (this.#reserved.has(to)) throw new StoreError('exists', `${to} is being uploaded right now`);
    const before = await this.#requireFile(from, source);
    try {
      await fs.link(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new StoreError('exists', to, { reason: code, cause: error });
      if (isMissing(error)) throw new StoreError('not-found', from);
      throw storeErrorOf(error);
    }
    try {
      await fs.unlink(source);
    } catch (error) {
      // Already gone (removed by hand meanwhile): the file is under its new name all the same.
      if (!isMissing(error)) {
        // Not renamed after all: the file must not stay under both names.
        await fs.unlink(target).catch((undo: unknown) => {
          this.#logger.error('rename-undo-failed', { from, to, error: (undo as Error).message, note: 'the file is now under both names' });
        });
        throw storeErrorOf(error);
      }
    }
    await this.#syncRoot(`rename ${from} to ${to}`);
    // The rename is done: a file removed by hand right after it, or a failing stat, does not undo it.
    return (await this.stat(to).catch(() => undefined)) ?? toEntry(to, before);
  }

  watch(onHint: (name?: string) => void): () => void {
    return watchFolder(this.root, onHint, this.#logger);
  }

  async reserve(name: FileName): Promise<void> {
    if (this.#reserved.has(name)) throw new StoreError('exists', `${name} is being uploaded right now`);
    this.#reserved.add(name);
    try {
      await fs.lstat(this.#pathOf(name));
    } catch (error) {
      if (isMissing(error)) return;
      this.#reserved.delete(name);
      throw storeErrorOf(error);
    }
    this.#reserved.delete(name);
    throw new StoreError('exists', name);
  }

  release(name: FileName): void {
    this.#reserved.delete(name);
  }

  async checkSpace(size: number): Promise<void> {
    const free = await this.freeBytes();
    if (size > free) throw new StoreError('no-space', `${size} bytes asked, ${free} available`);
  }

  async freeBytes(): Promise<number> {
    const { bavail, bsize } = await fs.statfs(this.root).catch((error: unknown) => {
      throw storeErrorOf(error);
    });
    return Math.max(0, bavail * bsize - SPACE_MARGIN_BYTES);
  }

  beginUpload(name: FileName): Promise<FsUpload> {
    const tempPath = path.join(this.tempDir, `${randomBytes(12).toString('hex')}.part`);
    return FsUpload.create(name, tempPath, this.#pathOf(name), this.root, this.#logger);
  }

  /**
   * An upload of `name` made of `file`, a complete file inside the served folder (a resumable
   * upload's data): a second link to it in the temp folder is what the upload commits or
   * aborts, so `file` itself stays whatever happens.
   */
  async adoptUpload(name: FileName, file: string): Promise<FsUpload> {
    const tempPath = path.join(this.tempDir, `${randomBytes(12).toString('hex')}.part`);
    await fs.link(file, tempPath).catch((error: unknown) => {
      throw storeErrorOf(error);
    });
    return FsUpload.adopt(name, tempPath, this.#pathOf(name), this.root, this.#logger);
  }

  /** The stat of `full`; StoreError `not-found` unless it is a regular file (never a symlink, a folder or a pipe). */
  async #requireFile(name: string, full: string): Promise<Stats> {
    const stat = await fs.lstat(full).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw storeErrorOf(error);
    });
    if (!stat?.isFile()) throw new StoreError('not-found', name);
    return stat;
  }

  /** Syncs the folder after `change`, which is made whatever the sync says. */
  #syncRoot(change: string): Promise<void> {
    return syncDirAfter(this.root, change, this.#logger);
  }

  /** The name as a string when it may be listed; undefined (after a warning, once per name) when not. */
  #listableName(bytes: Buffer): string | undefined {
    // Hidden names are the server's own (.tor-tmp, .tor-lock) or the operator's: skipped without a word.
    if (bytes[0] === DOT) return undefined;
    const text = decodeUtf8(bytes);
    const checked = text === undefined ? { problem: 'the name is not valid UTF-8' } : toFileName(text);
    if (checked.problem === undefined) return checked.name;
    this.#warnUnlisted(bytes, checked.problem);
    return undefined;
  }

  #warnUnlisted(bytes: Buffer, problem: string): void {
    const key = bytes.toString('hex');
    if (this.#warned.has(key) || this.#warnedEnough) return;
    if (this.#warned.size >= MAX_WARNED_NAMES) {
      this.#warnedEnough = true;
      this.#logger.warn('unlisted-names', { note: `more than ${MAX_WARNED_NAMES} names cannot be listed; the rest are not logged` });
      return;
    }
    this.#warned.add(key);
    this.#logger.warn('unlisted-name', { name: escapeBytes(bytes), reason: problem });
  }

  #pathOf(name: string): string {
    // The name rules forbid separators, so this cannot leave the root; assert it anyway.
    const full = path.join(this.root, name);
    if (path.dirname(full) !== this.root) throw new StoreError('invalid-name', 'outside the folder');
    return full;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  // ELOOP: O_NOFOLLOW met a symlink, which we treat as no file at all.
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

/** A file open for reading: the handle is this object's until a stream is made of it, then the stream's. */
class FsStoredFile implements StoredFile {
  readonly size: number;
  readonly version: string;
  #fd: number | undefined;

  constructor(fd: number, size: number, version: string) {
    this.#fd = fd;
    this.size = size;
    this.version = version;
  }

  read(offset: number, count: number): Readable {
    const fd = this.#fd;
    if (fd === undefined) throw new Error('the file was already read or closed');
    // From here the stream owns the descriptor and closes it when it ends or is destroyed;
    // closing it here as well once closed another client's file.
    this.#fd = undefined;
    return readFileRange(fd, offset, count);
  }

  async close(): Promise<void> {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) closeQuietly(fd);
  }
}

/** The lstat of `file`, or undefined when it cannot be had (gone since the folder was read). */
function lstatQuietly(file: string): Stats | undefined {
  try {
    return lstatSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
