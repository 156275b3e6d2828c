import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorKind, errorReply } from 'tor-server/protocol';
import { GatewayError } from '../errors.js';

/** A file body saved on the gateway's disk until its size is known. */
export interface Spooled {
  path: string;
  size: number;
  /** Deletes the spool file; never throws. */
  remove(): Promise<void>;
}

/**
 * Saves `source` to a private temporary file in `dir`, refusing (413, file removed) once it
 * passes `maxBytes`. Used for multipart parts that came without a size hint, since a TFTCP
 * upload must announce its size first.
 */
export async function spoolToFile(source: Readable, dir: string, maxBytes: number): Promise<Spooled> {
  const file = path.join(dir, `tor-gateway-${randomBytes(12).toString('hex')}.part`);
  const remove = () => fs.rm(file, { force: true }).catch(() => {});
  let size = 0;
  async function* bounded(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new GatewayError('GW_ERR_TOO_LARGE', errorReply(ErrorKind.TOO_LARGE, `more than the gateway's limit of ${maxBytes} bytes`));
      }
      yield chunk;
    }
  }
  try {
    // flags 'wx' and mode 0600: a fresh file only this user can read.
    await pipeline(source.iterator({ destroyOnReturn: false }), bounded, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await remove();
    throw error;
  }
  return { path: file, size, remove };
}
