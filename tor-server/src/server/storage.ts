import { randomBytes } from 'node:crypto';
import { constants as fsc, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { compareByName, type FileEntry } from '../protocol/file-row.js';
import { fileNameProblem } from '../protocol/names.js';
import { ErrorKind, errorReply } from '../protocol/constants.js';
import { decodeUtf8, escapeBytes } from './disk-names.js';
import { ReplyError } from './errors.js';
import { FolderLock } from './folder-lock.js';
import { silentLogger, type Logger } from './logger.js';

/** Hidden folder inside the served folder where uploads are written until they are complete. */
export const TEMP_DIR_NAME = '.tor-tmp';

// Stat this many files at once when listing a large folder.
const STAT_BATCH = 256;
// Free space an upload must leave, so the server still has room for its own metadata.
const SPACE_MARGIN_BYTES = 1024 * 1024;
// Unlistable names remembered so each is warned about once; beyond this, no more warnings.
const MAX_WARNED_NAMES = 4096;
const DOT = 0x2e;

/** A file opened for reading: the handle is ours until closed, whatever happens to the name. */
export interface OpenFile {
  handle: fs.FileHandle;
  size: number;
}

/** An upload being written: invisible until {@link Storage.commit}. */
export interface PendingUpload {
  name: string;
  tempPath: string;
  handle: fs.FileHandle;
}

/**
 * The served folder. Every name is checked against the TFTCP rules before it touches the
 * disk, symlinks are never followed, and uploads land under their name only when complete.
 * It holds the folder's lock from {@link Storage.open} to {@link Storage.close}.
 */
export class Storage {
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
   * FolderLockedError when another live server holds it. Call {@link clearTemp} before use.
   */
  static async open(dir: string, logger: Logger = silentLogger): Promise<Storage> {
    await fs.mkdir(dir, { recursive: true });
    const root = await fs.realpath(dir);
    return new Storage(root, await FolderLock.acquire(root), logger);
  }

  /** Empties the temp folder left by an earlier run (ours to do: we hold the folder's lock). */
  async clearTemp(): Promise<void> {
    await fs.rm(this.tempDir, { recursive: true, force: true });
    await fs.mkdir(this.tempDir, { mode: 0o700 });
  }

  /** Gives the folder's lock back. */
  close(): Promise<void> {
    return this.#lock.release();
  }

  /** Every visible regular file, sorted by name. Names the TFTCP rules refuse are left out, with a warning. */
  async list(): Promise<FileEntry[]> {
    // As bytes: a name that is not UTF-8 would otherwise be read as U+FFFD and pass for another name.
    const dirents = await fs.readdir(this.root, { encoding: 'buffer', withFileTypes: true });
    const names: string[] = [];
    for (const dirent of dirents) {
      if (!dirent.isFile()) continue;
      const name = this.#listableName(dirent.name);
      if (name !== undefined) names.push(name);
    }
    const entries: FileEntry[] = [];
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      const batch = names.slice(i, i + STAT_BATCH);
      const stats = await Promise.all(batch.map((name) => fs.lstat(this.#pathOf(name)).catch(() => null)));
      stats.forEach((stat, j) => {
        // A file removed between readdir and lstat is simply not listed.
        if (stat?.isFile()) entries.push(toEntry(batch[j]!, stat));
      });
    }
    return entries.sort(compareByName);
  }

  /** Visible files whose name contains `text`, case-insensitively. */
  async search(text: string): Promise<FileEntry[]> {
    const needle = text.toLowerCase();
    return (await this.list()).filter((entry) => entry.name.toLowerCase().includes(needle));
  }

  /** Opens a file for reading, or returns undefined when no visible regular file has the name. */
  async openForRead(name: string): Promise<OpenFile | undefined> {
    this.#checkName(name);
    let handle: fs.FileHandle;
    try {
      // O_NOFOLLOW: a symlink planted in the folder must not lead outside it. O_NONBLOCK: opening
      // a named pipe would otherwise wait for a writer, holding one of libuv's few fs threads.
      handle = await fs.open(this.#pathOf(name), fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    // Until it is returned, the handle is ours to close, whatever fails.
    let stat: Stats;
    try {
      stat = await handle.stat();
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    if (!stat.isFile()) {
      await handle.close();
      return undefined;
    }
    return { handle, size: stat.size };
  }

  /** Reserves a name for an upload; throws a ReplyError when the name is invalid or taken. */
  reserve(name: string): void {
    this.#checkName(name);
    if (this.#reserved.has(name)) throw new ReplyError(errorReply(ErrorKind.FILE_EXISTS, `${name} is being uploaded right now`));
    this.#reserved.add(name);
  }

  /** Gives a reserved name back. */
  release(name: string): void {
    this.#reserved.delete(name);
  }

  /** Throws a ReplyError when something already has the name on disk. */
  async assertFree(name: string): Promise<void> {
    try {
      await fs.lstat(this.#pathOf(name));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    throw new ReplyError(errorReply(ErrorKind.FILE_EXISTS, name));
  }

  /**
   * Throws a ReplyError when the disk has not `size` bytes free now. Nothing is set aside:
   * bytes count once they are written, so an upload that announces much and sends little
   * cannot lock others out (a disk that fills up mid-upload is answered then).
   */
  async assertSpaceFor(size: number): Promise<void> {
    const { bavail, bsize } = await fs.statfs(this.root);
    const free = bavail * bsize - SPACE_MARGIN_BYTES;
    if (size > free) throw new ReplyError(errorReply(ErrorKind.NO_SPACE, `${size} bytes asked, ${Math.max(0, free)} available`));
  }

  /** Creates the hidden temp file an upload is written to. */
  async createTemp(name: string): Promise<PendingUpload> {
    const tempPath = path.join(this.tempDir, `${randomBytes(12).toString('hex')}.part`);
    const handle = await fs.open(tempPath, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
    return { name, tempPath, handle };
  }

  /**
   * Makes a complete upload visible: fsync, then link it under its name (which fails rather
   * than overwrite), then fsync the folder so the name survives a crash.
   */
  async commit(upload: PendingUpload): Promise<void> {
    await upload.handle.sync();
    await upload.handle.close();
    const target = this.#pathOf(upload.name);
    try {
      await fs.link(upload.tempPath, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ReplyError(errorReply(ErrorKind.FILE_EXISTS, upload.name));
      throw error;
    } finally {
      await fs.rm(upload.tempPath, { force: true });
    }
    await syncDir(this.root);
  }

  /** Throws away an unfinished upload. Never throws. */
  async discard(upload: PendingUpload): Promise<void> {
    await upload.handle.close().catch(() => {});
    await fs.rm(upload.tempPath, { force: true }).catch(() => {});
  }

  /** The name as a string when it may be listed; undefined (after a warning, once per name) when not. */
  #listableName(bytes: Buffer): string | undefined {
    // Hidden names are the server's own (.tor-tmp, .tor-lock) or the operator's: skipped without a word.
    if (bytes[0] === DOT) return undefined;
    const name = decodeUtf8(bytes);
    const problem = name === undefined ? 'the name is not valid UTF-8' : fileNameProblem(name);
    if (problem === undefined) return name;
    this.#warnUnlisted(bytes, problem);
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

  #checkName(name: string): void {
    const problem = fileNameProblem(name);
    if (problem) throw new ReplyError(errorReply(ErrorKind.INVALID_NAME, problem));
  }

  #pathOf(name: string): string {
    // The name rules forbid separators, so this cannot leave the root; assert it anyway.
    const full = path.join(this.root, name);
    if (path.dirname(full) !== this.root) throw new ReplyError(errorReply(ErrorKind.INVALID_NAME, 'outside the folder'));
    return full;
  }
}

// The span a listing row can carry: toISOString() prints other years with a sign and 6 digits.
const EARLIEST_MS = Date.parse('0000-01-01T00:00:00.000Z');
const LATEST_MS = Date.parse('9999-12-31T23:59:59.999Z');

function toEntry(name: string, stat: Stats): FileEntry {
  // Some file systems allow times no listing row can express (year 11476, or beyond Date's range):
  // clamp them rather than break every listing that contains the file.
  // stat.mtime is rounded to the millisecond as Node rounds it; it is an invalid Date past Date's range.
  const ms = stat.mtime.getTime();
  const time = Number.isNaN(ms) ? (stat.mtimeMs > 0 ? LATEST_MS : EARLIEST_MS) : Math.min(Math.max(ms, EARLIEST_MS), LATEST_MS);
  return { name, size: stat.size, modified: new Date(time).toISOString() };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  // ELOOP: O_NOFOLLOW met a symlink, which we treat as no file at all.
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, fsc.O_RDONLY);
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the data itself is already synced.
  } finally {
    await handle.close();
  }
}
