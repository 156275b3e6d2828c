/** A connection's reads land in blocks this big at first: replies and listings are small. */
const SMALL_BLOCK_BYTES = 64 * 1024;
/**
 * Blocks once a read filled all the room it had (a download under way): a read takes whatever
 * the kernel has queued, so a fast download then needs few reads and no allocation per read.
 */
const LARGE_BLOCK_BYTES = 1024 * 1024;
/** A read never gets less room than this; when the block has less left, a new block begins. */
const MIN_READ_BYTES = 16 * 1024;

/**
 * The memory a socket's `onread` reads into. Bytes handed on (kept by a stream or a line
 * buffer) are never overwritten: the next read goes after them, in a new block once this one
 * is full. Bytes already consumed (written out by a raw sink) leave their room to the next read.
 */
export class ReceiveBuffer {
  #blockBytes = SMALL_BLOCK_BYTES;
  #block = Buffer.allocUnsafe(SMALL_BLOCK_BYTES);
  #offset = 0;

  /** Where the next read lands. */
  next(): Buffer {
    return this.#block.subarray(this.#offset);
  }

  /** The last read brought `length` bytes; `kept` when their receiver holds on to them, else their room is free again. */
  used(length: number, kept: boolean): void {
    const filled = length === this.#block.length - this.#offset;
    if (filled) this.#blockBytes = LARGE_BLOCK_BYTES;
    if (kept) this.#offset += length;
    // A new block never touches the old one's bytes, which their holders may still read.
    if (this.#block.length - this.#offset < MIN_READ_BYTES || this.#block.length < this.#blockBytes) {
      this.#block = Buffer.allocUnsafe(this.#blockBytes);
      this.#offset = 0;
    }
  }
}
