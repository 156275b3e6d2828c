import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, within } from 'test-support';
import { listen, startApp, startTorServer, transferConnections } from '../helpers.js';

/** Starts a GET and resolves once its headers are in; the body is left paused. */
function startGet(url: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.pause();
      resolve(response);
    });
    request.on('error', reject);
  });
}

/** Reads a response to its end; its status and byte count. */
async function finish(response: http.IncomingMessage): Promise<{ status: number; bytes: number }> {
  let bytes = 0;
  for await (const chunk of response) bytes += (chunk as Buffer).length;
  return { status: response.statusCode!, bytes };
}

test('beyond the transfers\' share of --max-upstream, downloads wait in line for a connection: served in turn, or 503 "the tor-server is busy" after the bounded wait', { timeout: 30_000 }, async (t) => {
  const { dir, port } = await startTorServer(t);
  const size = 32 * 1024 * 1024;
  await fs.writeFile(path.join(dir, 'big.bin'), Buffer.alloc(size, 1));
  // Three connections, of which one is kept for the command pool: two for transfers.
  const app = await startApp(t, port, { maxUpstream: 3, upstreamPool: 1, upstreamQueueTimeoutMs: 1500 });
  const base = await listen(app);
  const url = `${base}/api/files/big.bin`;

  // Two downloads whose browsers stop reading hold both connections.
  const first = await within(startGet(url), 5000, 'the first download');
  const second = await within(startGet(url), 5000, 'the second download');
  t.after(() => {
    first.destroy();
    second.destroy();
  });
  assert.equal(transferConnections(app), 2);

  const refused = await within(startGet(url), 10_000, 'the third answer');
  assert.equal(refused.statusCode, 503);
  const body = JSON.parse((await finishText(refused)) || '{}') as { error: string };
  assert.match(body.error, /^the tor-server is busy/);

  // One waiting in line is served as soon as a connection is free.
  const waiting = startGet(url);
  await eventually(() => app.upstream.queuedCount === 1, 'the fourth request to wait in line');
  assert.deepEqual(await finish(first), { status: 200, bytes: size });
  const served = await within(waiting, 5000, 'the fourth download to start');
  assert.deepEqual(await finish(served), { status: 200, bytes: size });
});

async function finishText(response: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  return text;
}
