/**
 * Reads a byte stream as consecutive pieces of given lengths: each `take(n)` yields the next
 * `n` bytes (fewer only when the stream ends first), splitting a chunk between two pieces
 * where it straddles them. Nothing is read ahead beyond the one chunk in hand, so the
 * consumer's pace is the stream's (backpressure), and memory stays one chunk.
 */
export class PieceReader {
  readonly #chunks: AsyncIterator<Buffer>;
  /** The unread rest of the last chunk. */
  #left: Buffer | undefined;
  #ended = false;
  #read = 0;

  constructor(chunks: AsyncIterable<Buffer>) {
    this.#chunks = chunks[Symbol.asyncIterator]();
  }

  /** Bytes yielded so far. */
  get bytesRead(): number {
    return this.#read;
  }

  /** The next `n` bytes, in the chunks they came in. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let remaining = n;
    while (remaining > 0) {
      let chunk = this.#left;
      this.#left = undefined;
      if (chunk === undefined) {
        if (this.#ended) return;
        const next = await this.#chunks.next();
        if (next.done) {
          this.#ended = true;
          return;
        }
        chunk = next.value;
      }
      if (chunk.length > remaining) {
        this.#left = chunk.subarray(remaining);
        chunk = chunk.subarray(0, remaining);
      }
      remaining -= chunk.length;
      this.#read += chunk.length;
      yield chunk;
    }
  }
}
