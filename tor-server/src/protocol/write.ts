import { once } from 'node:events';
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
  source: AsyncIterable<Buffer>,
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

/** Waits for 'drain', rejecting if the stream closes or fails first. */
async function drained(socket: Writable): Promise<void> {
  if (socket.destroyed) throw new Error('the connection is closed');
  const ac = new AbortController();
  try {
    await Promise.race([
      once(socket, 'drain', { signal: ac.signal }),
      once(socket, 'close', { signal: ac.signal }).then(() => {
        throw new Error('the connection closed');
      }),
    ]);
  } finally {
    ac.abort();
  }
}
