import type { Readable } from 'node:stream';
import type { FileEntry } from '../../protocol/file-row.js';
import { fileNameProblem } from '../../protocol/names.js';

declare const checkedName: unique symbol;

/**
 * A name that passed the TFTCP name rules. A store takes no other kind of name, so a name is
 * checked once, where a command receives it, and nothing between there and the store checks again.
 */
export type FileName = string & { readonly [checkedName]: true };

/** `name` as a FileName when it follows the TFTCP name rules (fileNameProblem), else the reason it does not. */
export function toFileName(name: string): { name: FileName; problem?: undefined } | { problem: string } {
  const problem = fileNameProblem(name);
  return problem === undefined ? { name: name as FileName } : { problem };
}

/** What went wrong in a store, in terms a command can answer without knowing the backend. */
export type StoreErrorKind = 'not-found' | 'exists' | 'no-space' | 'invalid-name' | 'unavailable';

/**
 * A store's failure. For `exists`, `no-space` and `invalid-name` raised by the store itself the
 * message is a detail a client may be told; otherwise it is for the log only (it may hold paths).
 */
export class StoreError extends Error {
  readonly code = 'TOR_ERR_STORE';
  readonly kind: StoreErrorKind;
  /** The backend's own short code (an errno name such as `EMFILE`, an HTTP status), when it gave one. */
  readonly reason: string | undefined;
  constructor(kind: StoreErrorKind, message: string, options: { reason?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.reason = options.reason;
  }
}

/**
 * A file's listing row with its version: a token that changes whenever the file's bytes may
 * have (folder: inode, size and mtime; an object store: the ETag), so what is known about the
 * bytes (their hash) can be kept under it.
 */
export interface StoredEntry extends FileEntry {
  readonly version: string;
}

/** How to narrow a listing. */
export interface ListOptions {
  /**
   * Keeps only the names it returns true for. It sees each name before any per-file metadata is
   * fetched, so a narrow search costs one metadata call per match, not one per file.
   */
  filter?: (name: string) => boolean;
}

/** A file opened for reading: its size is fixed at opening, and the same file is read whatever happens to its name. */
export interface StoredFile {
  readonly size: number;
  /** The version of the bytes this handle reads (see StoredEntry). */
  readonly version: string;
  /** The sha256 of the bytes when the store keeps it with them (an object's metadata), so hashing needs no read. */
  readonly sha256?: string | undefined;
  /**
   * The sha256 the store kept beside the bytes rather than with them (an object's tags), looked
   * up only when asked: undefined when it has none for this version. Never throws.
   */
  keptSha256?(): Promise<string | undefined>;
  /**
   * Streams bytes [offset, offset + count), which must lie within the file. The stream becomes
   * the one owner of whatever the file held open and releases it when it ends or is destroyed.
   * Call it at most once.
   */
  read(offset: number, count: number): Readable;
  /** Releases the file when no stream was made of it; does nothing after {@link read}. Never throws. */
  close(): Promise<void>;
}

/** An upload being written: no listing shows it, and no name has it, until {@link commit}. */
export interface Upload {
  /**
   * Queues a chunk; resolves when the upload can take more (that is the backpressure). A failure
   * (the disk is full) is kept for {@link finish} rather than thrown, so the caller can go on
   * draining its source and stay in step with it; later chunks are dropped.
   */
  write(chunk: Buffer): Promise<void>;
  /** Waits for every queued chunk to be written; resolves with the first failure, if any. */
  finish(): Promise<StoreError | undefined>;
  /**
   * Makes the written bytes durable without making them visible: the slow part of a commit,
   * for a caller to run outside its locks. Optional before {@link commit}, which flushes when
   * this was not done; the upload is to be aborted when it fails.
   */
  flush(): Promise<void>;
  /**
   * Makes the upload durable and visible under its name, never over an existing file (StoreError
   * `exists`); resolves with the stored file's row and version. `sha256`, the digest of the bytes
   * when the caller computed it, is kept with the file where the store can.
   */
  commit(sha256?: string): Promise<StoredEntry>;
  /** Throws the upload away, after the writes in flight. Harmless after commit. Never throws. */
  abort(): Promise<void>;
}

/**
 * Where the files live, as the commands see it: nothing about folders, handles or sockets, so a
 * second backend (an object store: listing by prefix, ranged GETs, multipart uploads committed
 * with a conditional put) fits without changing a command. A store holds an exclusive lock on
 * its place from opening until {@link close}: one server serves it at a time.
 */
/** Where bytes an upload announces will wait (see {@link Store.checkSpace}). */
export type SpaceUse = 'upload' | 'partial';

export interface Store {
  /** Every visible file, sorted by name; names the TFTCP rules refuse are left out. */
  list(options?: ListOptions): Promise<StoredEntry[]>;
  /** One file's listing row and version, or undefined when no visible file has the name. */
  stat(name: FileName): Promise<StoredEntry | undefined>;
  /** Opens a file for reading, or undefined when no visible file has the name. */
  openRead(name: FileName): Promise<StoredFile | undefined>;
  /**
   * Claims a name for one upload until {@link release}: throws StoreError `exists` when a file
   * or another upload in flight already has it.
   */
  reserve(name: FileName): Promise<void>;
  /** Gives a reserved name back. */
  release(name: FileName): void;
  /**
   * Throws StoreError `no-space` when `size` more bytes do not fit now. Nothing is set aside:
   * bytes count once written, so an upload that announces much and sends little locks no one out.
   * `use` says where the bytes wait: `partial` (a resumable upload's, which the folder keeps whole
   * until commit and an object store sends on part by part) or `upload` (the seed's, which a store
   * may stream on in parts).
   */
  checkSpace(size: number, use?: SpaceUse): Promise<void>;
  /** Bytes an upload may use now: what checkSpace compares against (for the metrics). */
  freeBytes(): Promise<number>;
  /**
   * Starts an upload of a reserved name, written where no listing shows it. `size`, when the
   * caller knows how many bytes it will write, lets a store send them on as they come rather
   * than holding them until commit.
   */
  beginUpload(name: FileName, size?: number): Promise<Upload>;
  /**
   * Deletes a file (StoreError `not-found` when no visible file has the name). A file open for
   * reading stays readable through its StoredFile until that is done.
   */
  remove(name: FileName): Promise<void>;
  /**
   * Gives a file a new name, never over another file or an upload in flight (StoreError
   * `exists`); StoreError `not-found` when no visible file has `from`. Resolves with the row
   * under the new name.
   */
  rename(from: FileName, to: FileName): Promise<StoredEntry>;
  /**
   * Calls `onHint` whenever something may have changed in the store other than through it (an
   * operator copying files in by hand), with the name when the backend knows it, and now and
   * then without one as a safety net. A hint is a reason to look, not a change: the caller
   * lists or stats to find out. Returns a function that stops the hints.
   */
  watch(onHint: (name?: string) => void): () => void;
  /** Throws away uploads an earlier run left unfinished (ours to do: we hold the lock). */
  clearAbandonedUploads(): Promise<void>;
  /** Gives the lock back. Never throws. */
  close(): Promise<void>;
}
