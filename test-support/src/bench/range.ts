/**
 * Latency of `GET` with a 64 KiB `Range` in the middle of a large file in a folder of 10,000
 * files: one request at a time on a kept-alive HTTP connection, as a video player or a resumed
 * download makes them.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

export const RANGE_BYTES = 64 * 1024;
export const FOLDER_FILES = 10_000;
const WARMUP = 50;
const ROUNDS = 1000;
const FILL_BATCH = 500;
const PARTIAL_CONTENT = 206;

/** Fills `dir` with `count` one-byte files beside whatever it holds. */
export async function fillFolder(dir: string, count = FOLDER_FILES): Promise<void> {
  for (let i = 0; i < count; i += FILL_BATCH) {
    await Promise.all(Array.from({ length: Math.min(FILL_BATCH, count - i) }, (_, j) => fs.writeFile(path.join(dir, `filler-${String(i + j).padStart(5, '0')}.txt`), 'x')));
  }
}

/**
 * Median and 99th percentile of `rounds` ranged GETs of `url` (a file of `size` bytes), in ms.
 * With `expected` (the bytes of that range, read from the file), every answer is compared with it.
 */
export async function rangeLatency(url: string, size: number, rounds = ROUNDS, expected?: Buffer): Promise<{ median: number; p99: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const { start } = middleRange(size);
  const range = `bytes=${start}-${start + RANGE_BYTES - 1}`;
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP + rounds; i++) {
      const began = performance.now();
      const body = await get(url, range, agent);
      if (i >= WARMUP) times.push(performance.now() - began);
      if (body.length !== RANGE_BYTES) throw new Error(`a range answer had ${body.length} bytes, not ${RANGE_BYTES}`);
      if (expected && !body.equals(expected)) throw new Error(`a range answer of ${url} holds other bytes than the file at ${range}`);
    }
  } finally {
    agent.destroy();
  }
  return { median: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/** The `fraction` percentile (0.5: the median) of some figures, by the nearest rank. */
export function percentile(values: number[], fraction: number): number {
  if (values.length === 0) throw new Error('no figures to take a percentile of');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

/** The 64 KiB range the latency row asks for: from the middle of a file of `size` bytes. */
export function middleRange(size: number): { start: number; length: number } {
  return { start: Math.floor(size / 2), length: RANGE_BYTES };
}

function get(url: string, range: string, agent: http.Agent): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { range } }, (res) => {
        if (res.statusCode !== PARTIAL_CONTENT) reject(new Error(`expected ${PARTIAL_CONTENT}, got ${res.statusCode}`));
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
