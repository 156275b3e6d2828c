/**
 * Latency of `GET` with a 64 KiB `Range` in the middle of a large file in a folder of 10,000
 * files, through the gateway: one request at a time on a kept-alive HTTP connection, as a
 * video player or a resumed download would make them. Used by bench.ts; also runs alone
 * (`node --import tsx bench/range-latency.ts`) against the built tor-server and gateway
 * (dist/), so the same figure can be taken on another checkout (copy this file and
 * processes.ts there).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess } from './processes.js';

export const RANGE_BYTES = 64 * 1024;
export const FOLDER_FILES = 10_000;
const WARMUP = 50;
const ROUNDS = 1000;

/** Fills `dir` with `count` small files beside whatever it holds. */
export async function fillFolder(dir: string, count = FOLDER_FILES): Promise<void> {
  const BATCH = 500;
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => fs.writeFile(path.join(dir, `filler-${String(i + j).padStart(5, '0')}.txt`), 'x')));
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
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]! };
}

function get(url: string, range: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { range } }, (res) => {
        if (res.statusCode !== 206) reject(new Error(`expected 206, got ${res.statusCode}`));
        let length = 0;
        res.on('data', (chunk: Buffer) => (length += chunk.length));
        res.on('end', () => resolve(length));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function main(): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const torBin = path.resolve(here, '../../tor-server/dist/bin/tor-server.js');
  const gatewayBin = path.resolve(here, '../dist/main.js');
  if (!existsSync(torBin) || !existsSync(gatewayBin)) throw new Error('build first: npm run build -w tor-server && npm run build -w gateway');
  const size = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
  const work = await fs.mkdtemp(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'range-bench-'));
  const children: ChildProcess[] = [];
  try {
    const dir = path.join(work, 'files');
    await fs.mkdir(dir);
    // Sparse: the bytes are read from the page cache either way; what is measured is the path to them.
    await fs.truncate(await touch(path.join(dir, 'big.bin')), size);
    await fillFolder(dir);
    await fs.writeFile(path.join(work, 'index.html'), '<!doctype html><title>bench</title>');
    const tor = await startProcess(children, torBin, ['--host', '127.0.0.1', '--port', '0', '--dir', dir, '--log-level', 'warn'], /listening on [^\s]+:(\d+),/);
    const gateway = await startProcess(children, gatewayBin, ['--host', '127.0.0.1', '--port', '0', '--tor-port', String(tor.port), '--web-dir', work], /listening on http:\/\/[^\s]+:(\d+) /);
    const { median, p99 } = await rangeLatency(`http://127.0.0.1:${gateway.port}/api/files/big.bin`, size);
    process.stdout.write(`GET of a 64 KiB range mid-file (${(size / 1024 ** 3).toFixed(2)} GiB file, ${FOLDER_FILES} files in the folder), ${ROUNDS} requests one at a time: median ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms\n`);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function touch(file: string): Promise<string> {
  await fs.writeFile(file, '');
  return file;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
