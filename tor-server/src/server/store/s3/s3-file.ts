import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { StoredFile } from '../store.js';
import type { S3Bucket } from './s3-bucket.js';
import { isPreconditionFailed, s3StoreError } from './s3-errors.js';

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
   * The GET's body as a stream, pulled as the consumer reads: a slow client leaves the body
   * paused, so the engine's connection waits too (backpressure end to end). Destroying the
   * stream destroys the body.
   */
  read(offset: number, count: number): Readable {
    if (this.#used) throw new Error('the file was already read or closed');
    this.#used = true;
    if (count === 0) return Readable.from([]);
    const bucket = this.#bucket;
    const name = this.#name;
    const etag = this.version;
    async function* chunks(): AsyncGenerator<Buffer> {
      let body: Readable | undefined;
      try {
        const got = await bucket.client.send(
          new GetObjectCommand({ Bucket: bucket.bucket, Key: bucket.key(name), Range: `bytes=${offset}-${offset + count - 1}`, ...(etag !== '' && { IfMatch: `"${etag}"` }) }),
        );
        body = got.Body as Readable;
        for await (const chunk of body) yield chunk as Buffer;
      } catch (error) {
        if (isPreconditionFailed(error)) throw s3StoreError(Object.assign(new Error('replaced'), { name: 'ObjectChanged' }), `read ${name}: it was replaced while being read`);
        throw s3StoreError(error, `read ${name}`);
      } finally {
        body?.destroy();
      }
    }
    return Readable.from(chunks(), { objectMode: false, highWaterMark: 256 * 1024 });
  }

  async close(): Promise<void> {
    this.#used = true;
  }
}
