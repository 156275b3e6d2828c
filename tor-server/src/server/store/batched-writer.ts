import type { FileHandle } from 'node:fs/promises';

// Bytes gathered per write at first: small, so that many short uploads at once stay cheap.
const FIRST_BATCH_BYTES = 256 * 1024;
// Bytes gathered per write once an upload is long: each write is a hand-off to libuv's thread
// pool and back, about 50 µs of the event loop's CPU whatever its size, so 1 MiB batches cut
// those four-fold (measured: less server CPU per upload).
const LONG_BATCH_BYTES = 1024 * 1024;
// An upload this large (announced, or proved by the bytes written) is long.
const LONG_UPLOAD_BYTES = 16 * 1024 * 1024;
// Flush to disk every so often while bytes still arrive, so the closing fsync has little left to do.
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

export interface BatchedWriterOptions {
  /** Where in the file the first byte goes; without it, the file's own position (a new file's start). */
  position?: number;
  /** Bytes of the whole upload these writes belong to, when known: a long one gets large batches at once. */
  uploadBytes?: number;
}

/**
 * Writes chunks to an open file in batches, one batch in flight at a time (that is the
 * backpressure: `write` waits while the disk is behind). The first failure (disk full) is
 * kept, and later chunks are dropped, so the caller can go on reading the connection.
 */
export class BatchedFileWriter {
  readonly #handle: FileHandle;
  readonly #position: number | undefined;
  readonly #long: boolean;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #inFlight: Promise<void> = Promise.resolve();
  #unsynced = 0;
  #written = 0;
  #syncing: Promise<void> | undefined;
  #error: Error | undefined;

  constructor(handle: FileHandle, options: BatchedWriterOptions = {}) {
    this.#handle = handle;
    this.#position = options.position;
    this.#long = (options.uploadBytes ?? 0) >= LONG_UPLOAD_BYTES;
  }

  /** The first write or sync error, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Bytes whose writes have completed (a failed batch's are not counted, though some may be on disk). */
  get written(): number {
    return this.#written;
  }

  /** Queues a chunk; resolves when the writer is ready for more. */
  async write(chunk: Buffer): Promise<void> {
    if (this.#error) return;
    this.#batch.push(chunk);
    this.#batchBytes += chunk.length;
    const long = this.#long || this.#written >= LONG_UPLOAD_BYTES;
    if (this.#batchBytes >= (long ? LONG_BATCH_BYTES : FIRST_BATCH_BYTES)) await this.#flushBatch();
  }

  /** Writes what is left and waits for every write and sync; resolves with the first error. */
  async finish(): Promise<Error | undefined> {
    await this.#flushBatch();
    await this.#inFlight;
    await this.#syncing;
    return this.#error;
  }

  async #flushBatch(): Promise<void> {
    await this.#inFlight;
    if (this.#error || this.#batch.length === 0) return;
    const buffers = this.#batch;
    const bytes = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    const position = this.#position === undefined ? undefined : this.#position + this.#written;
    this.#inFlight = writeFully(this.#handle, buffers, position).then(
      () => this.#afterWrite(bytes),
      (error: Error) => void (this.#error ??= error),
    );
  }

  #afterWrite(bytes: number): void {
    this.#written += bytes;
    this.#unsynced += bytes;
    if (this.#unsynced < SYNC_EVERY_BYTES || this.#syncing) return;
    this.#unsynced = 0;
    this.#syncing = this.#handle
      .datasync()
      .catch((error: Error) => void (this.#error ??= error))
      .finally(() => (this.#syncing = undefined));
  }
}

/** writev (at `position`, when given) until every byte is written (a regular file may take fewer bytes per call). */
async function writeFully(handle: FileHandle, buffers: Buffer[], position: number | undefined): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    if (bytesWritten === 0) throw Object.assign(new Error('the disk accepted no more bytes'), { code: 'ENOSPC' });
    pending = dropBytes(pending, bytesWritten);
    if (at !== undefined) at += bytesWritten;
  }
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  let i = 0;
  while (i < buffers.length && left >= buffers[i]!.length) left -= buffers[i++]!.length;
  const rest = buffers.slice(i);
  if (left > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(left);
  return rest;
}
