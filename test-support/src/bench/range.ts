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

/** Median and 99th percentile of `rounds` ranged GETs of `url` (a file of `size` bytes), in ms. */
export async function rangeLatency(url: string, size: number, rounds = ROUNDS): Promise<{ median: number; p99: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const start = Math.floor(size / 2);
  const range = `bytes=${start}-${start + RANGE_BYTES - 1}`;
  const times: number[] = [];
  try {
    for (let i = 0; i < WARMUP + rounds; i++) {
      const began = performance.now();
      const length = await get(url, range, agent);
      if (length !== RANGE_BYTES) throw new Error(`a range answer had ${length} bytes, not ${RANGE_BYTES}`);
      if (i >= WARMUP) times.push(performance.now() - began);
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

function get(url: string, range: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { range } }, (res) => {
        if (res.statusCode !== PARTIAL_CONTENT) reject(new Error(`expected ${PARTIAL_CONTENT}, got ${res.statusCode}`));
        let length = 0;
        res.on('data', (chunk: Buffer) => (length += chunk.length));
        res.on('end', () => resolve(length));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
