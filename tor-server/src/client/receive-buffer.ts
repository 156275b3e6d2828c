/**
 * Socket reads land in blocks this big: a read takes whatever the kernel has queued (up to the
 * free part of the block), so a fast download needs few reads and no allocation per read.
 */
const BLOCK_BYTES = 1024 * 1024;
/** A read never gets less room than this; when the block has less left, a new block begins. */
const MIN_READ_BYTES = 64 * 1024;

/**
 * The memory a socket's `onread` reads into. Bytes handed on (kept by a stream or a line
 * buffer) are never overwritten: the next read goes after them, in a new block once this one
 * is full. Bytes already consumed (written out by a raw sink) leave their room to the next read.
 */
export class ReceiveBuffer {
  #block = Buffer.allocUnsafe(BLOCK_BYTES);
  #offset = 0;

  /** Where the next read lands. */
  next(): Buffer {
    return this.#block.subarray(this.#offset);
  }

  /** The last read's first `length` bytes were kept by their receiver: the next read goes after them. */
  keep(length: number): void {
    this.#offset += length;
    if (BLOCK_BYTES - this.#offset < MIN_READ_BYTES) {
      this.#block = Buffer.allocUnsafe(BLOCK_BYTES);
      this.#offset = 0;
    }
  }
}
