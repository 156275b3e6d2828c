import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { mbps } from './report.js';

const READ_CHUNK_BYTES = 256 * 1024;
const CREATED = 201;

/** POST /api/files as the web app sends it: a `size` field first, then the file part, streamed from disk. MB/s. */
export async function multipartUpload(base: string, file: string, size: number, name: string): Promise<number> {
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n${size}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const started = performance.now();
  const req = http.request(`${base}/api/files`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) },
  });
  const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
  async function* body() {
    yield head;
    yield* createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
    yield tail;
  }
  await pipeline(body, req);
  const [res] = await answered;
  let text = '';
  for await (const chunk of res) text += chunk;
  const ms = performance.now() - started;
  if (res.statusCode !== CREATED) throw new Error(`multipart upload answered ${res.statusCode}: ${text}`);
  return mbps(size, ms);
}
