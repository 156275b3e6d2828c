import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, scratchDir, spawnTorServer, within } from 'test-support';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { LineClient, patternBytes, visibleNames } from '../helpers.js';

test('SIGTERM during an upload lets it finish within the grace period, then exits 0', async (t) => {
  const dir = await scratchDir(t);
  const server = await spawnTorServer(t, { dir, args: ['--shutdown-grace', '10'] });
  const data = patternBytes(2 * 1024 * 1024, 3);
  const client = await LineClient.connect(t, server.port);
  assert.equal(await client.request('upload report.pdf'), 'ok');
  assert.equal(await client.request(String(data.length)), 'ok');
  client.send(data.subarray(0, data.length / 2));
  await eventually(() => server.stdout().includes('connect'), 'the connection logged');
  server.child.kill('SIGTERM');
  // The server logs its shutdown right after it stops accepting.
  await eventually(() => / shutdown clients=1 /.test(server.stdout()), 'the shutdown logged');
  // No new connections while the transfer in flight finishes.
  await assert.rejects(LineClient.connect(t, server.port));
  client.send(data.subarray(data.length / 2));
  assert.equal(await client.line(), 'end');
  assert.equal(await within(server.exited), 0);
  assert.deepEqual(await readFile(path.join(dir, 'report.pdf')), data);
  assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
});

test('SIGTERM with a transfer that cannot finish in the grace period: it is cut and nothing partial stays', async (t) => {
  const dir = await scratchDir(t);
  const server = await spawnTorServer(t, { dir, args: ['--shutdown-grace', '0.3'] });
  const client = await LineClient.connect(t, server.port);
  assert.equal(await client.request('upload stalled.bin'), 'ok');
  assert.equal(await client.request('1000000'), 'ok');
  client.send(Buffer.alloc(1000));
  await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 1, 'the upload started');
  server.child.kill('SIGTERM');
  assert.equal(await within(server.exited), 0);
  await client.rest();
  assert.ok(client.ended, 'the client sees its connection closed');
  assert.deepEqual(await visibleNames(dir), []);
  assert.match(server.stdout(), /shutdown-cut/);
});

test('SIGTERM closes idle connections at once and the server exits 0', async (t) => {
  const dir = await scratchDir(t);
  const server = await spawnTorServer(t, { dir });
  const idle = await LineClient.connect(t, server.port);
  assert.equal(await idle.request('show'), 'ok');
  assert.deepEqual(await idle.listing(), []);
  server.child.kill('SIGTERM');
  assert.equal(await within(server.exited), 0);
  await idle.closed();
});
