/**
 * `npm run bench`: TFTCP throughput and memory on 127.0.0.1, as ratios against a raw TCP
 * baseline measured in the same run (absolute numbers depend on the machine; ratios less so).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TftcpClient } from '../src/client/tftcp-client.js';
import { hashOverTftcp, rawReadMbps } from './hash-bench.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
const ROUNDS = 2;
const SERVER_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/bin/tor-server.js');

interface Row {
  name: string;
  value: string;
  ratio?: string;
  target?: string;
  verdict?: 'ok' | 'MISS';
}
const rows: Row[] = [];
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'tor-bench-'));
  const children: ChildProcess[] = [];
  try {
    const source = path.join(work, 'source.bin');
    log(`writing a ${(SIZE / 1024 ** 2).toFixed(0)} MiB test file`);
    await writeRandomFile(source, SIZE);

    const baseline = await best(() => rawBaseline(source, children));
    rows.push({ name: 'raw TCP baseline (disk → socket → discard)', value: `${baseline.toFixed(0)} MB/s` });

    const serverDir = path.join(work, 'server');
    await fs.mkdir(serverDir);
    await fs.link(source, path.join(serverDir, 'big.bin'));
    const server = await startServerProcess(serverDir, children);
    const port = server.port;

    const download = await best(() => tftcpDownload(port));
    rows.push(ratioRow('TFTCP download', download, baseline, 0.85));
    const upload = await best(async () => {
      await fs.rm(path.join(serverDir, 'up.bin'), { force: true });
      // Start each round with no dirty pages, so the kernel's write-back of earlier files is not billed to it.
      execFileSync('sync');
      return tftcpUpload(port, source, 'up.bin');
    });
    rows.push(ratioRow('TFTCP upload (fsync included)', upload, baseline, 0.6));
    const stored = await sha256(path.join(serverDir, 'up.bin'));
    if (stored !== (await sha256(source))) throw new Error('the uploaded file differs from the source');

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

    const transferRss = peakRssMb(server.child);
    rows.push({ name: 'server peak RSS after the transfers', value: `${transferRss.toFixed(0)} MB`, target: '< 150 MB', verdict: transferRss < 150 ? 'ok' : 'MISS' });

    log('show over 10,000 files');
    const manyDir = path.join(work, 'many');
    await fs.mkdir(manyDir);
    for (let i = 0; i < 10_000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, j) => fs.writeFile(path.join(manyDir, `file-${String(i + j).padStart(5, '0')}.txt`), 'x')));
    }
    const many = await startServerProcess(manyDir, children);
    const showMs = await timeShow(many.port);
    rows.push({ name: 'show over 10,000 files (median of 5)', value: `${showMs.toFixed(0)} ms` });
    many.child.kill();

    log('200 concurrent clients, 1 MiB up and down each');
    const crowdServer = await startServerProcess(await fs.mkdtemp(path.join(work, 'crowd-')), children);
    const crowd = await crowdRun(crowdServer.port, 200, 1024 * 1024);
    rows.push({ name: '200 clients × 1 MiB up + down', value: `${crowd.errors} errors in ${(crowd.ms / 1000).toFixed(1)} s`, target: '0 errors', verdict: crowd.errors === 0 ? 'ok' : 'MISS' });

    const crowdRss = peakRssMb(crowdServer.child);
    rows.push({ name: 'server peak RSS with the 200 clients', value: `${crowdRss.toFixed(0)} MB`, target: '< 150 MB', verdict: crowdRss < 150 ? 'ok' : 'MISS' });
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await fs.rm(work, { recursive: true, force: true });
  }
  printTable();
}

function ratioRow(name: string, value: number, baseline: number, target: number): Row {
  const ratio = value / baseline;
  return { name, value: `${value.toFixed(0)} MB/s`, ratio: ratio.toFixed(2), target: `≥ ${target}`, verdict: ratio >= target ? 'ok' : 'MISS' };
}

/** Runs a throughput measurement ROUNDS times and keeps the best (the least disturbed) result. */
async function best(measure: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let i = 0; i < ROUNDS; i++) top = Math.max(top, await measure());
  return top;
}

/** A child process pipes the file into a plain socket; this process counts and drops the bytes. */
async function rawBaseline(file: string, children: ChildProcess[]): Promise<number> {
  const receiver = net.createServer();
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const { port } = receiver.address() as net.AddressInfo;
  const sender = spawn(process.execPath, [
    '-e',
    `const s=require('net').connect(${port},'127.0.0.1',()=>require('fs').createReadStream(${JSON.stringify(file)},{highWaterMark:256*1024}).pipe(s))`,
  ]);
  children.push(sender);
  const [socket] = (await once(receiver, 'connection')) as [net.Socket];
  // Timed from the connection on, so the sender's process start-up does not count.
  const started = performance.now();
  let received = 0;
  socket.on('data', (chunk: Buffer) => (received += chunk.length));
  await once(socket, 'end');
  const ms = performance.now() - started;
  receiver.close();
  if (received !== SIZE) throw new Error(`baseline received ${received} bytes`);
  return mbps(SIZE, ms);
}

async function tftcpDownload(port: number): Promise<number> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  const started = performance.now();
  const { size, stream } = await client.download('big.bin');
  let received = 0;
  for await (const chunk of stream) received += (chunk as Buffer).length;
  const ms = performance.now() - started;
  await client.exit();
  if (received !== size || size !== SIZE) throw new Error(`download received ${received} of ${size}`);
  return mbps(SIZE, ms);
}

async function tftcpUpload(port: number, file: string, name: string): Promise<number> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  const started = performance.now();
  await client.upload(name, SIZE, createReadStream(file, { highWaterMark: 256 * 1024 }));
  const ms = performance.now() - started;
  await client.exit();
  return mbps(SIZE, ms);
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

async function crowdRun(port: number, clients: number, bytes: number): Promise<{ errors: number; ms: number }> {
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: clients }, async (_, i) => {
      const data = randomBytes(bytes);
      const client = await TftcpClient.connect({ host: '127.0.0.1', port });
      await client.upload(`crowd-${i}.bin`, data.length, [data]);
      const { stream } = await client.download(`crowd-${i}.bin`);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      await client.exit();
      if (!Buffer.concat(chunks).equals(data)) throw new Error(`crowd-${i}.bin came back different`);
    }),
  );
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  for (const failure of failures.slice(0, 3)) log(`  error: ${(failure.reason as Error).message}`);
  return { errors: failures.length, ms: performance.now() - started };
}

async function startServerProcess(dir: string, children: ChildProcess[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [SERVER_BIN, '--host', '127.0.0.1', '--port', '0', '--dir', dir, '--log-level', 'warn', '--max-clients-per-address', '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let output = '';
  // destroyOnReturn false: the server's stdout must stay open after the listening line is found.
  for await (const chunk of child.stdout!.iterator({ destroyOnReturn: false })) {
    output += chunk;
    const match = /listening on [^\s]+:(\d+),/.exec(output);
    if (match) {
      child.stdout!.resume();
      return { child, port: Number(match[1]) };
    }
  }
  throw new Error(`tor-server did not start: ${output}`);
}

/** VmHWM: the most memory the process ever had resident. Read while the child is alive. */
function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function writeRandomFile(file: string, size: number): Promise<void> {
  const handle = await fs.open(file, 'w');
  // Random but cheap: one random MiB, varied per block so nothing compresses or dedups.
  const block = randomBytes(1024 * 1024);
  try {
    for (let written = 0, i = 0; written < size; i++) {
      block.writeUInt32LE(i, 0);
      const n = Math.min(block.length, size - written);
      await handle.write(block, 0, n);
      written += n;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

function printTable(): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\ntor-server bench (${(SIZE / 1024 ** 2).toFixed(0)} MiB file, 127.0.0.1, ${os.cpus().length} cores)`);
  for (const r of rows) {
    const ratio = r.ratio ? `ratio ${r.ratio}` : '';
    console.log(`  ${r.name.padEnd(width)}  ${r.value.padStart(14)}  ${ratio.padEnd(11)} ${r.target ? `target ${r.target}` : ''} ${r.verdict ?? ''}`.trimEnd());
  }
}

await main();
