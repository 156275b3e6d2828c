import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import type { Partial } from '../../partials/partial.js';
import type { PartialBytesWriter } from '../../partials/partial-bytes.js';
import { writeAt } from '../../partials/partial-writer.js';
import { storeErrorOf } from '../fs-upload.js';
import { partRange } from './s3-partial-record.js';

/** What a put's writer needs from the partial's parts. */
export interface PartFiles {
  partBytes(partial: Partial): number;
  /** The local file of part `index` (made when first written). */
  partPath(partial: Partial, index: number): string;
  /** True when the engine has the part already: bytes sent for it again are dropped (its first bytes stay). */
  uploaded(partial: Partial, index: number): boolean;
  /** True when every byte of part `index` is stored: a put into it writes bytes again. */
  whole(partial: Partial, index: number): boolean;
  /**
   * Called before a put writes part `index` again: waits for it to land if it is on its way up
   * (so what the engine has is one version of its bytes, never a mix), and forgets what was
   * hashed of it (the commit then reads the stored object back).
   */
  rewriting(partial: Partial, index: number): Promise<void>;
  /** The put that was writing part `index` again is over: the part may go up again. */
  rewritten(partial: Partial, index: number): void;
  /** Called once this put's bytes of part `index` are fsynced and recorded: sends the part up when it is whole (waiting for room). */
  stored(partial: Partial, index: number): Promise<void>;
}

/**
 * One put's bytes going into the local files of a multipart partial's parts, one after another
 * from `offset` on. Each part's share is fsynced and recorded as soon as the put moves past it,
 * so a whole part goes up during the put (and waits for room to: backpressure), never after a
 * long put has piled up on local disk. It owns its file handles until {@link close}.
 */
export class PartsWriter implements PartialBytesWriter {
  readonly #parts: PartFiles;
  readonly #partial: Partial;
  readonly #offset: number;
  readonly #handles = new Map<number, fs.FileHandle>();
  #written = 0;
  /** Bytes from the offset on already recorded as stored. */
  #kept = 0;
  /** Parts this put has looked at already (whether it writes them again). */
  readonly #checked = new Set<number>();
  /** Whole parts this put writes again: none of them goes up until the put is over. */
  readonly #rewriting: number[] = [];

  constructor(parts: PartFiles, partial: Partial, offset: number) {
    this.#parts = parts;
    this.#partial = partial;
    this.#offset = offset;
  }

  get written(): number {
    return this.#written;
  }

  async write(chunk: Buffer): Promise<void> {
    const partBytes = this.#parts.partBytes(this.#partial);
    try {
      for (let at = 0; at < chunk.length; ) {
        const position = this.#offset + this.#written;
        const index = Math.floor(position / partBytes);
        const [start, end] = partRange(this.#partial.size, partBytes, index);
        const take = Math.min(chunk.length - at, end - position);
        if (!this.#checked.has(index)) {
          this.#checked.add(index);
          if (this.#parts.whole(this.#partial, index)) {
            this.#rewriting.push(index);
            await this.#parts.rewriting(this.#partial, index);
          }
        }
        if (!this.#parts.uploaded(this.#partial, index)) await writeAt(await this.#handle(index), chunk.subarray(at, at + take), position - start);
        this.#written += take;
        at += take;
        if (position + take === end) {
          await this.#record();
          await this.#parts.stored(this.#partial, index);
        }
      }
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  async keep(): Promise<void> {
    if (this.#written === 0) return this.#partial.touch();
    try {
      await this.#record();
      // The part the put ended in may be whole now (its rest stored before): it goes up too.
      const last = Math.floor((this.#offset + this.#written - 1) / this.#parts.partBytes(this.#partial));
      await this.#parts.stored(this.#partial, last);
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  async close(): Promise<void> {
    for (const handle of this.#handles.values()) await handle.close().catch(() => {});
    this.#handles.clear();
    for (const index of this.#rewriting.splice(0)) this.#parts.rewritten(this.#partial, index);
  }

  async #handle(index: number): Promise<fs.FileHandle> {
    let handle = this.#handles.get(index);
    if (!handle) {
      handle = await fs.open(this.#parts.partPath(this.#partial, index), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
      this.#handles.set(index, handle);
    }
    return handle;
  }

  /** fsyncs the parts written since the last time (closing them: the put has moved past), then records their bytes as stored. */
  async #record(): Promise<void> {
    if (this.#written === this.#kept) return;
    for (const [index, handle] of this.#handles) {
      await handle.datasync();
      await handle.close();
      this.#handles.delete(index);
    }
    await this.#partial.addStored([this.#offset + this.#kept, this.#offset + this.#written]);
    this.#kept = this.#written;
  }
}
