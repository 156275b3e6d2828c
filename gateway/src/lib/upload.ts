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
 * and throws a 400 size mismatch. The source is never destroyed here: a multipart caller
 * still has to drain it to reach the next part.
 */
export async function uploadExactly(client: TftcpClient, name: string, size: number, source: Readable): Promise<void> {
  let received = 0;
  let mismatch: GatewayError | undefined;
  const fail = (detail: string) => (mismatch = new GatewayError('GW_ERR_SIZE_MISMATCH', errorReply(ErrorKind.SIZE_MISMATCH, detail)));
  const chunks = source.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  async function* counted(): AsyncGenerator<Buffer> {
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

/** Reads a stream to its end and throws the bytes away; never throws. */
export async function drain(source: Readable): Promise<void> {
  try {
    for await (const _ of source.iterator({ destroyOnReturn: false })) {
      // Discarded: the part was refused, the rest of the form still matters.
    }
  } catch {
    // A broken request ends the form anyway; the caller finds out from the parts iterator.
  }
}
