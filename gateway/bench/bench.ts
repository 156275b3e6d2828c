/**
 * `npm run bench -w gateway`: the gateway's HTTP download and multipart upload beside direct
 * TFTCP on 127.0.0.1 (as ratios), the gateway's peak RSS, 100 concurrent WebSocket sessions,
 * and nginx serving the same file as an outside reference. One run; temp files removed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { TftcpClient } from 'tor-server/client';
import WebSocket from 'ws';
import type { WsServerMessage } from '../src/ws/messages.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
const DOWNLOAD_ROUNDS = 3;
const UPLOAD_ROUNDS = 2;
const SESSIONS = 100;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOR_SERVER_BIN = path.resolve(HERE, '../../tor-server/dist/bin/tor-server.js');
const GATEWAY_BIN = path.resolve(HERE, '../dist/main.js');
const NGINX = '/usr/sbin/nginx';
// As scripts/start.mjs runs the gateway (see the note in src/main.ts).
const GATEWAY_NODE_FLAGS = ['--initial-heap-size=64'];

interface Row {
  name: string;
  value: string;
  ratio?: string;
  target?: string;
  verdict?: 'ok' | 'MISS';
}
const rows: Row[] = [];
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

async function main(): Promise<void> {
  if (!existsSync(GATEWAY_BIN) || !existsSync(TOR_SERVER_BIN)) throw new Error('build first: npm run build -w tor-server && npm run build -w gateway');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'gateway-bench-'));
  const children: ChildProcess[] = [];
  try {
    const serverDir = path.join(work, 'server');
    await fs.mkdir(serverDir);
    const source = path.join(serverDir, 'big.bin');
    log(`writing a ${(SIZE / 1024 ** 2).toFixed(0)} MiB test file`);
    await writeRandomFile(source, SIZE);
    const sourceHash = await sha256File(source);

    const tor = await startProcess(children, TOR_SERVER_BIN, ['--host', '127.0.0.1', '--port', '0', '--dir', serverDir, '--log-level', 'warn'], /listening on [^\s]+:(\d+),/);
    const webDir = path.join(work, 'web');
    await fs.mkdir(webDir);
    await fs.writeFile(path.join(webDir, 'index.html'), '<!doctype html><title>bench</title>');
    const gateway = await startProcess(
      children,
      GATEWAY_BIN,
      ['--host', '127.0.0.1', '--port', '0', '--tor-port', String(tor.port), '--web-dir', webDir, '--max-upload-size', String(SIZE * 2)],
      /listening on http:\/\/[^\s]+:(\d+) /,
      GATEWAY_NODE_FLAGS,
    );
    const base = `http://127.0.0.1:${gateway.port}`;

    log('downloads: direct TFTCP and through the gateway, rounds interleaved');
    const [directDown, gatewayDown] = await interleaved(DOWNLOAD_ROUNDS, [() => tftcpDownload(tor.port), () => httpDownload(`${base}/api/files/big.bin`)]);
    rows.push({ name: 'direct TFTCP download', value: `${directDown.toFixed(0)} MB/s` });
    rows.push(ratioRow('gateway HTTP download', gatewayDown, directDown, 0.7));

    log('uploads (fsync included): direct TFTCP and multipart with a size hint through the gateway, interleaved');
    let round = 0;
    const [directUp, gatewayUp] = await interleaved(UPLOAD_ROUNDS, [
      () => {
        // No dirty pages left from the round before, so its write-back is not billed to this one.
        execFileSync('sync');
        return tftcpUpload(tor.port, source, `direct-${round++}.bin`);
      },
      () => {
        execFileSync('sync');
        return multipartUpload(base, source, `gateway-${round++}.bin`);
      },
    ]);
    rows.push({ name: 'direct TFTCP upload', value: `${directUp.toFixed(0)} MB/s` });
    rows.push(ratioRow('gateway multipart upload (size hint)', gatewayUp, directUp, 0.6));
    if ((await sha256File(path.join(serverDir, `gateway-${round - 1}.bin`))) !== sourceHash) throw new Error('the file uploaded through the gateway differs');
    for (const name of await fs.readdir(serverDir)) if (name !== 'big.bin' && !name.startsWith('.')) await fs.rm(path.join(serverDir, name));

    log(`${SESSIONS} concurrent WebSocket sessions, show + search each`);
    const crowd = await wsCrowd(base, SESSIONS);
    rows.push({ name: `${SESSIONS} WebSocket sessions × (show + search)`, value: `${crowd.errors} errors in ${(crowd.ms / 1000).toFixed(2)} s`, target: '0 errors', verdict: crowd.errors === 0 ? 'ok' : 'MISS' });

    const rss = peakRssMb(gateway.child);
    rows.push({ name: 'gateway peak RSS (VmHWM, whole run)', value: `${rss.toFixed(0)} MB`, target: '< 200 MB', verdict: rss < 200 ? 'ok' : 'MISS' });

    if (existsSync(NGINX)) {
      log('nginx serving the same file');
      const nginxPort = await startNginx(children, work, serverDir);
      const [nginxDown] = await interleaved(DOWNLOAD_ROUNDS, [() => httpDownload(`http://127.0.0.1:${nginxPort}/big.bin`)]);
      rows.push({ name: 'nginx HTTP download (reference)', value: `${nginxDown.toFixed(0)} MB/s`, ratio: (nginxDown / directDown).toFixed(2) });
    } else {
      rows.push({ name: 'nginx HTTP download (reference)', value: 'nginx not installed' });
    }
  } finally {
    await Promise.all(children.map(stop));
    await fs.rm(work, { recursive: true, force: true });
  }
  printTable();
}

/** SIGTERM (nginx's master then takes its workers down with it), SIGKILL if that does not do it. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function ratioRow(name: string, value: number, direct: number, target: number): Row {
  const ratio = value / direct;
  return { name, value: `${value.toFixed(0)} MB/s`, ratio: ratio.toFixed(2), target: `≥ ${target}`, verdict: ratio >= target ? 'ok' : 'MISS' };
}

/**
 * Runs each measurement `rounds` times, alternating them so both see the same machine (disk
 * write-back, other load), and keeps the best (least disturbed) result of each.
 */
async function interleaved<T extends (() => Promise<number>)[]>(rounds: number, measures: [...T]): Promise<{ [K in keyof T]: number }> {
  const top = measures.map(() => 0);
  for (let i = 0; i < rounds; i++) {
    for (const [j, measure] of measures.entries()) top[j] = Math.max(top[j]!, await measure());
  }
  return top as { [K in keyof T]: number };
}

async function tftcpDownload(port: number): Promise<number> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  const started = performance.now();
  const { size, stream } = await client.download('big.bin');
  let received = 0;
  for await (const chunk of stream) received += (chunk as Buffer).length;
  const ms = performance.now() - started;
  await client.exit();
  if (received !== size || size !== SIZE) throw new Error(`direct download received ${received} of ${size}`);
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

/**
 * GET over a bare socket, counting the body bytes: as lean a consumer as the TFTCP client in
 * the direct measurement, so the figure is the server's, not Node's HTTP client's.
 */
async function httpDownload(url: string): Promise<number> {
  const { hostname, port, pathname } = new URL(url);
  const started = performance.now();
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
  let head = Buffer.alloc(0);
  let body = -1;
  let length = -1;
  for await (const chunk of socket as AsyncIterable<Buffer>) {
    if (body >= 0) {
      body += chunk.length;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) continue;
    const headers = head.subarray(0, end).toString('latin1');
    if (!/^HTTP\/1\.1 200 /.test(headers)) throw new Error(`GET ${url} answered ${headers.split('\r\n')[0]}`);
    length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? -1);
    body = head.length - end - 4;
  }
  const ms = performance.now() - started;
  if (body !== SIZE || length !== SIZE) throw new Error(`GET ${url} received ${body} of ${length} bytes`);
  return mbps(SIZE, ms);
}

/** POST /api/files as the web app sends it: a `size` field, then the file part, streamed from disk. */
async function multipartUpload(base: string, file: string, name: string): Promise<number> {
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n${SIZE}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const started = performance.now();
  const req = http.request(`${base}/api/files`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + SIZE + tail.length) },
  });
  const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
  async function* body() {
    yield head;
    yield* createReadStream(file, { highWaterMark: 256 * 1024 });
    yield tail;
  }
  await pipeline(body, req);
  const [res] = await answered;
  let text = '';
  for await (const chunk of res) text += chunk;
  const ms = performance.now() - started;
  if (res.statusCode !== 201) throw new Error(`multipart upload answered ${res.statusCode}: ${text}`);
  return mbps(SIZE, ms);
}

/** Opens `count` sockets at once; each waits for its upstream, runs show and search, and closes. */
async function wsCrowd(base: string, count: number): Promise<{ errors: number; ms: number }> {
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: count }, () => wsSession(base.replace(/^http/, 'ws') + '/api/ws')));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  for (const failure of failures.slice(0, 3)) log(`  error: ${(failure.reason as Error).message}`);
  return { errors: failures.length, ms: performance.now() - started };
}

function wsSession(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => fail(new Error('no answer within 30 s')), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.terminate();
      reject(error);
    };
    const answered = new Set<number>();
    socket.on('error', fail);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as WsServerMessage;
      if ('event' in message) {
        if (message.event !== 'upstream') return;
        if (!message.connected) return fail(new Error('the gateway reported the tor-server unreachable'));
        socket.send(JSON.stringify({ id: 1, command: 'show' }));
        socket.send(JSON.stringify({ id: 2, command: 'search', text: 'big' }));
        return;
      }
      if (!message.ok) return fail(new Error(`request ${message.id} failed: ${message.error}`));
      if (message.id === 2 && message.files.length !== 1) return fail(new Error(`search found ${message.files.length} files`));
      answered.add(message.id);
      if (answered.size === 2) {
        clearTimeout(timer);
        socket.close();
        resolve();
      }
    });
  });
}

/** Starts one of our bins and parses the port from its listening line. */
async function startProcess(children: ChildProcess[], bin: string, args: string[], listening: RegExp, nodeFlags: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...nodeFlags, bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let output = '';
  for await (const chunk of child.stdout!) {
    output += chunk;
    const match = listening.exec(output);
    if (match) {
      child.stdout!.resume();
      return { child, port: Number(match[1]) };
    }
  }
  throw new Error(`${path.basename(bin)} did not start: ${output}`);
}

/** nginx in the foreground with a throwaway config serving `root`, on a free port. */
async function startNginx(children: ChildProcess[], work: string, root: string): Promise<number> {
  const prefix = path.join(work, 'nginx');
  await fs.mkdir(prefix);
  const port = await freePort();
  const temp = (name: string) => `${name} ${path.join(prefix, name)};`;
  const config = `
daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${path.join(prefix, 'nginx.pid')};
error_log ${path.join(prefix, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  ${temp('client_body_temp_path')} ${temp('proxy_temp_path')} ${temp('fastcgi_temp_path')} ${temp('uwsgi_temp_path')} ${temp('scgi_temp_path')}
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`;
  const configFile = path.join(prefix, 'nginx.conf');
  await fs.writeFile(configFile, config);
  const child = spawn(NGINX, ['-p', prefix, '-c', configFile, '-e', path.join(prefix, 'error.log')], { stdio: 'ignore' });
  children.push(child);
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${await fs.readFile(path.join(prefix, 'error.log'), 'utf8').catch(() => '')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return port;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** VmHWM: the most memory the process ever had resident. Read while it is alive. */
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
      const length = Math.min(block.length, size - written);
      await handle.write(block, 0, length);
      written += length;
    }
  } finally {
    await handle.close();
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function printTable(): void {
  const header: Row = { name: 'measure', value: 'value', ratio: 'ratio', target: 'target', verdict: 'ok' };
  const widths = (['name', 'value', 'ratio', 'target'] as const).map((key) => Math.max(...[header, ...rows].map((row) => (row[key] ?? '').length)));
  const line = (row: Row, verdict: string) =>
    [row.name.padEnd(widths[0]!), row.value.padStart(widths[1]!), (row.ratio ?? '').padStart(widths[2]!), (row.target ?? '').padEnd(widths[3]!), verdict].join('  ');
  process.stdout.write(`\ngateway benchmark: ${(SIZE / 1024 ** 3).toFixed(2)} GiB file on 127.0.0.1, ${os.cpus().length} cores, Node ${process.version}\n`);
  process.stdout.write(`${line(header, '')}\n`);
  for (const row of rows) process.stdout.write(`${line(row, row.verdict ?? '')}\n`);
  process.stdout.write(`ratios: against direct TFTCP (download for nginx); best of ${DOWNLOAD_ROUNDS} download and ${UPLOAD_ROUNDS} upload rounds, interleaved\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
