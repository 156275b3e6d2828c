import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { eventually, spawnGateway, within } from 'test-support';
import { startTorServer } from './helpers.js';

const ERROR_LEVEL = 50;

/** Starts a request, writes `prefix` and 1 MiB of a larger body, waits until the tor-server receives it, then cuts it. */
async function abortMidBody(url: string, method: string, headers: Record<string, string>, prefix: Buffer, receiving: () => boolean): Promise<void> {
  const request = http.request(url, { method, headers });
  request.on('error', () => {});
  request.write(prefix);
  request.write(randomBytes(1024 * 1024));
  await eventually(receiving, 'the tor-server to be receiving the upload');
  request.destroy();
}

test('a cancelled upload, a closed tab and the shutdown are logged as one info line each: no error level, no stack trace', { timeout: 60_000 }, async (t) => {
  const { server, dir, port } = await startTorServer(t);
  await fs.writeFile(path.join(dir, 'big.bin'), Buffer.alloc(64 * 1024 * 1024));
  const gateway = await spawnGateway(t, { torPort: port, args: ['--log-level', 'info'], fromSource: true });
  const uploading = () => [...server.connections].some((conn) => conn.activity.kind === 'uploading');
  // Downloads leave a pooled connection (their lookup) behind, and sessions the change feed's
  // watch: over means nothing is being transferred.
  const idle = () => [...server.connections].every((conn) => conn.activity.kind === 'idle' || conn.activity.kind === 'watching');

  await abortMidBody(`${gateway.url}/api/files/cancelled.bin`, 'PUT', { 'content-length': String(3 * 1024 * 1024) }, Buffer.alloc(0), uploading);
  await eventually(idle, 'the cut PUT to be over');
  const boundary = 'log-test';
  const prefix = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n${3 * 1024 * 1024}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cancelled-form.bin"\r\n\r\n`);
  await abortMidBody(`${gateway.url}/api/files`, 'POST', { 'content-type': `multipart/form-data; boundary=${boundary}` }, prefix, uploading);
  await eventually(idle, 'the cut form to be over');

  // A tab closed mid-download, and a WebSocket dropped without a close frame.
  const download = http.get(`${gateway.url}/api/files/big.bin`);
  download.on('error', () => {});
  const [response] = (await once(download, 'response')) as [http.IncomingMessage];
  await once(response, 'data');
  download.destroy();
  const socket = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/api/ws`);
  await once(socket, 'message');
  socket.terminate();
  await eventually(idle, 'the cut download to be over');

  // A shutdown with a download still going (its reader paused), which the shutdown cuts.
  const held = http.get(`${gateway.url}/api/files/big.bin`);
  held.on('error', () => {});
  const [heldResponse] = (await once(held, 'response')) as [http.IncomingMessage];
  heldResponse.on('error', () => {});
  heldResponse.pause();
  gateway.child.kill('SIGTERM');
  // exited: the process is gone and everything it printed has been read.
  const code = await within(gateway.exited, 20_000, 'the gateway to exit');
  held.destroy();
  assert.equal(code, 0);

  const entries = gateway.lines().filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });
  const loud = entries.filter((entry) => entry.level >= ERROR_LEVEL || JSON.stringify(entry).includes('"stack"'));
  assert.deepEqual(loud, [], 'no error lines and no stack traces');
  assert.ok(entries.some((entry) => entry.msg === 'the client went away'), 'the cut uploads are noted');
  assert.ok(entries.some((entry) => entry.msg === 'shutting down'));
});
