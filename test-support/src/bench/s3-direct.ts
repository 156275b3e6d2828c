/** The S3 rows' references: the SDK's own GetObject and PutObject, with nothing in between. */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { S3Engine } from '../s3.js';
import { mbps } from './report.js';

const READ_CHUNK_BYTES = 1024 * 1024;

/** GetObject of `key`, its body counted and dropped, checking it is `size` bytes; MB/s. */
export async function directGet(engine: S3Engine, bucket: string, key: string, size: number): Promise<number> {
  const started = performance.now();
  const got = await engine.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  let received = 0;
  for await (const chunk of got.Body as Readable) received += (chunk as Buffer).length;
  if (received !== size) throw new Error(`GetObject gave ${received} of ${size} bytes`);
  return mbps(size, performance.now() - started);
}

/** PutObject of `file` (`size` bytes) as `key`, streamed; MB/s. */
export async function directPut(engine: S3Engine, bucket: string, key: string, file: string, size: number): Promise<number> {
  const started = performance.now();
  await engine.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }), ContentLength: size }));
  return mbps(size, performance.now() - started);
}
