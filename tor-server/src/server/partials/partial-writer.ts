import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import { storeErrorOf } from '../store/fs-upload.js';
import type { Partial } from './partial.js';

/**
 * One put's bytes going into a partial's data file, one after another from `offset` on. It owns
 * its file handle until {@link close}; several writers of one partial (other ranges) work at once.
 */
export class PartialWriter {
  readonly #partial: Partial;
  readonly #handle: fs.FileHandle;
  readonly #offset: number;
  #written = 0;

  private constructor(partial: Partial, handle: fs.FileHandle, offset: number) {
    this.#partial = partial;
    this.#handle = handle;
    this.#offset = offset;
  }

  /** Opens the partial's data file for a put at `offset`; throws a StoreError. */
  static async open(partial: Partial, offset: number): Promise<PartialWriter> {
    try {
      return new PartialWriter(partial, await fs.open(partial.dataPath, fsc.O_WRONLY | fsc.O_NOFOLLOW), offset);
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
    const position = this.#offset + this.#written;
    try {
      // A positional write may take part of the chunk.
      for (let done = 0; done < chunk.length; ) {
        const { bytesWritten } = await this.#handle.write(chunk, done, chunk.length - done, position + done);
        done += bytesWritten;
      }
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
