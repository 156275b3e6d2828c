import { HeadBucketCommand, type S3Client, type _Object } from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import path from 'node:path';
import { compareByName } from '../../../protocol/file-row.js';
import { silentLogger, type Logger } from '../../logger.js';
import { FolderLock } from '../folder-lock.js';
import { SPACE_MARGIN_BYTES, TEMP_DIR_NAME } from '../fs-store.js';
import { storeErrorOf } from '../fs-upload.js';
import { StoreError, toFileName, type FileName, type SpaceUse, type ListOptions, type Store, type StoredEntry, type StoredFile } from '../store.js';
import { S3Bucket, deadline, etagOf, wholeSeconds, type ObjectHead } from './s3-bucket.js';
import { copyObject } from './s3-copy.js';
import { s3Problem, s3StoreError } from './s3-errors.js';
import { S3StoredFile } from './s3-file.js';
import { S3Lease } from './s3-lease.js';
import { S3PartialBytes } from './s3-partials.js';
import { PARTS_IN_FLIGHT, describeS3, s3Client, type S3Settings } from './s3-settings.js';
import { MAX_PARTS, S3Upload, type S3UploadContext } from './s3-upload.js';

/** Parts are at least this big (bigger when the largest allowed file would need more than 10,000). */
const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
/**
 * A pending marker of another server older than this was left by a run that stopped between
 * claiming a name and completing: it is deleted when a listing meets it, and an upload or rename
 * may take its name. (A marker lives from the claim to the CompleteMultipartUpload that replaces
 * it: seconds.) Multipart uploads of other servers initiated longer ago than this are aborted
 * at start-up and by the sweep that runs every this long.
 */
export const STALE_MARKER_MS = 15 * 60_000;
// HEADs at once when a listing checks its zero-byte objects for pending markers.
const HEAD_BATCH = 32;

/**
 * Parts of a resumable upload that may wait on local disk at once: the ones on their way up,
 * the one being filled, and one waiting for its turn.
 */
const LOCAL_PARTS_PER_PARTIAL = PARTS_IN_FLIGHT + 2;

/** Whether the engine answered the last request, for the operator console. */
export interface StoreState {
  description: string;
  state: string;
}

/**
 * Files as objects under a prefix of an S3 bucket (any S3-compatible engine). A name is a key;
 * uploads spool parts in a local work folder (the served `--dir`, locked as for the folder
 * store, so one server works on it at a time) and are invisible until committed, never over a
 * file. Changes others make in the bucket are found by listing it every `pollIntervalMs`.
 */
export class S3Store implements Store {
  /** The local work folder: spooled parts, resumable uploads. */
  readonly root: string;
  readonly tempDir: string;
  readonly settings: S3Settings;
  readonly #bucket: S3Bucket;
  readonly #client: S3Client;
  readonly #lock: FolderLock;
  readonly #logger: Logger;
  readonly #partBytes: number;
  readonly #reserved = new Set<string>();
  readonly #lease: S3Lease;
  /** Multipart upload ids of this server's uploads in progress: never swept. */
  readonly #liveUploads = new Set<string>();
  #sweep: NodeJS.Timeout | undefined;
  /** Listings running now: a poll waits for them rather than piling another on a slow engine. */
  #listings = 0;

  private constructor(root: string, lock: FolderLock, settings: S3Settings, client: S3Client, bucket: S3Bucket, lease: S3Lease, logger: Logger, maxFileSize: number) {
    this.root = root;
    this.tempDir = path.join(root, TEMP_DIR_NAME);
    this.settings = settings;
    this.#client = client;
    this.#bucket = bucket;
    this.#lease = lease;
    this.#lock = lock;
    this.#logger = logger;
    const perPart = Math.ceil(maxFileSize / MAX_PARTS / (1024 * 1024)) * 1024 * 1024;
    this.#partBytes = Math.max(DEFAULT_PART_BYTES, perPart);
  }

  /**
   * Locks the local work folder `workDir`, then checks that the bucket answers: a missing bucket
   * or refused credentials fail the start with a clear message. Takes the prefix's lease: another
   * server serving the same bucket and prefix fails the start too. Call {@link clearAbandonedUploads} before use.
   */
  static async open(settings: S3Settings, workDir: string, options: { logger?: Logger; maxFileSize: number }): Promise<S3Store> {
    await fs.mkdir(workDir, { recursive: true });
    const root = await fs.realpath(workDir);
    const lock = await FolderLock.acquire(root);
    const logger = options.logger ?? silentLogger;
    const client = s3Client(settings, logger);
    try {
      await client.send(new HeadBucketCommand({ Bucket: settings.bucket }), deadline());
    } catch (error) {
      client.destroy();
      await lock.release();
      const problem = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 ? 'the bucket does not exist: create it first' : s3Problem(error);
      throw new StoreError('unavailable', `${describeS3(settings)}: ${problem}`, { reason: problem, cause: error });
    }
    const bucket = new S3Bucket(client, settings.bucket, settings.prefix);
    let lease: S3Lease;
    try {
      lease = await S3Lease.acquire(bucket, describeS3(settings), logger, lock, settings.leaseRenewMs);
    } catch (error) {
      client.destroy();
      await lock.release();
      throw error instanceof StoreError ? error : s3StoreError(error, `${describeS3(settings)}: take the lease`);
    }
    return new S3Store(root, lock, settings, client, bucket, lease, logger, options.maxFileSize);
  }

  /** The store and whether the engine answered its last request, for the operator console. */
  state(): StoreState {
    const problem = this.#lease.lost ?? this.#bucket.lastProblem;
    return { description: describeS3(this.settings), state: problem === undefined ? 'reachable' : `last error: ${problem}` };
  }

  /**
   * Empties the spool, aborts the multipart uploads and deletes the pending markers earlier runs
   * left (older than STALE_MARKER_MS: a younger one may be a live server's), then sweeps the
   * uploads again every STALE_MARKER_MS.
   */
  async clearAbandonedUploads(): Promise<void> {
    await fs.rm(this.tempDir, { recursive: true, force: true });
    await fs.mkdir(this.tempDir, { mode: 0o700 });
    await this.#track(async () => {
      await this.#abortAbandonedUploads();
      const removals: Promise<void>[] = [];
      await this.#listEntries(undefined, removals);
      await Promise.all(removals);
    }, 'clear abandoned uploads');
    this.#sweep = setInterval(() => {
      this.#abortAbandonedUploads().catch((error: unknown) => this.#logger.warn('s3-sweep-failed', { error: s3StoreError(error, 'sweep abandoned uploads').message }));
    }, STALE_MARKER_MS);
    this.#sweep.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    await this.#lease.release();
    this.#client.destroy();
    await this.#lock.release();
  }

  async list(options: ListOptions = {}): Promise<StoredEntry[]> {
    this.#listings++;
    try {
      return await this.#track(() => this.#listEntries(options.filter), 'list the files');
    } finally {
      this.#listings--;
    }
  }

  async stat(name: FileName): Promise<StoredEntry | undefined> {
    const head = await this.#track(() => this.#bucket.head(name), `look up ${name}`);
    return head && !head.pending ? { name, size: head.size, modified: head.modified, version: head.etag } : undefined;
  }

  async openRead(name: FileName): Promise<StoredFile | undefined> {
    const head = await this.#track(() => this.#bucket.head(name), `open ${name}`);
    return head && !head.pending ? new S3StoredFile(this.#bucket, name, head) : undefined;
  }

  async reserve(name: FileName): Promise<void> {
    if (this.#reserved.has(name)) throw new StoreError('exists', `${name} is being uploaded right now`);
    this.#reserved.add(name);
    try {
      const head = await this.#track(() => this.#bucket.head(name), `look up ${name}`);
      if (head && !head.pending) throw new StoreError('exists', name);
    } catch (error) {
      this.#reserved.delete(name);
      throw error;
    }
  }

  release(name: FileName): void {
    this.#reserved.delete(name);
  }

  /**
   * The bucket's space cannot be asked (a full quota fails the upload as `no-space`), but the
   * local work folder's can: a seed upload waits there only when it fits in one part (a larger
   * one streams its parts to the engine), a resumable upload its parts being filled or on their
   * way up.
   */
  async checkSpace(size: number, use: SpaceUse = 'partial'): Promise<void> {
    const streamed = use === 'upload' && size > this.#partBytes;
    const need = streamed ? 0 : Math.min(size, (use === 'upload' ? 1 : LOCAL_PARTS_PER_PARTIAL) * this.#partBytes);
    const free = await this.freeBytes();
    if (need > free) throw new StoreError('no-space', `${need} bytes of local work space asked, ${free} available`);
  }

  /** Free bytes of the local work folder (the bucket's are unknown): what checkSpace compares against. */
  async freeBytes(): Promise<number> {
    const { bavail, bsize } = await fs.statfs(this.root).catch((error: unknown) => {
      throw storeErrorOf(error);
    });
    return Math.max(0, bavail * bsize - SPACE_MARGIN_BYTES);
  }

  async beginUpload(name: FileName, size?: number): Promise<S3Upload> {
    // Refused before the client sends its bytes, not after.
    this.#checkLease();
    return new S3Upload(this.#uploadContext(), name, size === undefined ? {} : { size });
  }

  /** An upload of `name` made of `file`, a complete local file (a resumable upload's data), which stays its owner's. */
  async adoptUpload(name: FileName, file: string, sha256?: string): Promise<S3Upload> {
    const stat = await fs.stat(file).catch((error: unknown) => {
      throw storeErrorOf(error);
    });
    return new S3Upload(this.#uploadContext(), name, { adopted: { file, size: stat.size, ...(sha256 !== undefined && { sha256 }) } });
  }

  /** Where resumable uploads' bytes wait until commit: parts in `dir` (the local partials folder) on their way into multipart uploads at hidden keys. */
  partialBytes(dir: string): S3PartialBytes {
    return new S3PartialBytes({
      ...this.#uploadContext(),
      dir,
      adoptFile: (name, file, sha256) => this.adoptUpload(name, file, sha256),
    });
  }

  async remove(name: FileName): Promise<void> {
    this.#checkLease();
    await this.#track(async () => {
      const head = await this.#bucket.head(name);
      if (!head || head.pending) throw new StoreError('not-found', name);
      await this.#bucket.delete(name);
    }, `delete ${name}`);
  }

  /** Claims `to` with a pending marker (never over a file), copies, then deletes `from`. */
  async rename(from: FileName, to: FileName): Promise<StoredEntry> {
    if (this.#reserved.has(to)) throw new StoreError('exists', `${to} is being uploaded right now`);
    this.#reserved.add(to);
    try {
      return await this.#track(async () => {
        const source = await this.#bucket.head(from);
        if (!source || source.pending) throw new StoreError('not-found', from);
        if (!(await this.#claim(to))) throw new StoreError('exists', to);
        try {
          await copyObject(this.#bucket, from, to, source.size, source.etag);
        } catch (error) {
          // Our claim, or a copy of `from` that landed with its answer lost, is taken back; anything else is another program's.
          await this.#dropClaim(to, source.etag);
          throw error;
        }
        try {
          await this.#bucket.delete(from);
        } catch (error) {
          if (await this.#undoCopy(from, to, source.etag)) throw error;
        }
        const head = await this.#bucket.head(to).catch(() => undefined);
        return { name: to, size: head?.size ?? source.size, modified: head?.modified ?? source.modified, version: head?.etag ?? source.etag };
      }, `rename ${from}`);
    } finally {
      this.#reserved.delete(to);
    }
  }

  /**
   * After deleting `from` failed: true when the rename did not happen, false when the delete
   * landed anyway (a deadline cut only its answer) and the rename is done. Otherwise the copy `to` is deleted while `from` is still the
   * same file; when that is unknown or it changed, both names are kept rather than risk losing it.
   */
  async #undoCopy(from: string, to: string, etag: string): Promise<boolean> {
    const now = await this.#bucket.head(from).then(
      (head) => head ?? 'gone',
      () => 'unknown' as const,
    );
    if (now === 'gone') return false;
    if (now === 'unknown' || now.etag !== etag) {
      this.#logger.error('rename-undo-skipped', { from, to, note: 'the file is now under both names: delete one' });
      return true;
    }
    await this.#bucket.delete(to).catch((undo: unknown) => {
      this.#logger.error('rename-undo-failed', { from, to, error: (undo as Error).message, note: 'the file is now under both names: delete one' });
    });
    return true;
  }

  /**
   * Others' changes in the bucket show at the next listing: a hint every poll interval, skipped
   * while a listing still runs (a large bucket or a slow engine), so listings never pile up.
   */
  watch(onHint: (name?: string) => void): () => void {
    const timer = setInterval(() => {
      if (this.#listings === 0) onHint();
    }, this.settings.pollIntervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  #uploadContext(): S3UploadContext {
    return {
      bucket: this.#bucket,
      spoolDir: this.tempDir,
      partBytes: this.#partBytes,
      logger: this.#logger,
      liveUploads: this.#liveUploads,
      claim: (name) => this.#track(() => this.#claim(name), `claim ${name}`),
      dropClaim: (name) => this.#dropClaim(name),
      checkLease: () => this.#checkLease(),
    };
  }

  /**
   * Deletes `name` when it is still this server's pending marker (a claim whose upload, commit or
   * rename failed), or an object with the ETag `ours` when given (a copy that landed unseen);
   * never an object another program put there meanwhile. Never throws: a marker left behind is
   * cleared as abandoned later.
   */
  async #dropClaim(name: string, ours?: string): Promise<void> {
    const head = await this.#bucket.head(name).catch(() => undefined);
    const mine = head !== undefined && ((head.pending && head.owner === this.#lease.owner) || (ours !== undefined && ours !== '' && head.etag === ours));
    if (mine) await this.#bucket.delete(name).catch(() => {});
    else if (head) this.#logger.warn('s3-claim-taken', { name, note: 'another program put an object at the name while it was claimed; it is left as it is' });
  }

  /** Refuses every write once another server took this bucket and prefix over. */
  #checkLease(): void {
    const lost = this.#lease.lost;
    if (lost !== undefined) throw new StoreError('unavailable', lost, { reason: lost });
  }

  /**
   * Claims `name` (reserved by the caller) with a pending marker: false when a file or a live
   * claim has it. Only an abandoned marker ({@link #abandoned}) is replaced.
   */
  async #claim(name: string): Promise<boolean> {
    this.#checkLease();
    const owner = this.#lease.owner;
    if (await this.#bucket.claim(name, owner)) return true;
    const head = await this.#bucket.head(name);
    if (!head?.pending || !this.#abandoned(head)) return false;
    this.#logger.info('s3-stale-marker-removed', { name, owner: head.owner ?? 'unknown' });
    await this.#bucket.delete(name);
    return this.#bucket.claim(name, owner);
  }

  /**
   * Whether a pending marker is left over rather than a claim in progress: this server's own
   * (the caller checks that no upload or rename of ours holds the name), or another's older
   * than STALE_MARKER_MS (this server holds the lease, so that one's is not fresh).
   */
  #abandoned(head: ObjectHead): boolean {
    return head.owner === this.#lease.owner || head.ageMs >= STALE_MARKER_MS;
  }

  /** Aborts the multipart uploads under the prefix that are not ours and older than STALE_MARKER_MS. */
  async #abortAbandonedUploads(): Promise<void> {
    const bucket = this.#bucket;
    for (const upload of await bucket.multipartUploads(bucket.prefix)) {
      // Keys in deeper "folders" belong to servers on longer prefixes (and to the partials, under `.tor-partials/`).
      if (bucket.nameOf(upload.key) === undefined || this.#liveUploads.has(upload.uploadId)) continue;
      if (Date.now() - upload.initiated < STALE_MARKER_MS) continue;
      await bucket.abortMultipart(upload.key, upload.uploadId);
      this.#logger.info('s3-upload-aborted', { key: upload.key, note: 'left unfinished by an earlier run' });
    }
  }

  /**
   * Every visible object, sorted: pending markers are left out, and abandoned ones deleted on
   * the side (the deletes go into `removals` when given; the listing never waits for them).
   */
  async #listEntries(filter: ((name: string) => boolean) | undefined, removals: Promise<void>[] = []): Promise<StoredEntry[]> {
    const entries: StoredEntry[] = [];
    const empties: StoredEntry[] = [];
    for await (const page of this.#bucket.pages()) {
      for (const object of page) {
        const entry = this.#entryOf(object, filter);
        if (!entry) continue;
        if (entry.size === 0) empties.push(entry);
        else entries.push(entry);
      }
    }
    // Only a zero-byte object can be a pending marker, and only a HEAD shows its metadata.
    for (let i = 0; i < empties.length; i += HEAD_BATCH) {
      const batch = empties.slice(i, i + HEAD_BATCH);
      const heads = await Promise.all(batch.map((entry) => this.#bucket.head(entry.name)));
      for (const [j, head] of heads.entries()) {
        const entry = batch[j]!;
        if (!head) continue;
        if (!head.pending) entries.push(entry);
        else if (!this.#reserved.has(entry.name) && this.#abandoned(head)) removals.push(this.#removeStaleMarker(entry.name, head));
      }
    }
    return entries.sort(compareByName);
  }

  /**
   * Deletes an abandoned marker, holding its name meanwhile so no upload or rename of ours claims
   * it between the HEAD and the DELETE. A failure (no delete permission, say) only leaves it.
   */
  async #removeStaleMarker(name: string, head: ObjectHead): Promise<void> {
    this.#reserved.add(name);
    try {
      await this.#bucket.delete(name);
      this.#logger.info('s3-stale-marker-removed', { name, owner: head.owner ?? 'unknown' });
    } catch (error) {
      this.#logger.warn('s3-stale-marker-kept', { name, error: (error as Error).message });
    } finally {
      this.#reserved.delete(name);
    }
  }

  #entryOf(object: _Object, filter: ((name: string) => boolean) | undefined): StoredEntry | undefined {
    const name = object.Key === undefined ? undefined : this.#bucket.nameOf(object.Key);
    if (name === undefined) return undefined;
    const checked = toFileName(name);
    // Keys the TFTCP name rules refuse (hidden ones included) are not served, as on the folder store.
    if (checked.problem !== undefined || (filter !== undefined && !filter(name))) return undefined;
    return { name, size: object.Size ?? 0, modified: wholeSeconds(object.LastModified), version: etagOf(object.ETag) };
  }

  /** Runs a request to the engine, noting whether it answered (for the console); errors become StoreErrors. */
  async #track<T>(run: () => Promise<T>, doing: string): Promise<T> {
    try {
      const result = await run();
      this.#bucket.note();
      return result;
    } catch (error) {
      const storeError = s3StoreError(error, doing);
      this.#bucket.note(storeError.kind === 'unavailable' ? storeError : undefined);
      throw storeError;
    }
  }
}
