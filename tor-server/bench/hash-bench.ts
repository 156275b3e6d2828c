/** The `hash` rows of `npm run bench`: sha256 throughput on the server beside a raw read of the same file. */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TftcpClient } from '../src/client/tftcp-client.js';

/** MB/s of a plain sequential read of `file` (read and dropped, 256 KiB chunks, as the server reads). */
export async function rawReadMbps(file: string): Promise<number> {
  const started = performance.now();
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) bytes += (chunk as Buffer).length;
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

/**
 * MB/s of a first (uncached) `hash` of `name`'s bytes, and the ms of a second (cached) one. The
 * bytes are linked under a fresh name, so no earlier round's digest is remembered.
 */
export async function hashOverTftcp(port: number, serverDir: string, name: string, round: number): Promise<{ mbps: number; cachedMs: number }> {
  const fresh = `hash-bench-${round}.bin`;
  await fs.link(path.join(serverDir, name), path.join(serverDir, fresh));
  const { size } = await fs.stat(path.join(serverDir, fresh));
  const client = await TftcpClient.connect({ host: '127.0.0.1', port, replyTimeoutMs: 600_000 });
  try {
    let started = performance.now();
    const first = await client.hash(fresh);
    const ms = performance.now() - started;
    started = performance.now();
    const second = await client.hash(fresh);
    const cachedMs = performance.now() - started;
    if (!first || first !== second) throw new Error(`hash of ${fresh} gave ${first} then ${second}`);
    return { mbps: size / 1e6 / (ms / 1000), cachedMs };
  } finally {
    await client.exit();
    await fs.rm(path.join(serverDir, fresh), { force: true });
  }
}
