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

export interface SpoolLimits {
  /** Refuse (413) past this many bytes. */
  maxBytes: number;
  /** Refuse (507) when the spool folder would have less than this many bytes free. */
  reserveBytes: number;
}

/** The free space of the spool folder is looked at again after this many bytes. */
const SPACE_CHECK_BYTES = 8 * 1024 * 1024;

/** Free bytes for an unprivileged user in the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const { bavail, bsize } = await fs.statfs(dir);
  return bavail * bsize;
}

/**
 * Saves `source` to a private temporary file in `dir`, refusing once it passes `maxBytes`
 * (413) or would leave less than `reserveBytes` free in the folder (507, as the tor-server
 * words a full disk); a refused spool file is removed. Used for multipart parts that came
 * without a size hint, since a TFTCP upload must announce its size first. Other uploads
 * spooling at the same time show up in the free space, which is re-read as the file grows.
 */
export async function spoolToFile(source: Readable, dir: string, limits: SpoolLimits): Promise<Spooled> {
  const file = path.join(dir, `tor-gateway-${randomBytes(12).toString('hex')}.part`);
  const remove = () => fs.rm(file, { force: true }).catch(() => {});
  let size = 0;
  // Bytes this file may still grow by before the free space is read again.
  let room = 0;
  const checkSpace = async () => {
    room = Math.min(SPACE_CHECK_BYTES, (await freeBytes(dir)) - limits.reserveBytes);
  };
  async function* bounded(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      size += chunk.length;
      if (size > limits.maxBytes) {
        throw new GatewayError('GW_ERR_TOO_LARGE', errorReply(ErrorKind.TOO_LARGE, `more than the gateway's limit of ${limits.maxBytes} bytes`));
      }
      if (chunk.length > room) await checkSpace();
      if (chunk.length > room) {
        throw new GatewayError('GW_ERR_NO_SPACE', errorReply(ErrorKind.NO_SPACE, `the gateway's spool folder has no room for this file (${size} bytes so far)`));
      }
      room -= chunk.length;
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
