import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import type { Partial } from '../../partials/partial.js';
import type { PartialBytesWriter } from '../../partials/partial-bytes.js';
import { BatchedFileWriter } from '../batched-writer.js';
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

/** The part a put is writing now: its local file, and the batches on their way into it. */
interface OpenPart {
  index: number;
  handle: fs.FileHandle;
  writer: BatchedFileWriter;
}

/**
 * One put's bytes going into the local files of a multipart partial's parts, one after another
 * from `offset` on, written in batches as an upload's are. Each part's share is fsynced and
 * recorded as soon as the put moves past it, so a whole part goes up during the put (and waits
 * for room to: backpressure), never after a long put has piled up on local disk. It owns the
 * file handle of the part it writes until it moves on or {@link close}.
 */
export class PartsWriter implements PartialBytesWriter {
  readonly #parts: PartFiles;
  readonly #partial: Partial;
  readonly #offset: number;
  /** Bytes taken from the put so far: where the next one goes. */
  #taken = 0;
  /** Bytes from the offset on that are on disk (or dropped, for a part the engine has), up to the open part's. */
  #done = 0;
  #open: OpenPart | undefined;
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

  /** Bytes written so far, from the offset on (those still gathered for a batch are not). */
  get written(): number {
    return this.#done + (this.#open?.writer.written ?? 0);
  }

  async write(chunk: Buffer): Promise<void> {
    const partBytes = this.#parts.partBytes(this.#partial);
    try {
      for (let at = 0; at < chunk.length; ) {
        const position = this.#offset + this.#taken;
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
        if (this.#parts.uploaded(this.#partial, index)) this.#done += take;
        else {
          const part = await this.#partAt(index, position - start);
          await part.writer.write(chunk.subarray(at, at + take));
          if (part.writer.error) throw part.writer.error;
        }
        this.#taken += take;
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
    let failure: unknown;
    try {
      await this.#closePart();
    } catch (error) {
      // What was written before the failure is still recorded below.
      failure = error;
    }
    try {
      if (this.#done === 0) this.#partial.touch();
      else {
        await this.#record();
        // The part the put ended in may be whole now (its rest stored before): it goes up too.
        const last = Math.floor((this.#offset + this.#done - 1) / this.#parts.partBytes(this.#partial));
        await this.#parts.stored(this.#partial, last);
      }
    } catch (error) {
      throw storeErrorOf(failure ?? error);
    }
    if (failure !== undefined) throw storeErrorOf(failure);
  }

  async close(): Promise<void> {
    const part = this.#open;
    this.#open = undefined;
    if (part) {
      await part.writer.finish();
      await part.handle.close().catch(() => {});
    }
    for (const index of this.#rewriting.splice(0)) this.#parts.rewritten(this.#partial, index);
  }

  /** The writer of part `index` from `position` in its file on, once the part before it is on disk. */
  async #partAt(index: number, position: number): Promise<OpenPart> {
    if (this.#open?.index === index) return this.#open;
    await this.#closePart();
    const handle = await fs.open(this.#parts.partPath(this.#partial, index), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
    this.#open = { index, handle, writer: new BatchedFileWriter(handle, { position, uploadBytes: this.#partial.size }) };
    return this.#open;
  }

  /** Writes what the open part has gathered, fsyncs and closes it (the put has moved past it); throws the first failure. */
  async #closePart(): Promise<void> {
    const part = this.#open;
    if (!part) return;
    this.#open = undefined;
    try {
      const failure = await part.writer.finish();
      // What was written before a failure (a full disk) is fsynced too, then recorded as kept.
      if (part.writer.written > 0) await part.handle.datasync();
      this.#done += part.writer.written;
      if (failure) throw failure;
    } finally {
      await part.handle.close().catch(() => {});
    }
  }

  /** Closes the part written since the last time (fsynced), then records its bytes as stored. */
  async #record(): Promise<void> {
    await this.#closePart();
    if (this.#done === this.#kept) return;
    await this.#partial.addStored([this.#offset + this.#kept, this.#offset + this.#done]);
    this.#kept = this.#done;
  }
}
