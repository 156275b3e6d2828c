import { createReadStream } from 'node:fs';
import { TftcpClient } from 'tor-server/client';
import { mbps } from './report.js';

const READ_CHUNK_BYTES = 256 * 1024;

/** Downloads `name` over TFTCP from 127.0.0.1:`port`, checking it is `size` bytes; MB/s. */
export async function tftcpDownload(port: number, name: string, size: number): Promise<number> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  const started = performance.now();
  const incoming = await client.download(name);
  let received = 0;
  for await (const chunk of incoming.stream) received += (chunk as Buffer).length;
  const ms = performance.now() - started;
  await client.exit();
  if (received !== size || incoming.size !== size) throw new Error(`TFTCP download of ${name} received ${received} of ${incoming.size} bytes (expected ${size})`);
  return mbps(size, ms);
}

/** Uploads `file` (`size` bytes) over TFTCP to 127.0.0.1:`port` as `name`; MB/s. */
export async function tftcpUpload(port: number, file: string, size: number, name: string): Promise<number> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  const started = performance.now();
  await client.upload(name, size, createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }));
  const ms = performance.now() - started;
  await client.exit();
  return mbps(size, ms);
}
