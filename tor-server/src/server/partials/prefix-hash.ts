import { createHash, type Hash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import type { ByteRange } from '../../protocol/ranges.js';

/**
 * Bytes per read when a partial's stored bytes are read back to be hashed: each read is a
 * hand-off to libuv's thread pool and back, about 50 µs of the event loop's CPU whatever its
 * size (64 KiB reads made 16,384 of them a GiB).
 */
export const READ_BACK_BYTES = 1024 * 1024;

/**
 * The sha256 of a partial's bytes from its first byte on, kept up while puts arrive in this run,
 * so its commit need not read the whole file back (a 1 GiB commit then answers at once instead of
 * after reading and hashing for most of a second).
 *
 * - A put writing exactly where the hashed prefix ends (one put after the other: the usual case)
 *   has its bytes hashed as they pass.
 * - Bytes further on (parallel puts) are read back from the data file once they are stored and
 *   the prefix has reached them, one stretch at a time.
 * - A write inside what is hashed, or being read back, spoils it for this run (a put sending
 *   stored bytes again may send others): the commit then reads the file whole, as after a restart.
 */
export class PrefixHash {
  readonly #file: string;
  readonly #size: number;
  #hash: Hash | undefined = createHash('sha256');
  /** Bytes [0, hashed) are in the hash. */
  #hashed = 0;
  /** The end of the stretch being read back, while one is. */
  #readingTo: number | undefined;
  #readBack: Promise<void> = Promise.resolve();
  #digest: string | undefined;
  #stopped = false;

  /** Hashes the `size` bytes of the data file `file` as they come. */
  constructor(file: string, size: number) {
    this.#file = file;
    this.#size = size;
  }

  /** Told before `chunk` is written at `position`: hashed now when it extends the prefix. */
  taking(position: number, chunk: Buffer): void {
    if (chunk.length === 0) return;
    // After a commit that did not take the upload (its name was taken meanwhile), every byte is hashed.
    if (this.#digest !== undefined) return this.#spoil();
    if (!this.#hash) return;
    if (position < (this.#readingTo ?? this.#hashed)) return this.#spoil();
    if (position === this.#hashed && this.#readingTo === undefined) {
      this.#hash.update(chunk);
      this.#hashed += chunk.length;
    }
  }

  /** Told once more bytes are stored (fsynced and recorded): reads back what the prefix can take of them. */
  stored(ranges: readonly ByteRange[]): void {
    if (!this.#hash || this.#readingTo !== undefined || this.#stopped) return;
    const to = storedEnd(ranges, this.#hashed);
    if (to <= this.#hashed) return;
    this.#readingTo = to;
    this.#readBack = this.#readStretch(this.#hashed, to).then(
      () => {
        this.#readingTo = undefined;
        if (!this.#hash) return;
        this.#hashed = to;
        this.stored(ranges);
      },
      () => {
        this.#readingTo = undefined;
        this.#spoil();
      },
    );
  }

  /**
   * The sha256 of all `size` bytes, once every byte is stored and no put writes (a commit);
   * undefined when it was spoiled, and the caller must read the file whole.
   */
  async digest(ranges: readonly ByteRange[]): Promise<string | undefined> {
    await this.#settled();
    if (this.#digest !== undefined || !this.#hash) return this.#digest;
    this.stored(ranges);
    await this.#settled();
    if (!this.#hash || this.#hashed !== this.#size) return undefined;
    this.#digest = this.#hash.digest('hex');
    this.#hash = undefined;
    return this.#digest;
  }

  /** No more reading back (the partial is being thrown away); resolves once none runs. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#spoil();
    await this.#settled();
  }

  /** Resolves once no stretch is being read back (one that ends may start the next). */
  async #settled(): Promise<void> {
    while (this.#readingTo !== undefined) await this.#readBack;
  }

  #spoil(): void {
    this.#hash = undefined;
    this.#digest = undefined;
  }

  async #readStretch(from: number, to: number): Promise<void> {
    const handle = await fs.open(this.#file, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    try {
      const buffer = Buffer.allocUnsafe(Math.min(READ_BACK_BYTES, to - from));
      for (let at = from; at < to && this.#hash && !this.#stopped; ) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, to - at), at);
        if (bytesRead === 0) throw new Error(`the data file ended at ${at} bytes, before ${to}`);
        // Spoiled while the read was out: the bytes may be another put's, and are not to be hashed.
        if (!this.#hash) return;
        this.#hash.update(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await handle.close();
    }
  }
}

/** Where the stored bytes that run on without a gap from `from` end (`from` itself when the byte there is not stored). */
function storedEnd(ranges: readonly ByteRange[], from: number): number {
  for (const [start, end] of ranges) if (start <= from && from < end) return end;
  return from;
}
