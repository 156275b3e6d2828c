import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { randomBytes, createHash, type Hash } from 'node:crypto';
import { constants as fsc, createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import { BatchedFileWriter } from '../batched-writer.js';
import { storeErrorOf } from '../fs-upload.js';
import { StoreError, type FileName, type StoredEntry, type Upload } from '../store.js';
import { SHA256_META, deadline, wholeSeconds, type S3Bucket } from './s3-bucket.js';
import { isPreconditionFailed, s3StoreError } from './s3-errors.js';
import { PARTS_IN_FLIGHT } from './s3-settings.js';

/** S3's smallest part (every part of a multipart upload but the last must be at least this). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;

/** What an upload needs from its store. */
export interface S3UploadContext {
  bucket: S3Bucket;
  /** Local folder where parts wait until they are whole (never more than two per upload). */
  spoolDir: string;
  partBytes: number;
  logger: Logger;
  /**
   * Makes sure `name` is claimed by a pending marker: false when a file has it. Called right
   * before a multipart upload completes (which would overwrite), never for a single PutObject.
   */
  claim(name: FileName): Promise<boolean>;
  /** Throws when this server may no longer write (another took the bucket and prefix over). */
  checkLease(): void;
  /** Multipart upload ids in progress, which the store's sweep leaves alone. */
  liveUploads: Set<string>;
}

/** One part file on local disk: its bytes go up as one UploadPart. */
interface SpoolPart {
  path: string;
  start: number;
  bytes: number;
  /** Ours to delete once sent (an adopted file is its owner's). */
  owned: boolean;
}

/**
 * An upload to the bucket, invisible until {@link commit}. Bytes are spooled to local part files;
 * each whole part (at least 5 MiB) goes up while the next one fills, two at a time, so an upload
 * holds at most three parts of local disk. An upload smaller than one part is stored at commit with
 * one conditional PutObject (If-None-Match: *); a larger one is a multipart upload, its name
 * claimed by a pending marker right before it completes, since completing overwrites.
 */
export class S3Upload implements Upload {
  readonly #ctx: S3UploadContext;
  readonly #name: FileName;
  /** sha256 of the bytes while the upload is small enough to be stored with it (a single PutObject). */
  #hash: Hash | undefined = createHash('sha256');
  /** The sha256 the bytes must have, when the caller knew it beforehand (a resumable upload's). */
  readonly #knownSha256: string | undefined;
  #size = 0;
  #part: { part: SpoolPart; handle: fs.FileHandle; writer: BatchedFileWriter } | undefined;
  /** The whole bytes, when adopted from a complete file rather than written. */
  readonly #adopted: SpoolPart | undefined;
  /** Parts waiting (the last, or an adopted file's), in order. */
  #toSend: SpoolPart[] = [];
  #uploadId: string | undefined;
  readonly #sent: CompletedPart[] = [];
  /** The parts going up now (at most PARTS_IN_FLIGHT): the next waits for one to land. */
  readonly #sending = new Set<Promise<void>>();
  #chain: Promise<void> = Promise.resolve();
  #error: StoreError | undefined;
  #flushed = false;
  #done = false;

  constructor(ctx: S3UploadContext, name: FileName, adopted?: { file: string; size: number; sha256?: string }) {
    this.#ctx = ctx;
    this.#name = name;
    this.#knownSha256 = adopted?.sha256;
    if (adopted) {
      this.#hash = undefined;
      this.#size = adopted.size;
      this.#adopted = { path: adopted.file, start: 0, bytes: adopted.size, owned: false };
    }
  }

  write(chunk: Buffer): Promise<void> {
    this.#chain = this.#chain.then(() => this.#write(chunk));
    return this.#chain;
  }

  async finish(): Promise<StoreError | undefined> {
    await this.#chain;
    return this.#error;
  }

  /** Sends every part still here; the upload stays invisible. */
  async flush(): Promise<void> {
    if (this.#flushed) return;
    await this.#chain;
    if (this.#error) throw this.#error;
    await this.#closePart();
    if (this.#adopted) this.#toSend = this.#adopted.bytes >= this.#ctx.partBytes ? splitParts(this.#adopted, this.#ctx.partBytes) : [this.#adopted];
    // Small enough for one PutObject at commit: nothing goes up before the name is taken.
    if (this.#uploadId === undefined && this.#toSend.length <= 1) {
      this.#flushed = true;
      return;
    }
    for (const part of this.#toSend.splice(0)) await this.#queuePart(part);
    await this.#allSent();
    if (this.#error) throw this.#error;
    this.#flushed = true;
  }

  async commit(): Promise<StoredEntry> {
    await this.flush();
    const { bucket } = this.#ctx;
    try {
      if (this.#uploadId === undefined) await this.#putWhole();
      else await this.#complete();
      this.#done = true;
      this.#ctx.liveUploads.delete(this.#uploadId ?? '');
    } catch (error) {
      bucket.note(error);
      await this.abort();
      throw error;
    }
    await this.#dropSpool();
    // The file is stored: a HEAD that fails now (or a file deleted at once) must not turn that
    // into a failure. Its row is then what we know; the next listing corrects the time.
    const head = await bucket.head(this.#name).catch((error: unknown) => {
      this.#ctx.logger.warn('s3-head-after-store-failed', { name: this.#name, error: (error as Error).message });
      return undefined;
    });
    if (head) return { name: this.#name, size: head.size, modified: head.modified, version: head.etag };
    return { name: this.#name, size: this.#size, modified: wholeSeconds(new Date()), version: '' };
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#chain;
    await this.#allSent();
    await this.#closePart();
    await this.#dropSpool();
    if (this.#uploadId !== undefined) {
      const { bucket } = this.#ctx;
      await bucket.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.bucket, Key: bucket.key(this.#name), UploadId: this.#uploadId }), deadline()).catch((error: unknown) => {
        // Left for the start-up clean-up of the next run (or the bucket's lifecycle rule).
        this.#ctx.logger.warn('s3-abort-failed', { name: this.#name, error: s3StoreError(error, 'abort').message });
      });
      // Its abort failed or not, the sweep may take it from here.
      this.#ctx.liveUploads.delete(this.#uploadId);
    }
  }

  async #write(chunk: Buffer): Promise<void> {
    if (this.#error || this.#done) return;
    try {
      this.#hash?.update(chunk);
      for (let at = 0; at < chunk.length; ) {
        const open = this.#part ?? (this.#part = await this.#openPart());
        const take = Math.min(chunk.length - at, this.#ctx.partBytes - open.part.bytes);
        await open.writer.write(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
        open.part.bytes += take;
        this.#size += take;
        at += take;
        if (open.part.bytes === this.#ctx.partBytes) {
          await this.#closePart();
          // Past one part it is a multipart upload: its sha256 cannot go into the object any more.
          this.#hash = undefined;
          for (const part of this.#toSend.splice(0)) await this.#queuePart(part);
        }
      }
    } catch (error) {
      this.#error ??= error instanceof StoreError ? error : storeErrorOf(error);
    }
  }

  async #openPart(): Promise<{ part: SpoolPart; handle: fs.FileHandle; writer: BatchedFileWriter }> {
    const file = path.join(this.#ctx.spoolDir, `${randomBytes(12).toString('hex')}.part`);
    const handle = await fs.open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    return { part: { path: file, start: 0, bytes: 0, owned: true }, handle, writer: new BatchedFileWriter(handle) };
  }

  /** Writes out and closes the part being filled, which then waits in #toSend. */
  async #closePart(): Promise<void> {
    const open = this.#part;
    if (!open) return;
    this.#part = undefined;
    const error = await open.writer.finish();
    await open.handle.close().catch(() => {});
    this.#toSend.push(open.part);
    if (error) throw storeErrorOf(error);
  }

  /** Every part sent so far has landed (or failed). */
  async #allSent(): Promise<void> {
    while (this.#sending.size > 0) await Promise.all(this.#sending);
  }

  /** Waits for room among the parts going up, then sends this one: an upload holds at most PARTS_IN_FLIGHT + 1 parts of local disk. */
  async #queuePart(part: SpoolPart): Promise<void> {
    while (this.#sending.size >= PARTS_IN_FLIGHT) await Promise.race(this.#sending);
    if (this.#error) return;
    const { bucket } = this.#ctx;
    if (this.#uploadId === undefined) {
      const created = await bucket.client
        .send(new CreateMultipartUploadCommand({ Bucket: bucket.bucket, Key: bucket.key(this.#name), ...(this.#knownSha256 && { Metadata: { [SHA256_META]: this.#knownSha256 } }) }), deadline())
        .catch((error: unknown) => {
          throw s3StoreError(error, `start the upload of ${this.#name}`);
        });
      this.#uploadId = created.UploadId;
      if (this.#uploadId !== undefined) this.#ctx.liveUploads.add(this.#uploadId);
    }
    const number = this.#sent.length + 1;
    const slot: CompletedPart = { PartNumber: number };
    this.#sent.push(slot);
    const sending: Promise<void> = bucket.client
      .send(
        new UploadPartCommand({
          Bucket: bucket.bucket,
          Key: bucket.key(this.#name),
          UploadId: this.#uploadId,
          PartNumber: number,
          ContentLength: part.bytes,
          Body: readPart(part),
        }),
      )
      .then(
        (sent) => {
          slot.ETag = sent.ETag;
          bucket.note();
        },
        (error: unknown) => {
          this.#error ??= s3StoreError(error, `send part ${number} of ${this.#name}`);
          bucket.note(this.#error);
        },
      )
      .finally(async () => {
        if (part.owned) await fs.rm(part.path, { force: true }).catch(() => {});
        this.#sending.delete(sending);
      });
    this.#sending.add(sending);
  }

  /** The whole (small) upload in one PutObject that never overwrites. */
  async #putWhole(): Promise<void> {
    const { bucket } = this.#ctx;
    this.#ctx.checkLease();
    const part = this.#toSend[0];
    const sha256 = this.#knownSha256 ?? this.#hash?.digest('hex');
    const put = () =>
      bucket.client.send(
        new PutObjectCommand({
          Bucket: bucket.bucket,
          Key: bucket.key(this.#name),
          IfNoneMatch: '*',
          ContentLength: this.#size,
          Body: part && part.bytes > 0 ? readPart(part) : Buffer.alloc(0),
          ...(sha256 && { Metadata: { [SHA256_META]: sha256 } }),
        }),
      );
    try {
      await put();
    } catch (error) {
      if (!isPreconditionFailed(error)) throw s3StoreError(error, `store ${this.#name}`);
      // A pending marker an earlier run left behind is no file: claim() clears it, then try once more.
      if (!(await this.#ctx.claim(this.#name))) throw new StoreError('exists', this.#name, { reason: 'PreconditionFailed' });
      await bucket.delete(this.#name);
      await put().catch((again: unknown) => {
        if (isPreconditionFailed(again)) throw new StoreError('exists', this.#name, { reason: 'PreconditionFailed' });
        throw s3StoreError(again, `store ${this.#name}`);
      });
    }
  }

  /** Claims the name with a pending marker, then completes the multipart upload over it. */
  async #complete(): Promise<void> {
    const { bucket } = this.#ctx;
    if (!(await this.#ctx.claim(this.#name))) throw new StoreError('exists', this.#name, { reason: 'PreconditionFailed' });
    try {
      await bucket.client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket.bucket, Key: bucket.key(this.#name), UploadId: this.#uploadId, MultipartUpload: { Parts: this.#sent } }),
      );
    } catch (error) {
      // The engine may have completed it and only the answer was lost: look before removing the claim.
      const now = await bucket.head(this.#name).catch(() => undefined);
      if (now && !now.pending && now.size === this.#size) return;
      if (now) await bucket.delete(this.#name).catch(() => {});
      throw s3StoreError(error, `complete the upload of ${this.#name}`);
    }
  }

  async #dropSpool(): Promise<void> {
    for (const part of this.#toSend.splice(0)) if (part.owned) await fs.rm(part.path, { force: true }).catch(() => {});
  }
}

// Bytes read from a part file at a time on its way up: fewer, larger reads than the 64 KiB default.
const PART_READ_BYTES = 1024 * 1024;

function readPart(part: SpoolPart) {
  return createReadStream(part.path, { start: part.start, end: part.start + part.bytes - 1, highWaterMark: PART_READ_BYTES });
}

/** A complete local file as parts of `partBytes` (the last one longer rather than under 5 MiB). */
function splitParts(whole: SpoolPart, partBytes: number): SpoolPart[] {
  const parts: SpoolPart[] = [];
  for (let start = whole.start; start < whole.start + whole.bytes; start += partBytes) {
    const bytes = Math.min(partBytes, whole.start + whole.bytes - start);
    if (bytes < MIN_PART_BYTES && parts.length > 0) parts[parts.length - 1]!.bytes += bytes;
    else parts.push({ path: whole.path, start, bytes, owned: false });
  }
  return parts;
}
