import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, within } from 'test-support';
import { listen, startApp, startTorServer } from '../helpers.js';

const LIMIT = 2;

/** A GET from `localAddress`; resolves once its headers are in, the body left paused. */
function get(url: string, localAddress: string, method = 'GET'): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method, agent: false, localAddress }, (response) => {
      response.pause();
      resolve(response);
    });
    request.on('error', reject);
    request.end();
  });
}

async function text(response: http.IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of response) body += String(chunk);
  return body;
}

test('one address may have --max-transfers-per-address transfers at once: beyond, 429 with Retry-After; other addresses and HEADs are unaffected', { timeout: 30_000 }, async (t) => {
  const { dir, port } = await startTorServer(t);
  const handle = await fs.open(path.join(dir, 'huge.bin'), 'w');
  await handle.truncate(1024 ** 3);
  await handle.close();
  const app = await startApp(t, port, { maxTransfersPerAddress: LIMIT });
  const base = await listen(app);
  const url = `${base}/api/files/huge.bin`;
  const open: http.IncomingMessage[] = [];
  t.after(() => open.forEach((response) => response.destroy()));

  for (let i = 0; i < LIMIT; i++) {
    const response = await within(get(url, '127.0.0.1'), 5000, `download ${i + 1}`);
    open.push(response);
    assert.equal(response.statusCode, 200);
  }
  const refused = await within(get(url, '127.0.0.1'), 5000, 'the download beyond the limit');
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.headers['retry-after'], '5');
  assert.deepEqual(JSON.parse(await text(refused)), { error: `too many transfers from 127.0.0.1 at once (limit ${LIMIT} per address); wait for one to finish` });
  const upload = await fetch(`${base}/api/files/new.txt`, { method: 'PUT', body: 'hello' });
  assert.equal(upload.status, 429, 'uploads count too');
  assert.equal((await fetch(`${base}/api/files/huge.bin`, { method: 'HEAD' })).status, 200, 'a HEAD is no transfer');
  assert.equal((await fetch(`${base}/api/files`)).status, 200);

  const elsewhere = await within(get(url, '127.0.0.2'), 5000, 'a download from another address');
  open.push(elsewhere);
  assert.equal(elsewhere.statusCode, 200);

  // A transfer that ends gives its place back.
  open.shift()!.destroy();
  await eventually(async () => {
    const again = await get(url, '127.0.0.1');
    open.push(again);
    return again.statusCode === 200;
  }, 'a place for 127.0.0.1 again');
});
