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
 * and throws the client's TftcpSizeMismatchError, a 400 size mismatch once asGatewayError has
 * mapped it. `onAccepted` runs once the tor-server has accepted the name and the size, just
 * before the first byte is read from `source` (a PUT sends `100 Continue` then). The source is
 * never destroyed here: a multipart caller may still read the next part.
 */
export async function uploadExactly(client: TftcpClient, name: string, size: number, source: Readable, onAccepted?: () => void): Promise<void> {
  await client.upload(name, size, source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>, { onAccepted });
}
