import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Logger } from '../../logger.js';
import { BatchedFileWriter } from '../batched-writer.js';
import { storeErrorOf } from '../fs-upload.js';
import { StoreError, type FileName, type StoredEntry, type Upload } from '../store.js';
import { SHA256_META, etagOf, wholeSeconds, type S3Bucket } from './s3-bucket.js';
import { isPreconditionFailed, s3StoreError } from './s3-errors.js';
import { MultipartSender, readPartFile } from './s3-multipart.js';

/** S3's smallest part (every part of a multipart upload but the last must be at least this). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;

/** What an upload needs from its store. */
export interface S3UploadContext {
  bucket: S3Bucket;
  /** Local folder where an upload of unknown size, or of one part at most, waits until it goes up. */
  spoolDir: string;
  partBytes: number;
  logger: Logger;
  /**
   * Makes sure `name` is claimed by a pending marker: false when a file has it. Called right
   * before a multipart upload completes (which would overwrite), never for a single PutObject.
   */
  claim(name: FileName): Promise<boolean>;
  /** Takes back this server's claim of `name` after a failure; never deletes another program's object. */
  dropClaim(name: FileName): Promise<void>;
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

/** The part being streamed to the engine as its bytes arrive. */
interface StreamedPart {
  body: PassThrough;
  /** Bytes of the part still to come. */
  left: number;
}

/**
 * An upload to the bucket, invisible until {@link commit}. An upload whose size is known and
 * larger than one part streams each part to the engine as its bytes arrive (a multipart
 * upload, its parts' requests fed with backpressure: nothing touches local disk). Otherwise its
 * bytes are spooled to local part files, each whole part (at least 5 MiB) going up while the
 * next fills. An upload no larger than one part is stored at commit with one conditional
 * PutObject (If-None-Match: *); a multipart one has its name claimed by a pending marker right
 * before it completes, since completing overwrites.
 */
export class S3Upload implements Upload {
  readonly #ctx: S3UploadContext;
  readonly #name: FileName;
  /** The sha256 the bytes must have, when the caller knew it beforehand (a resumable upload's). */
  readonly #knownSha256: string | undefined;
  /** The size announced at the start, when the bytes stream to the engine as they come. */
  readonly #streamSize: number | undefined;
  #size = 0;
  #part: { part: SpoolPart; handle: fs.FileHandle; writer: BatchedFileWriter } | undefined;
  #streamed: StreamedPart | undefined;
  /** The whole bytes, when adopted from a complete file rather than written. */
  readonly #adopted: SpoolPart | undefined;
  /** Parts waiting (the last, or an adopted file's), in order. */
  #toSend: SpoolPart[] = [];
  readonly #parts: MultipartSender;
  #chain: Promise<void> = Promise.resolve();
  #error: StoreError | undefined;
  #flushed = false;
  #done = false;
  /** The ETag the engine gave a single PutObject of the upload. */
  #putEtag: string | undefined;

  constructor(ctx: S3UploadContext, name: FileName, source: { size?: number; adopted?: { file: string; size: number; sha256?: string } } = {}) {
    this.#ctx = ctx;
    this.#name = name;
    const { adopted } = source;
    this.#knownSha256 = adopted?.sha256;
    if (adopted) {
      this.#size = adopted.size;
      this.#adopted = { path: adopted.file, start: 0, bytes: adopted.size, owned: false };
    } else if (source.size !== undefined && source.size > ctx.partBytes) {
      this.#streamSize = source.size;
    }
    this.#parts = new MultipartSender(ctx.bucket, name, {
      ...(this.#knownSha256 && { metadata: { [SHA256_META]: this.#knownSha256 } }),
      live: ctx.liveUploads,
      logger: ctx.logger,
    });
  }

  write(chunk: Buffer): Promise<void> {
    this.#chain = this.#chain.then(() => (this.#streamSize === undefined ? this.#spool(chunk) : this.#stream(chunk)));
    return this.#chain;
  }

  async finish(): Promise<StoreError | undefined> {
    await this.#chain;
    return this.#error ?? this.#parts.error;
  }

  /** Sends every part still here; the upload stays invisible. */
  async flush(): Promise<void> {
    if (this.#flushed) return;
    await this.#chain;
    if (this.#error) throw this.#error;
    if (this.#streamSize !== undefined && this.#size !== this.#streamSize) {
      throw new StoreError('unavailable', `${this.#name}: ${this.#size} of the ${this.#streamSize} bytes announced were written`);
    }
    await this.#closePart();
    if (this.#adopted) this.#toSend = this.#adopted.bytes >= this.#ctx.partBytes ? splitParts(this.#adopted, this.#ctx.partBytes) : [this.#adopted];
    // Small enough for one PutObject at commit: nothing goes up before the name is taken.
    if (!this.#parts.started && this.#streamSize === undefined && this.#toSend.length <= 1) {
      this.#flushed = true;
      return;
    }
    for (const part of this.#toSend.splice(0)) await this.#sendSpooled(part);
    await this.#parts.allSent();
    if (this.#parts.error) throw this.#parts.error;
    this.#flushed = true;
  }

  async commit(sha256?: string): Promise<StoredEntry> {
    await this.flush();
    const { bucket } = this.#ctx;
    const multipart = this.#parts.started;
    try {
      if (multipart) await this.#complete();
      else await this.#putWhole(this.#knownSha256 ?? sha256);
      this.#done = true;
    } catch (error) {
      bucket.note(error);
      await this.abort();
      throw error;
    }
    await this.#dropSpool();
    // The version stored, as far as the engine's answers tell: another program may put an object
    // under the name right after, and what is known of these bytes must not be said of that one.
    const ours = multipart ? this.#parts.expectedEtag : this.#putEtag;
    // The file is stored: a HEAD that fails now (or a file deleted at once) must not turn that
    // into a failure. Its row is then what we know; the next listing corrects the time.
    const head = await bucket.head(this.#name).catch((error: unknown) => {
      this.#ctx.logger.warn('s3-head-after-store-failed', { name: this.#name, error: (error as Error).message });
      return undefined;
    });
    if (head && ours !== undefined && head.etag !== ours) {
      this.#ctx.logger.info('s3-replaced-after-store', { name: this.#name, note: 'another program put an object under the name right after this upload was stored' });
      return { name: this.#name, size: this.#size, modified: wholeSeconds(new Date()), version: ours };
    }
    // A multipart upload's metadata was fixed before its bytes were known: the sha256 goes into its tags.
    if (multipart && !this.#knownSha256 && sha256 && head?.etag) {
      await bucket.tagSha256(this.#name, head.etag, sha256).catch((error: unknown) => {
        this.#ctx.logger.warn('s3-tag-failed', { name: this.#name, error: (error as Error).message, note: 'its hash will be computed when asked' });
      });
    }
    if (head) return { name: this.#name, size: head.size, modified: head.modified, version: head.etag };
    return { name: this.#name, size: this.#size, modified: wholeSeconds(new Date()), version: ours ?? '' };
  }

  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    // A part streaming now waits for bytes that will not come: stop it before waiting for the writes.
    this.#streamed?.body.destroy();
    await this.#chain;
    await this.#closePart().catch(() => {});
    await this.#parts.abort(new StoreError('unavailable', `the upload of ${this.#name} was abandoned`));
    await this.#dropSpool();
  }

  /** Streams the chunk into the part requests under way, starting the next part where one ends. */
  async #stream(chunk: Buffer): Promise<void> {
    if (this.#error || this.#done) return;
    try {
      for (let at = 0; at < chunk.length && !this.#parts.error; ) {
        const part = this.#streamed ?? (this.#streamed = await this.#startStreamedPart());
        if (!part) return;
        const take = Math.min(chunk.length - at, part.left);
        const piece = at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take);
        part.left -= take;
        this.#size += take;
        at += take;
        const more = part.body.write(piece);
        if (part.left === 0) {
          part.body.end();
          this.#streamed = undefined;
        } else if (!more) {
          await drained(part.body);
        }
      }
    } catch (error) {
      this.#error ??= error instanceof StoreError ? error : storeErrorOf(error);
    }
  }

  async #startStreamedPart(): Promise<StreamedPart | undefined> {
    // Nothing is started in the bucket by a server that another took the prefix over from.
    if (!this.#parts.started) this.#ctx.checkLease();
    const size = this.#streamSize!;
    const left = Math.min(Math.max(this.#ctx.partBytes, STREAMED_PART_BYTES), size - this.#size);
    const body = new PassThrough({ highWaterMark: STREAM_BUFFER_BYTES });
    await this.#parts.send(() => body, left);
    if (this.#parts.error) {
      body.destroy();
      return undefined;
    }
    return { body, left };
  }

  async #spool(chunk: Buffer): Promise<void> {
    if (this.#error || this.#done) return;
    try {
      for (let at = 0; at < chunk.length; ) {
        const open = this.#part ?? (this.#part = await this.#openPart());
        const take = Math.min(chunk.length - at, this.#ctx.partBytes - open.part.bytes);
        await open.writer.write(at === 0 && take === chunk.length ? chunk : chunk.subarray(at, at + take));
        open.part.bytes += take;
        this.#size += take;
        at += take;
        if (open.part.bytes === this.#ctx.partBytes) {
          await this.#closePart();
          for (const part of this.#toSend.splice(0)) await this.#sendSpooled(part);
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

  /** Sends a part file (deleted once it landed or failed, when ours): an upload holds at most PARTS_IN_FLIGHT + 1 parts of local disk. */
  async #sendSpooled(part: SpoolPart): Promise<void> {
    if (!this.#parts.started) this.#ctx.checkLease();
    const drop = part.owned ? () => fs.rm(part.path, { force: true }).catch(() => {}) : undefined;
    await this.#parts.send(() => readPart(part), part.bytes, drop);
  }

  /** The whole (small) upload in one PutObject that never overwrites. */
  async #putWhole(sha256: string | undefined): Promise<void> {
    const { bucket } = this.#ctx;
    this.#ctx.checkLease();
    const part = this.#toSend[0];
    const put = async () => {
      const stored = await bucket.client.send(
        new PutObjectCommand({
          Bucket: bucket.bucket,
          Key: bucket.key(this.#name),
          IfNoneMatch: '*',
          ContentLength: this.#size,
          Body: part && part.bytes > 0 ? readPart(part) : Buffer.alloc(0),
          ...(sha256 && { Metadata: { [SHA256_META]: sha256 } }),
        }),
      );
      this.#putEtag = etagOf(stored.ETag) || undefined;
    };
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
      await this.#parts.complete();
    } catch (error) {
      // The engine may have completed it and only the answer was lost: look before removing the claim.
      const now = await bucket.head(this.#name).catch(() => undefined);
      const expected = this.#parts.expectedEtag;
      if (now && !now.pending && now.size === this.#size && (expected === undefined || now.etag === expected)) return;
      await this.#ctx.dropClaim(this.#name);
      throw s3StoreError(error, `complete the upload of ${this.#name}`);
    }
  }

  async #dropSpool(): Promise<void> {
    for (const part of this.#toSend.splice(0)) if (part.owned) await fs.rm(part.path, { force: true }).catch(() => {});
  }
}

// Bytes of a streamed part buffered between the client's connection and the part's request.
const STREAM_BUFFER_BYTES = 1024 * 1024;
/** A streamed part holds no local disk, so it can be large: fewer requests, and fewer parts for the engine to join. */
export const STREAMED_PART_BYTES = 64 * 1024 * 1024;

/** Resolves when `stream` wants more, or is done for (its request ended). */
function drained(stream: PassThrough): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

function readPart(part: SpoolPart): Readable {
  return readPartFile(part.path, part.start, part.start + part.bytes);
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
