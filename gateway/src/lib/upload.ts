import type { Readable } from 'node:stream';
import type { TftcpClient } from 'tor-server/client';
import { ErrorKind, errorReply } from 'tor-server/protocol';
import { GatewayError } from '../errors.js';

/** Refuses an upload larger than the gateway allows, before any byte is moved. */
export function checkUploadSize(size: number, maxUploadSize: number): void {
  if (size > maxUploadSize) {
    throw new GatewayError('GW_ERR_TOO_LARGE', errorReply(ErrorKind.TOO_LARGE, `${size} bytes, the gateway's limit is ${maxUploadSize} bytes`));
  }
}

/**
 * Streams `source` into a TFTCP upload of `name` announced as `size` bytes. A source with
 * more or fewer bytes than announced cuts the TFTCP connection (so the server keeps nothing)
 * and throws a 400 size mismatch. `onAccepted` runs once the tor-server has accepted the name
 * and the size, just before the first byte is read from `source` (a PUT sends `100 Continue`
 * then). The source is never destroyed here: a multipart caller may still read the next part.
 */
export async function uploadExactly(client: TftcpClient, name: string, size: number, source: Readable, onAccepted?: () => void): Promise<void> {
  let received = 0;
  let mismatch: GatewayError | undefined;
  const fail = (detail: string) => (mismatch = new GatewayError('GW_ERR_SIZE_MISMATCH', errorReply(ErrorKind.SIZE_MISMATCH, detail)));
  const chunks = source.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  async function* counted(): AsyncGenerator<Buffer> {
    // The TFTCP client asks for the first chunk only after both of the server's `ok`s.
    onAccepted?.();
    for (;;) {
      // The TFTCP client stops waiting for this as soon as its connection closes.
      const next = await chunks.next();
      if (next.done) break;
      received += next.value.length;
      if (received > size) throw fail(`${name} was announced as ${size} bytes but more arrived; nothing was stored`);
      yield next.value;
    }
    if (received !== size) throw fail(`${name} was announced as ${size} bytes but ${received} arrived; nothing was stored`);
  }
  try {
    await client.upload(name, size, counted());
  } catch (error) {
    throw mismatch ?? error;
  }
}
