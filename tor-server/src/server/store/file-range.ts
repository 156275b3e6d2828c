import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

// A download's first chunks: small, so that many short downloads at once stay cheap.
const FIRST_CHUNK_BYTES = 256 * 1024;
// Chunks once a download has proved long: each read is a hand-off to libuv's thread pool and
// back, and 1 MiB chunks cut those four-fold.
const LONG_CHUNK_BYTES = 1024 * 1024;
// Bytes read before a download counts as long.
const LONG_DOWNLOAD_BYTES = 16 * 1024 * 1024;

/**
 * Bytes [offset, offset + count) of an open file as a stream, which owns `handle` from here on
 * and closes it when it ends, fails or is destroyed. A file that shrank meanwhile ends it early.
 */
export function readFileRange(handle: FileHandle, offset: number, count: number): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (let done = 0; done < count; ) {
        const want = Math.min(count - done, done < LONG_DOWNLOAD_BYTES ? FIRST_CHUNK_BYTES : LONG_CHUNK_BYTES);
        // A new buffer per chunk: the socket holds on to it until it is sent.
        const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(want), 0, want, offset + done);
        if (bytesRead === 0) return;
        done += bytesRead;
        yield bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: FIRST_CHUNK_BYTES });
}
