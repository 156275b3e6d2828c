import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { TftcpClient } from 'tor-server/client';
import { GatewayError, SIZE_MISMATCH } from '../../errors.js';
import { spoolToFile, type Spooled } from '../spool.js';
import { ChecksumCheck, type Checksum } from './checksum.js';
import { PieceReader } from './pieces.js';

/**
 * Bytes per `put`: a PATCH is sent as puts of this size as its bytes arrive, so a cut one keeps
 * every piece before the cut (and the tor-server keeps what it had written of the piece under
 * way). Each piece costs the server an fsync, hence not smaller.
 */
export const PIECE_BYTES = 8 * 1024 * 1024;

/** One chunk of an upload (a PATCH body, or the body of a POST that creates the upload). */
export interface Chunk {
  id: string;
  offset: number;
  length: number;
  /** The bytes as they arrive. */
  body: AsyncIterable<Buffer>;
}

/**
 * Sends `length` bytes of `chunks` to the upload at `offset`, as `put`s of at most
 * `pieceBytes` each, sent as the bytes arrive, with the socket's backpressure reaching back
 * to the source. A source that ends early cuts the connection (the server keeps what it wrote).
 */
export async function putPieces(client: TftcpClient, chunk: { id: string; offset: number; length: number }, chunks: AsyncIterable<Buffer>, pieceBytes = PIECE_BYTES): Promise<void> {
  const reader = new PieceReader(chunks);
  for (let done = 0; done < chunk.length; ) {
    const length = Math.min(pieceBytes, chunk.length - done);
    await client.put(chunk.id, chunk.offset + done, { length, data: reader.take(length) });
    done += length;
  }
}

// Bytes per read of a spooled chunk: each read is a hand-off to libuv's thread pool and back,
// about 50 µs of the event loop's CPU whatever its size (the default 64 KiB made 128 an 8 MiB chunk).
const SPOOL_READ_BYTES = 1024 * 1024;

/** Where a checksummed chunk waits on the gateway's disk until its digest is known. */
export interface SpoolPlace {
  dir: string;
  reserveBytes: number;
  maxBytes: number;
}

/**
 * Saves a chunk carrying an Upload-Checksum to the spool folder, hashing it on the way, and
 * checks it: 460 (the spool file removed) when it does not match. The checksum covers the
 * whole chunk, so no byte of it may reach the tor-server before the last one is hashed: a
 * `put` is stored for good once answered, and a server-side hash per `put` would not cover
 * a chunk split into several. Bounded by `maxBytes` per chunk and the folder's free space.
 */
export async function spoolChecked(chunk: Chunk, checksum: Checksum, place: SpoolPlace): Promise<Spooled> {
  const check = new ChecksumCheck(checksum);
  const spooled = await spoolToFile(Readable.from(check.through(chunk.body)), place.dir, { maxBytes: place.maxBytes, reserveBytes: place.reserveBytes });
  try {
    if (spooled.size !== chunk.length) {
      throw new GatewayError('GW_ERR_SIZE_MISMATCH', `${SIZE_MISMATCH}: the chunk was announced as ${chunk.length} bytes but ${spooled.size} arrived; nothing of it was stored`);
    }
    check.verify();
  } catch (error) {
    await spooled.remove();
    throw error;
  }
  return spooled;
}

/** The bytes of a spooled chunk, for putPieces; the stream owns its file handle. */
export function spooledBytes(spooled: Spooled): Readable {
  return createReadStream(spooled.path, { highWaterMark: SPOOL_READ_BYTES });
}
