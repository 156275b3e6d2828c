import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { eventually, scratchDir, spawnTorServer } from 'test-support';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { LineClient, patternBytes, visibleNames } from '../helpers.js';
import { loggedClients } from './server-log.js';

/** Sends `bytes` one at a time every `everyMs` until the connection ends. */
function drip(t: TestContext, client: LineClient, bytes: string | Buffer, everyMs: number): void {
  const data = Buffer.from(bytes);
  let i = 0;
  const timer = setInterval(() => {
    if (client.ended) return clearInterval(timer);
    client.send(data.subarray(i % data.length, (i % data.length) + 1));
    i++;
  }, everyMs);
  t.after(() => clearInterval(timer));
}

test('slow and silent clients from one address cannot starve others, and every one of them is closed without a leak', async (t) => {
  const dir = await scratchDir(t);
  await writeFile(path.join(dir, 'seed.bin'), patternBytes(1024 * 1024, 5));
  const server = await spawnTorServer(t, {
    dir,
    args: ['--max-clients-per-address', '4', '--first-command-timeout', '1', '--stall-timeout', '1', '--min-transfer-bytes', '64K'],
  });

  // Warm up once, so lazily opened descriptors (the thread pool, the event loop) are counted in the baseline.
  const warm = await LineClient.connect(t, server.port);
  assert.deepEqual(await warm.upload('warm.bin', patternBytes(1000)), ['ok', 'ok', 'end']);
  warm.send('exit\n');
  await warm.closed();
  await eventually(() => loggedClients(server) === 0, 'no client online after warm-up');
  const baseline = await server.fds();

  // 127.0.0.2 takes its four slots: one silent, one writing a first line a byte at a time,
  // one trickling an upload, one announcing a huge upload and sending a byte now and then.
  const silent = await LineClient.connect(t, server.port, '127.0.0.2');
  const slowloris = await LineClient.connect(t, server.port, '127.0.0.2');
  drip(t, slowloris, 'search this line never ends ', 100);
  const trickler = await LineClient.connect(t, server.port, '127.0.0.2');
  assert.equal(await trickler.request('upload trickle.bin'), 'ok');
  assert.equal(await trickler.request(String(1024 * 1024)), 'ok');
  drip(t, trickler, 'x', 100);
  const hog = await LineClient.connect(t, server.port, '127.0.0.2');
  assert.equal(await hog.request('upload hog.bin'), 'ok');
  assert.equal(await hog.request(String(1024 ** 3)), 'ok');
  drip(t, hog, 'y', 300);
  const refused = await LineClient.connect(t, server.port, '127.0.0.2');
  assert.equal(await refused.line(), 'Too many clients: 127.0.0.2 already has 4 connections, the limit per address');
  await refused.closed();

  // Meanwhile another address is served in full.
  const other = await LineClient.connect(t, server.port, '127.0.0.3');
  assert.deepEqual(await other.upload('honest.bin', patternBytes(256 * 1024, 6)), ['ok', 'ok', 'end']);
  assert.equal((await other.download('download seed.bin')).length, 1024 * 1024);
  other.send('exit\n');
  await other.closed();

  assert.equal(await silent.line(), 'Idle timeout: no command within 1 s, closing the connection');
  assert.equal(await slowloris.line(), 'Idle timeout: no command within 1 s, closing the connection');
  for (const client of [silent, slowloris, trickler, hog]) await client.closed();

  await eventually(() => loggedClients(server) === 0, 'every client is gone');
  await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 0, 'the temp folder is empty');
  await eventually(async () => (await server.fds()) <= baseline, `file descriptors back to ${baseline}`);
  assert.deepEqual(await visibleNames(dir), ['honest.bin', 'seed.bin', 'warm.bin']);
  const log = server.stdout();
  assert.equal(log.match(/ info first-command-timeout client=127\.0\.0\.2:\d+\n/g)?.length, 2);
  assert.match(log, / warn transfer-too-slow client=127\.0\.0\.2:\d+ direction=upload name=trickle\.bin bytes=\d+ window=1s min=65536\n/);
  assert.match(log, / warn transfer-too-slow client=127\.0\.0\.2:\d+ direction=upload name=hog\.bin bytes=\d+ window=1s min=65536\n/);
  assert.match(log, / warn refused client=127\.0\.0\.2:\d+ reason="Too many clients: 127\.0\.0\.2 already has 4 connections, the limit per address"\n/);
});
