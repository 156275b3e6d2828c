import { Transform, type TransformCallback } from 'node:stream';

/** Bytes joined into one chunk at most (about: the last piece may take it past). */
export const JOINED_CHUNK_BYTES = 512 * 1024;

/**
 * Joins the pieces bytes arrive in from a socket (64 KiB reads, often less) into larger chunks:
 * what arrived in one turn of the event loop goes on as one chunk of up to about
 * JOINED_CHUNK_BYTES, so a download from the engine makes a few large writes to the client instead of many small ones (the CPU
 * of relaying a file is mostly its writes) and holds nothing back longer than that turn.
 */
export class ChunkJoiner extends Transform {
  #held: Buffer[] = [];
  #bytes = 0;
  #turn: NodeJS.Immediate | undefined;

  /** `highWaterMark`: bytes of joined chunks buffered for the reader before the writer waits. */
  constructor(highWaterMark = JOINED_CHUNK_BYTES * 2) {
    super({ highWaterMark });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#held.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes >= JOINED_CHUNK_BYTES) this.#release();
    else this.#turn ??= setImmediate(() => this.#release());
    done();
  }

  override _flush(done: TransformCallback): void {
    this.#release();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    clearImmediate(this.#turn);
    this.#held = [];
    this.#bytes = 0;
    done(error);
  }

  #release(): void {
    clearImmediate(this.#turn);
    this.#turn = undefined;
    if (this.#bytes === 0 || this.destroyed) return;
    this.push(this.#held.length === 1 ? this.#held[0] : Buffer.concat(this.#held, this.#bytes));
    this.#held = [];
    this.#bytes = 0;
  }
}
