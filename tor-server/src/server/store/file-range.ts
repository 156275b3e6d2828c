import { closeSync, read } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';

const readAt = promisify(read);

// A download's first chunks: small, so that many short downloads at once stay cheap.
const FIRST_CHUNK_BYTES = 256 * 1024;
// Chunks once a download has proved long: each read is a hand-off to libuv's thread pool and
// back, and 1 MiB chunks cut those four-fold.
const LONG_CHUNK_BYTES = 1024 * 1024;
// Bytes read before a download counts as long.
const LONG_DOWNLOAD_BYTES = 16 * 1024 * 1024;

/**
 * Bytes [offset, offset + count) of an open file as a stream, which owns the descriptor `fd`
 * from here on and closes it when it ends, fails or is destroyed. A file that shrank meanwhile
 * ends it early.
 */
export function readFileRange(fd: number, offset: number, count: number): Readable {
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    closeQuietly(fd);
  };
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (let done = 0; done < count; ) {
        const want = Math.min(count - done, done < LONG_DOWNLOAD_BYTES ? FIRST_CHUNK_BYTES : LONG_CHUNK_BYTES);
        // A new buffer per chunk: the socket holds on to it until it is sent.
        const { bytesRead, buffer } = await readAt(fd, Buffer.allocUnsafe(want), 0, want, offset + done);
        if (bytesRead === 0) return;
        done += bytesRead;
        yield bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
      }
    } finally {
      // After the last read has settled (a destroyed stream waits for it): no read can hit a reused descriptor.
      close();
    }
  }
  const stream = Readable.from(chunks(), { objectMode: false, highWaterMark: FIRST_CHUNK_BYTES });
  // A stream destroyed before its first read never enters the generator, nor its finally.
  stream.once('close', close);
  return stream;
}

/** Closes a descriptor opened for reading; closing one can fail only in ways that leave nothing to do. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // EIO on close of a read-only descriptor: the descriptor is released all the same.
  }
}
