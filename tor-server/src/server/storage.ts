import { randomBytes } from 'node:crypto';
import { constants as fsc, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { compareByName, type FileEntry } from '../protocol/file-row.js';
import { fileNameProblem } from '../protocol/names.js';
import { ErrorKind, errorReply } from '../protocol/constants.js';
import { ReplyError } from './errors.js';

/** Hidden folder inside the served folder where uploads are written until they are complete. */
export const TEMP_DIR_NAME = '.tor-tmp';

// Stat this many files at once when listing a large folder.
const STAT_BATCH = 256;

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
 */
export class Storage {
  readonly root: string;
  readonly tempDir: string;
  /** Names with an upload in flight: a second upload of the same name is refused at once. */
  readonly #reserved = new Set<string>();
  /** Bytes promised to uploads in flight, so two big uploads cannot both count the same free space. */
  #promisedBytes = 0;

  private constructor(root: string) {
    this.root = root;
    this.tempDir = path.join(root, TEMP_DIR_NAME);
  }

  /** Creates the folder if needed and empties the temp folder left by an earlier run. */
  static async open(dir: string): Promise<Storage> {
    await fs.mkdir(dir, { recursive: true });
    const storage = new Storage(await fs.realpath(dir));
    await fs.rm(storage.tempDir, { recursive: true, force: true });
    await fs.mkdir(storage.tempDir, { mode: 0o700 });
    return storage;
  }

  /** Every visible regular file, sorted by name. */
  async list(): Promise<FileEntry[]> {
    const dirents = await fs.readdir(this.root, { withFileTypes: true });
    const names = dirents.filter((d) => d.isFile() && fileNameProblem(d.name) === undefined).map((d) => d.name);
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
    const stat = await handle.stat();
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

  /** Claims `size` bytes of free disk for an upload; throws a ReplyError when they are not there. */
  async claimSpace(size: number): Promise<() => void> {
    const { bavail, bsize } = await fs.statfs(this.root);
    // Keep a small margin so the server still has room for its own metadata.
    const free = bavail * bsize - this.#promisedBytes - 1024 * 1024;
    if (size > free) {
      throw new ReplyError(errorReply(ErrorKind.NO_SPACE, `${size} bytes asked, ${Math.max(0, free)} available`));
    }
    this.#promisedBytes += size;
    let released = false;
    return () => {
      if (!released) this.#promisedBytes -= size;
      released = true;
    };
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
