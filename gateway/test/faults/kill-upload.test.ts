import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { eventually, scratchDir, spawnTorServer, within } from 'test-support';
import { TOR_SERVER_UNDER_TEST, listen, startApp, storedNames, tempFiles } from '../helpers.js';

test('tor-server SIGKILLed mid-upload through the gateway: nothing partial after the restart, and the same upload then succeeds', { timeout: 30_000 }, async (t) => {
  const dir = await scratchDir(t);
  let tor = await spawnTorServer(t, { dir, bin: TOR_SERVER_UNDER_TEST });
  const app = await startApp(t, tor.port);
  const base = await listen(app);
  const data = randomBytes(3 * 1024 * 1024);

  const upload = http.request(`${base}/api/files/holiday.mp4`, { method: 'PUT', headers: { 'content-length': String(data.length) } });
  t.after(() => upload.destroy());
  const status = new Promise<number>((resolve, reject) => {
    upload.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    upload.on('error', reject);
  });
  upload.write(data.subarray(0, 1024 * 1024));
  await eventually(async () => (await tempFiles(dir)).length === 1, 'the upload to reach the tor-server disk');
  await tor.kill();
  assert.equal(await within(status, 5000, 'the gateway to answer the cut upload'), 502);

  assert.deepEqual(await storedNames(dir), [], 'nothing visible while the server is down');
  tor = await spawnTorServer(t, { dir, port: tor.port, bin: TOR_SERVER_UNDER_TEST });
  assert.deepEqual(await tempFiles(dir), [], 'the restart cleaned the temp folder');
  await eventually(async () => (await request(app.server).get('/api/health')).status === 200, 'the gateway to see the tor-server again');

  await request(app.server).put('/api/files/holiday.mp4').set('content-type', 'application/octet-stream').send(data).expect(201);
  assert.deepEqual(await fs.readFile(path.join(dir, 'holiday.mp4')), data);
});
