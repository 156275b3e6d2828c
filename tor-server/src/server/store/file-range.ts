import { closeSync, read, readSync } from 'node:fs';
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
// Ranges up to this size are read at once, synchronously: from the page cache that takes a few
// µs, where a hand-off to libuv's thread pool and back costs about 50 µs of the event loop's CPU
// (measured: more than a quarter of the server's work per 4 KiB download). A disk that has to seek
// stalls the server for that one read, as it does for the lookups (see FsStore).
const SYNC_READ_BYTES = 64 * 1024;

/**
 * Bytes [offset, offset + count) of an open file as a stream, which owns the descriptor `fd`
 * from here on and closes it when it ends, fails or is destroyed. A file that shrank meanwhile
 * ends it early.
 */
export function readFileRange(fd: number, offset: number, count: number): Readable {
  if (count <= SYNC_READ_BYTES) return readSmallRange(fd, offset, count);
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

/** A short range read now, the descriptor closed at once; a failed read fails the stream. */
function readSmallRange(fd: number, offset: number, count: number): Readable {
  const buffer = Buffer.allocUnsafe(count);
  let done = 0;
  try {
    while (done < count) {
      const bytesRead = readSync(fd, buffer, done, count - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
  } catch (error) {
    return new Readable({
      read() {
        this.destroy(error as Error);
      },
    });
  } finally {
    closeQuietly(fd);
  }
  // A file that shrank meanwhile ends the stream early, as a long read does.
  return Readable.from(done === 0 ? [] : [done === count ? buffer : buffer.subarray(0, done)], { objectMode: false });
}

/** Closes a descriptor opened for reading; closing one can fail only in ways that leave nothing to do. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // EIO on close of a read-only descriptor: the descriptor is released all the same.
  }
}
