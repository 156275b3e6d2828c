import type { Logger } from '../../logger.js';
import { StoreError, type FileName, type StoredEntry, type Upload } from '../store.js';
import { SHA256_META, wholeSeconds, type S3Bucket } from './s3-bucket.js';
import { copyObject } from './s3-copy.js';
import { s3StoreError } from './s3-errors.js';

/** What committing a sealed partial needs from its store. */
export interface S3CommitContext {
  bucket: S3Bucket;
  logger: Logger;
  /** Makes sure `name` is claimed by a pending marker: false when a file has it. */
  claim(name: FileName): Promise<boolean>;
  /** Takes back this server's claim of `name` after a failure; never deletes another program's object. */
  dropClaim(name: FileName): Promise<void>;
  /** Throws when this server may no longer write. */
  checkLease(): void;
}

/**
 * The commit of a resumable upload whose multipart upload is complete at its hidden key: the
 * name is claimed with a pending marker (a copy overwrites), the hidden object is copied over
 * it with the sha256 in its metadata, then deleted. A failure leaves nothing under the name and
 * the hidden object where it was, so the partial can be committed again.
 */
export class S3PartialCommit implements Upload {
  readonly #ctx: S3CommitContext;
  readonly #hidden: string;
  readonly #name: FileName;
  readonly #size: number;
  readonly #sha256: string;

  constructor(ctx: S3CommitContext, hidden: string, name: FileName, size: number, sha256: string) {
    this.#ctx = ctx;
    this.#hidden = hidden;
    this.#name = name;
    this.#size = size;
    this.#sha256 = sha256;
  }

  /** Its bytes are all in the bucket already: a write is a caller's mistake. */
  write(): Promise<void> {
    return Promise.reject(new Error('a sealed resumable upload takes no more bytes'));
  }

  async finish(): Promise<StoreError | undefined> {
    return undefined;
  }

  /** Nothing to do: the bytes are durable in the hidden object. */
  async flush(): Promise<void> {}

  async commit(): Promise<StoredEntry> {
    const { bucket, logger } = this.#ctx;
    this.#ctx.checkLease();
    if (!(await this.#ctx.claim(this.#name))) throw new StoreError('exists', this.#name, { reason: 'PreconditionFailed' });
    try {
      await copyObject(bucket, this.#hidden, this.#name, this.#size, '', { [SHA256_META]: this.#sha256 });
    } catch (error) {
      // The copy may have landed and only its answer been lost: look before taking the claim back.
      const now = await bucket.head(this.#name).catch(() => undefined);
      if (!now || now.pending || now.size !== this.#size || now.sha256 !== this.#sha256) {
        await this.#ctx.dropClaim(this.#name);
        throw s3StoreError(error, `store ${this.#name}`);
      }
    }
    await bucket.delete(this.#hidden).catch((error: unknown) => {
      logger.warn('s3-partial-object-kept', { key: bucket.key(this.#hidden), error: (error as Error).message, note: 'the next start deletes it' });
    });
    // Stored: a HEAD that fails now must not turn that into a failure.
    const head = await bucket.head(this.#name).catch(() => undefined);
    if (head) return { name: this.#name, size: head.size, modified: head.modified, version: head.etag };
    return { name: this.#name, size: this.#size, modified: wholeSeconds(new Date()), version: '' };
  }

  /** The sealed bytes stay the partial's, to be committed again. */
  async abort(): Promise<void> {}
}
