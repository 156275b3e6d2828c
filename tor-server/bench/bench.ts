/**
 * `npm run bench`: TFTCP throughput and memory on 127.0.0.1, as ratios against a raw TCP
 * baseline measured in the same run (absolute numbers depend on the machine; ratios less so).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Scope, sha256File, spawnTorServer } from 'test-support';
import { crowd, interleaved, log, memoryRow, printTable, ratioRow, rawBaseline, tftcpDownload, tftcpUpload, writeRandomFile, zeroRow, type Row } from 'test-support/bench';
import { TftcpClient } from '../src/client/tftcp-client.js';
import { benchDir } from './bench-dir.js';
import { hashOverTftcp, rawReadMbps } from './hash-bench.js';
import { s3Rows } from './s3-bench.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
const ROUNDS = 2;
const RSS_LIMIT_MB = 150;
const rows: Row[] = [];

async function main(): Promise<void> {
  // Owns the scratch folder and every process the run starts.
  const scope = new Scope();
  try {
    const work = await benchDir(scope);
    const source = path.join(work, 'source.bin');
    log(`writing a ${(SIZE / 1024 ** 2).toFixed(0)} MiB test file`);
    await writeRandomFile(source, SIZE);

    const baseline = await best(() => rawBaseline(source, SIZE, scope));
    rows.push({ name: 'raw TCP baseline (disk → socket → discard)', value: `${baseline.toFixed(0)} MB/s` });

    const serverDir = path.join(work, 'server');
    await fs.mkdir(serverDir);
    await fs.link(source, path.join(serverDir, 'big.bin'));
    const server = await startServerProcess(serverDir, scope);
    const port = server.port;

    const download = await best(() => tftcpDownload(port, 'big.bin', SIZE));
    rows.push(ratioRow('TFTCP download', download, baseline, 0.85));
    const upload = await best(async () => {
      await fs.rm(path.join(serverDir, 'up.bin'), { force: true });
      // Start each round with no dirty pages, so the kernel's write-back of earlier files is not billed to it.
      execFileSync('sync');
      return tftcpUpload(port, source, SIZE, 'up.bin');
    });
    rows.push(ratioRow('TFTCP upload (fsync included)', upload, baseline, 0.6));
    const stored = await sha256File(path.join(serverDir, 'up.bin'));
    if (stored !== (await sha256File(source))) throw new Error('the uploaded file differs from the source');

    log('hash beside a raw read of the same file');
    const rawRead = await best(() => rawReadMbps(path.join(serverDir, 'big.bin')));
    rows.push({ name: 'raw sequential read (disk → discard)', value: `${rawRead.toFixed(0)} MB/s` });
    let round = 0;
    let cachedMs = Infinity;
    const hashed = await best(async () => {
      const result = await hashOverTftcp(port, serverDir, 'big.bin', round++);
      cachedMs = Math.min(cachedMs, result.cachedMs);
      return result.mbps;
    });
    rows.push({ name: 'hash (sha256 on the server, first time)', value: `${hashed.toFixed(0)} MB/s`, ratio: (hashed / rawRead).toFixed(2) });
    rows.push({ name: 'hash again (cached, unchanged file)', value: `${cachedMs.toFixed(1)} ms` });

    rows.push(memoryRow('server peak RSS after the transfers', await server.peakRss(), RSS_LIMIT_MB));

    log('show over 10,000 files');
    const manyDir = path.join(work, 'many');
    await fs.mkdir(manyDir);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => fs.writeFile(path.join(manyDir, `file-${String(i + j).padStart(5, '0')}.txt`), 'x')));
    }
    const many = await startServerProcess(manyDir, scope);
    const showMs = await timeShow(many.port);
    rows.push({ name: 'show over 10,000 files (median of 5)', value: `${showMs.toFixed(0)} ms` });
    await many.stop();

    log('200 concurrent clients, 1 MiB up and down each');
    const crowdServer = await startServerProcess(await fs.mkdtemp(path.join(work, 'crowd-')), scope);
    const crowded = await crowdRun(crowdServer.port, 200, 1024 * 1024);
    rows.push(zeroRow('200 clients × 1 MiB up + down', crowded.errors, crowded.ms));
    rows.push(memoryRow('server peak RSS with the 200 clients', await crowdServer.peakRss(), RSS_LIMIT_MB));
    await crowdServer.stop();

    rows.push(...(await s3Rows(source, SIZE, await fs.mkdtemp(path.join(work, 's3-work-')), scope, RSS_LIMIT_MB)));
  } finally {
    await scope.close();
  }
  printTable(`tor-server bench (${(SIZE / 1024 ** 2).toFixed(0)} MiB file, 127.0.0.1, ${os.cpus().length} cores)`, rows, `ratios: against the raw TCP baseline; best of ${ROUNDS} rounds`);
}

/** Runs a throughput measurement ROUNDS times and keeps the best (the least disturbed) result. */
async function best(measure: () => Promise<number>): Promise<number> {
  const [top] = await interleaved(ROUNDS, [measure]);
  return top;
}

async function timeShow(port: number): Promise<number> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const files = await client.show();
    times.push(performance.now() - started);
    if (files.length !== 10_000) throw new Error(`show listed ${files.length} files`);
  }
  await client.exit();
  return times.sort((a, b) => a - b)[2]!;
}

/** Each client uploads `bytes` and downloads them again, all at once. */
function crowdRun(port: number, clients: number, bytes: number): Promise<{ errors: number; ms: number }> {
  return crowd(clients, async (i) => {
    const data = randomBytes(bytes);
    const client = await TftcpClient.connect({ host: '127.0.0.1', port });
    await client.upload(`crowd-${i}.bin`, data.length, [data]);
    const { stream } = await client.download(`crowd-${i}.bin`);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    await client.exit();
    if (!Buffer.concat(chunks).equals(data)) throw new Error(`crowd-${i}.bin came back different`);
  });
}

/** The built server on a free port, with room for the crowd's clients from 127.0.0.1. */
function startServerProcess(dir: string, scope: Scope) {
  return spawnTorServer(scope, { dir, args: ['--log-level', 'warn', '--max-clients-per-address', '1000'] });
}

await main();
