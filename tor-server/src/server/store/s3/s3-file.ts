import { GetObjectCommand } from '@aws-sdk/client-s3';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoreError, type StoredFile } from '../store.js';
import type { S3Bucket } from './s3-bucket.js';
import { isPreconditionFailed, s3StoreError } from './s3-errors.js';

// Bytes of a download buffered between the engine and the client's socket.
const READ_BUFFER_BYTES = 1024 * 1024;
// Body chunks (socket reads, 64 KiB at most) handed on at a time: one. A byte-mode stream's
// read() would join every chunk buffered meanwhile into one new buffer, a copy of each byte
// whenever the engine is ahead of the client (measured: a 1 GiB download's user CPU up to 3x).
const READ_AHEAD_CHUNKS = 1;

/**
 * An object opened for reading: its size and ETag as the HEAD saw them. Reads are ranged GETs
 * that must match that ETag (If-Match), so a file replaced meanwhile fails the read rather than
 * mixing two files' bytes. Holds nothing open until {@link read}.
 */
export class S3StoredFile implements StoredFile {
  readonly size: number;
  readonly version: string;
  readonly sha256: string | undefined;
  readonly #bucket: S3Bucket;
  readonly #name: string;
  #used = false;

  constructor(bucket: S3Bucket, name: string, head: { size: number; etag: string; sha256: string | undefined }) {
    this.#bucket = bucket;
    this.#name = name;
    this.size = head.size;
    this.version = head.etag;
    this.sha256 = head.sha256;
  }

  /**
   * The GET's body as a stream, piped with backpressure: a slow client leaves the body paused,
   * so the engine's connection waits too. Destroying the stream ends the GET (before or after
   * its answer came).
   */
  read(offset: number, count: number): Readable {
    if (this.#used) throw new Error('the file was already read or closed');
    this.#used = true;
    if (count === 0) return Readable.from([]);
    const bucket = this.#bucket;
    const name = this.#name;
    const out = new PassThrough({ writableHighWaterMark: READ_BUFFER_BYTES, readableObjectMode: true, readableHighWaterMark: READ_AHEAD_CHUNKS });
    const stop = new AbortController();
    out.once('close', () => stop.abort());
    const ifMatch = this.version === '' ? {} : { IfMatch: `"${this.version}"` };
    bucket.client
      .send(new GetObjectCommand({ Bucket: bucket.bucket, Key: bucket.key(name), Range: `bytes=${offset}-${offset + count - 1}`, ...ifMatch }), { abortSignal: stop.signal })
      .then(
        // pipeline destroys the body when `out` is destroyed, and `out` when the body fails.
        (got) => {
          bucket.note();
          // A client that went away cuts the body too: only the engine's own failures count.
          pipeline(got.Body as Readable, out).catch((error: unknown) => {
            if (!stop.signal.aborted && (error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') bucket.note(error);
          });
        },
        (error: unknown) => {
          const replaced = isPreconditionFailed(error);
          if (!replaced && !stop.signal.aborted) bucket.note(error);
          out.destroy(replaced ? new StoreError('unavailable', `read ${name}: it was replaced while being read`, { reason: 'the file was replaced' }) : s3StoreError(error, `read ${name}`));
        },
      );
    return out;
  }

  /** The sha256 in the object's tags for this version (a large upload's, known only after its bytes went up). */
  async keptSha256(): Promise<string | undefined> {
    if (this.sha256 !== undefined) return this.sha256;
    return this.#bucket.taggedSha256(this.#name, this.version).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#used = true;
  }
}

