import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import { storeErrorOf } from '../store/fs-upload.js';
import type { Partial } from './partial.js';
import type { PartialBytesWriter } from './partial-bytes.js';

/**
 * One put's bytes going into one local file of a partial (the file holds the upload's bytes from
 * `base` on), one after another from `offset` on. It owns its file handle until {@link close};
 * several writers of one partial (other ranges) work at once.
 */
export class PartialWriter implements PartialBytesWriter {
  readonly #partial: Partial;
  readonly #handle: fs.FileHandle;
  readonly #offset: number;
  readonly #base: number;
  #written = 0;

  private constructor(partial: Partial, handle: fs.FileHandle, offset: number, base: number) {
    this.#partial = partial;
    this.#handle = handle;
    this.#offset = offset;
    this.#base = base;
  }

  /** Opens `file` (which must exist) for a put at `offset`; throws a StoreError. */
  static async open(partial: Partial, file: string, offset: number, base = 0): Promise<PartialWriter> {
    try {
      return new PartialWriter(partial, await fs.open(file, fsc.O_WRONLY | fsc.O_NOFOLLOW), offset, base);
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  /** Bytes written so far, from the offset on. */
  get written(): number {
    return this.#written;
  }

  /** Writes all of `chunk` next; throws a StoreError (the disk is full), after which nothing more is written. */
  async write(chunk: Buffer): Promise<void> {
    try {
      await writeAt(this.#handle, chunk, this.#offset + this.#written - this.#base);
    } catch (error) {
      throw storeErrorOf(error);
    }
    this.#written += chunk.length;
  }

  /** fsyncs what was written, then records it as stored; throws a StoreError. */
  async keep(): Promise<void> {
    if (this.#written === 0) return this.#partial.touch();
    try {
      await this.#handle.datasync();
      await this.#partial.addStored([this.#offset, this.#offset + this.#written]);
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  /** Closes the file. Never throws. */
  async close(): Promise<void> {
    await this.#handle.close().catch(() => {});
  }
}

/** Writes all of `chunk` at `position` (a positional write may take part of it). */
export async function writeAt(handle: fs.FileHandle, chunk: Buffer, position: number): Promise<void> {
  for (let done = 0; done < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}
