import type { Writable } from 'node:stream';

/** Writes one protocol line (LF-terminated); resolves once the socket can take more. */
export async function writeLine(socket: Writable, line: string): Promise<void> {
  if (!socket.write(`${line}\n`)) await drained(socket);
}

/** The source of sendExactly yielded more or fewer bytes than it was to send. */
export class SourceSizeError extends Error {
  readonly expected: number;
  /** Bytes the source yielded: short of `expected`, or past it by the chunk that overflowed (never sent). */
  readonly received: number;
  constructor(expected: number, received: number) {
    super(received > expected ? `the source has more than the announced ${expected} bytes` : `the source ended after ${received} of the announced ${expected} bytes`);
    this.expected = expected;
    this.received = received;
  }
}

/**
 * Copies exactly `size` bytes from `source` into `socket` without ending it, honouring
 * backpressure; `onBytes` sees every chunk. Rejects with SourceSizeError when the source yields
 * more or fewer bytes (a chunk that would overflow is not written),
 * and as soon as the socket closes, even while the source is still waiting for its next chunk
 * (a slow browser upload must not outlive a dead tor-server).
 */
export async function sendExactly(
  source: AsyncIterable<Buffer> | Iterable<Buffer>,
  socket: Writable,
  size: number,
  onBytes?: (count: number) => void,
): Promise<void> {
  const chunks = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  let sent = 0;
  try {
    for (;;) {
      const next = await nextUnlessClosed(chunks, socket);
      if (next.done) break;
      const chunk = next.value;
      sent += chunk.length;
      if (sent > size) throw new SourceSizeError(size, sent);
      onBytes?.(chunk.length);
      if (!socket.write(chunk)) await drained(socket);
    }
  } catch (error) {
    // As for-await would: let the source release what it holds (a Readable is destroyed).
    void Promise.resolve(chunks.return?.()).catch(() => {});
    throw error;
  }
  if (sent !== size) throw new SourceSizeError(size, sent);
}

/** The iterator's next chunk, or a rejection as soon as the socket closes while waiting for it. */
function nextUnlessClosed(chunks: AsyncIterator<Buffer> | Iterator<Buffer>, socket: Writable): Promise<IteratorResult<Buffer>> {
  if (socket.destroyed) return Promise.reject(new Error('the connection is closed'));
  // A listener per chunk, not one long race: a long-lived promise would keep every chunk reachable.
  return new Promise((resolve, reject) => {
    const onClose = () => reject(new Error('the connection closed'));
    socket.once('close', onClose);
    Promise.resolve(chunks.next()).then(
      (result) => {
        socket.off('close', onClose);
        resolve(result);
      },
      (error: unknown) => {
        socket.off('close', onClose);
        reject(error);
      },
    );
  });
}

/** Waits for 'drain', rejecting if the stream closes (or fails, which closes it) first. */
export function drained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.reject(new Error('the connection is closed'));
  // Plain listeners rather than events.once with an AbortSignal: this runs for every chunk of a transfer.
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the connection closed'));
    };
    const cleanup = () => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
    };
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
