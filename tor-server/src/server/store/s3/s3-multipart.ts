import { CompleteMultipartUploadCommand, type CompletedPart } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from '../../logger.js';
import type { StoreError } from '../store.js';
import { etagOf, type S3Bucket } from './s3-bucket.js';
import { s3StoreError } from './s3-errors.js';
import { PARTS_IN_FLIGHT } from './s3-settings.js';

const MD5_HEX = /^[0-9a-f]{32}$/;

/**
 * One multipart upload to `key`, started with the first part: parts go up in order, at most
 * PARTS_IN_FLIGHT at once (the next waits for one to land: that is the backpressure), and the
 * first failure is kept for the caller, after which no part is sent. It owns the engine's upload
 * id: {@link complete} or {@link abort} ends it.
 */
export class MultipartSender {
  readonly #bucket: S3Bucket;
  readonly #key: string;
  readonly #name: string;
  readonly #metadata: Record<string, string> | undefined;
  readonly #live: Set<string>;
  readonly #logger: Logger;
  #uploadId: string | undefined;
  readonly #sent: CompletedPart[] = [];
  /** The parts going up now, each with what stops it. */
  readonly #sending = new Map<Promise<void>, AbortController>();
  #error: StoreError | undefined;

  /** `live` is the store's set of upload ids in progress, which its sweep of abandoned ones leaves alone. */
  constructor(bucket: S3Bucket, name: string, options: { metadata?: Record<string, string>; live: Set<string>; logger: Logger }) {
    this.#bucket = bucket;
    this.#key = bucket.key(name);
    this.#name = name;
    this.#metadata = options.metadata;
    this.#live = options.live;
    this.#logger = options.logger;
  }

  /** Whether any part was sent (so the upload exists in the engine). */
  get started(): boolean {
    return this.#uploadId !== undefined;
  }

  /** The first failure of a part, if any. */
  get error(): StoreError | undefined {
    return this.#error;
  }

  /**
   * The ETag the engine gives the completed object (the md5 of its parts' md5s, then `-<parts>`),
   * to tell it from an object another program put under the key right after; undefined when a
   * part's ETag is no md5 (an encrypted upload) and it cannot be known.
   */
  get expectedEtag(): string | undefined {
    const md5s = this.#sent.map((part) => etagOf(part.ETag));
    if (md5s.length === 0 || !md5s.every((md5) => MD5_HEX.test(md5))) return undefined;
    return `${createHash('md5').update(Buffer.from(md5s.join(''), 'hex')).digest('hex')}-${md5s.length}`;
  }

  /**
   * Waits for room among the parts going up, then sends the next part: `bytes` bytes read from
   * the stream `body()` makes. Resolves once it is under way; its failure shows in {@link error}.
   * `onSettled` runs when it landed or failed (to delete its local file).
   */
  async send(body: () => Readable, bytes: number, onSettled?: () => Promise<void>): Promise<void> {
    while (this.#sending.size >= PARTS_IN_FLIGHT) await Promise.race(this.#sending.keys());
    if (this.#error) return void (await onSettled?.());
    if (this.#uploadId === undefined) {
      this.#uploadId = await this.#bucket.startMultipart(this.#name, this.#metadata).catch(async (error: unknown) => {
        await onSettled?.();
        throw error;
      });
      this.#live.add(this.#uploadId);
    }
    const number = this.#sent.length + 1;
    const slot: CompletedPart = { PartNumber: number };
    this.#sent.push(slot);
    const stop = new AbortController();
    const stream = body();
    const sending: Promise<void> = this.#bucket
      .uploadPart(this.#name, this.#uploadId, number, stream, bytes, stop.signal)
      .then(
        (etag) => {
          slot.ETag = etag;
          this.#bucket.note();
        },
        (error: unknown) => {
          // A part stopped by abort() is no failure of the engine's.
          if (stop.signal.aborted && this.#error) return;
          this.#error ??= s3StoreError(error, `send part ${number} of ${this.#name}`);
          this.#bucket.note(this.#error);
        },
      )
      .finally(async () => {
        stream.destroy();
        await onSettled?.();
        this.#sending.delete(sending);
      });
    this.#sending.set(sending, stop);
  }

  /** Resolves once every part sent so far has landed or failed. */
  async allSent(): Promise<void> {
    while (this.#sending.size > 0) await Promise.all(this.#sending.keys());
  }

  /** Completes the upload from its parts (every one of them landed): the object appears at the key, over whatever was there. */
  async complete(): Promise<void> {
    await this.#bucket.client.send(
      new CompleteMultipartUploadCommand({ Bucket: this.#bucket.bucket, Key: this.#key, UploadId: this.#uploadId, MultipartUpload: { Parts: this.#sent } }),
    );
    this.#forget();
  }

  /** Stops the parts going up and aborts the upload in the engine. Never throws. */
  async abort(reason: StoreError): Promise<void> {
    this.#error ??= reason;
    for (const stop of this.#sending.values()) stop.abort();
    await this.allSent();
    if (this.#uploadId === undefined) return;
    await this.#bucket.abortMultipart(this.#key, this.#uploadId).catch((error: unknown) => {
      // Left for the start-up clean-up of the next run (or the bucket's lifecycle rule).
      this.#logger.warn('s3-abort-failed', { name: this.#name, error: s3StoreError(error, 'abort').message });
    });
    // Its abort failed or not, the sweep may take it from here.
    this.#forget();
  }

  #forget(): void {
    if (this.#uploadId !== undefined) this.#live.delete(this.#uploadId);
  }
}

// Bytes read from a local part file at a time on its way up: fewer, larger reads than the 64 KiB default.
const PART_READ_BYTES = 1024 * 1024;

/** Bytes [start, end) of a local part file, read for an UploadPart (or a hash). */
export function readPartFile(file: string, start = 0, end?: number): Readable {
  return createReadStream(file, { start, ...(end !== undefined && { end: end - 1 }), highWaterMark: PART_READ_BYTES });
}
