/** The transfers the benchmark times, each returning MB/s (1e6 bytes per second). */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { crowd, mbps } from 'test-support/bench';
import WebSocket from 'ws';
import type { WsServerMessage } from '../src/api/index.js';

/**
 * GET over a bare socket, counting the body bytes: as lean a consumer as the TFTCP client in
 * the direct measurement, so the figure is the server's, not Node's HTTP client's.
 */
export async function httpDownload(url: string, size: number): Promise<number> {
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
  if (body !== size || length !== size) throw new Error(`GET ${url} received ${body} of ${length} bytes`);
  return mbps(size, ms);
}

/** POST /api/files as the web app sends it: a `size` field, then the file part, streamed from disk. */
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
    yield* createReadStream(file, { highWaterMark: 256 * 1024 });
    yield tail;
  }
  await pipeline(body, req);
  const [res] = await answered;
  let text = '';
  for await (const chunk of res) text += chunk;
  const ms = performance.now() - started;
  if (res.statusCode !== 201) throw new Error(`multipart upload answered ${res.statusCode}: ${text}`);
  return mbps(size, ms);
}

/** PUT /api/files/<name> as `curl -T` sends it: the raw bytes with a Content-Length, streamed from disk. */
export async function httpPut(url: string, file: string, size: number): Promise<number> {
  const started = performance.now();
  const req = http.request(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) } });
  const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
  await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), req);
  const [res] = await answered;
  let text = '';
  for await (const chunk of res) text += chunk;
  const ms = performance.now() - started;
  if (res.statusCode !== 201) throw new Error(`PUT ${url} answered ${res.statusCode}: ${text}`);
  return mbps(size, ms);
}

/** Opens `count` sockets at once; each waits for its upstream, runs show and search, and closes. */
export function wsCrowd(base: string, count: number): Promise<{ errors: number; ms: number }> {
  return crowd(count, () => wsSession(base.replace(/^http/, 'ws') + '/api/ws'));
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
      if (message.id === 2 && 'files' in message && message.files.length !== 1) return fail(new Error(`search found ${message.files.length} files`));
      answered.add(message.id);
      if (answered.size === 2) {
        clearTimeout(timer);
        socket.close();
        resolve();
      }
    });
  });
}
