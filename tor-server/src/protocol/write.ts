import type { Writable } from 'node:stream';

/** Writes one protocol line (LF-terminated); resolves once the socket can take more. */
export async function writeLine(socket: Writable, line: string): Promise<void> {
  if (!socket.write(`${line}\n`)) await drained(socket);
}

/**
 * Copies exactly `size` bytes from `source` into `socket` without ending it, honouring
 * backpressure; `onBytes` sees every chunk. Rejects when the source yields more or fewer bytes.
 */
export async function sendExactly(
  source: AsyncIterable<Buffer> | Iterable<Buffer>,
  socket: Writable,
  size: number,
  onBytes?: (count: number) => void,
): Promise<void> {
  let sent = 0;
  for await (const chunk of source) {
    sent += chunk.length;
    if (sent > size) throw new Error(`the source has more than the announced ${size} bytes`);
    onBytes?.(chunk.length);
    if (!socket.write(chunk)) await drained(socket);
  }
  if (sent !== size) throw new Error(`the source ended after ${sent} of the announced ${size} bytes`);
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
