import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Bytes queued for the consumer before the connection waits (as the line reader's own queue). */
const TAKE_QUEUE_BYTES = 64 * 1024;

/**
 * Hands each chunk of a transfer's raw bytes to `take`, the next one only once `take` has
 * settled, so a slow disk holds the socket back. A Writable, not `for await`: the async
 * iterator's read() joins the chunks that gathered meanwhile into one new buffer, a copy of
 * every byte of the transfer. Rejects when the bytes stop coming (a cut connection) or `take`
 * rejects; by then only a `take` already under way may still run.
 */
export async function takeChunks(raw: Readable, take: (chunk: Buffer) => Promise<void>): Promise<void> {
  const sink = new Writable({
    highWaterMark: TAKE_QUEUE_BYTES,
    write(chunk: Buffer, _encoding, done) {
      take(chunk).then(() => done(), done);
    },
    writev(chunks, done) {
      // Once the transfer is cut the caller settles what was taken: no chunk after that reaches `take`.
      const next = (previous: Promise<void>, chunk: Buffer) => previous.then(() => (sink.destroyed ? undefined : take(chunk)));
      chunks.reduce((previous, { chunk }) => next(previous, chunk as Buffer), Promise.resolve()).then(() => done(), done);
    },
  });
  await pipeline(raw, sink);
}
