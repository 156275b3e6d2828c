import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import { BatchedFileWriter } from '../store/batched-writer.js';
import { storeErrorOf } from '../store/fs-upload.js';
import type { ByteRange } from '../../protocol/ranges.js';
import type { Partial } from './partial.js';
import type { PartialBytesWriter } from './partial-bytes.js';

/** Told of a writer's bytes: each chunk (at its position in the upload) before it is written, and each time bytes are stored. */
export interface WriteObserver {
  taking(position: number, chunk: Buffer): void;
  stored(ranges: readonly ByteRange[]): void;
}

/**
 * One put's bytes going into one local file of a partial (the file holds the upload's bytes from
 * `base` on), one after another from `offset` on, written in batches as an upload's are. It owns
 * its file handle until {@link close}; several writers of one partial (other ranges) work at once.
 */
export class PartialWriter implements PartialBytesWriter {
  readonly #partial: Partial;
  readonly #handle: fs.FileHandle;
  readonly #offset: number;
  readonly #writer: BatchedFileWriter;
  readonly #observer: WriteObserver | undefined;
  /** Bytes handed to {@link write} so far (some may still wait for their batch). */
  #taken = 0;

  private constructor(partial: Partial, handle: fs.FileHandle, offset: number, base: number, observer: WriteObserver | undefined) {
    this.#partial = partial;
    this.#handle = handle;
    this.#offset = offset;
    this.#writer = new BatchedFileWriter(handle, { position: offset - base, uploadBytes: partial.size });
    this.#observer = observer;
  }

  /** Opens `file` (which must exist) for a put at `offset`, telling `observer` what it does; throws a StoreError. */
  static async open(partial: Partial, file: string, offset: number, base = 0, observer?: WriteObserver): Promise<PartialWriter> {
    try {
      return new PartialWriter(partial, await fs.open(file, fsc.O_WRONLY | fsc.O_NOFOLLOW), offset, base, observer);
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  /** Bytes written so far, from the offset on (those still gathered for a batch are not). */
  get written(): number {
    return this.#writer.written;
  }

  /**
   * Takes all of `chunk` next (it may wait while the disk is behind); throws a StoreError (the
   * disk is full) once a write has failed, after which nothing more is written.
   */
  async write(chunk: Buffer): Promise<void> {
    this.#observer?.taking(this.#offset + this.#taken, chunk);
    this.#taken += chunk.length;
    await this.#writer.write(chunk);
    if (this.#writer.error) throw storeErrorOf(this.#writer.error);
  }

  /**
   * Writes what is gathered, fsyncs, then records as stored the bytes written before any failure;
   * throws a StoreError for that failure or its own.
   */
  async keep(): Promise<void> {
    const failure = await this.#writer.finish();
    const { written } = this.#writer;
    try {
      if (written === 0) await this.#partial.touch();
      else {
        await this.#handle.datasync();
        await this.#partial.addStored([this.#offset, this.#offset + written]);
        this.#observer?.stored(this.#partial.ranges);
      }
    } catch (error) {
      throw storeErrorOf(failure ?? error);
    }
    if (failure) throw storeErrorOf(failure);
  }

  /** Closes the file, once no write is in flight. Never throws. */
  async close(): Promise<void> {
    await this.#writer.finish();
    await this.#handle.close().catch(() => {});
  }
}
