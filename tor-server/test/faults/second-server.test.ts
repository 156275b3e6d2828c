import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { scratchDir, spawnTorServer, type TorServerProcess, within } from 'test-support';
import { LOCK_FILE_NAME } from '../../src/server/store/folder-lock.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { LineClient, partialUpload, patternBytes, runBin } from '../helpers.js';

test('a second tor-server on the same folder exits 1 naming the first, and the upload in flight on the first is stored', async (t) => {
  const dir = await scratchDir(t);
  const data = patternBytes(2 * 1024 * 1024, 13);
  const first = await spawnTorServer(t, { dir });
  const { uploader, partial } = await partialUpload(t, first.port, dir, 'movie.mp4', data, 1024 * 1024);
  const tempFolder = path.join(dir, TEMP_DIR_NAME);

  const second = await runBin(t, ['--host', '127.0.0.1', '--port', '0', '--dir', dir]);
  assert.equal(second.code, 1);
  assert.equal(second.stderr, `tor-server: ${first.servedDir} is already served by another tor-server (pid ${first.child.pid}); stop it first or choose another --dir\n`);
  assert.equal(second.stdout, '');
  assert.deepEqual(await readdir(tempFolder), [partial], 'the partial upload is untouched');

  uploader.send(data.subarray(1024 * 1024));
  assert.equal(await uploader.line(), 'end');
  assert.deepEqual(await readFile(path.join(dir, 'movie.mp4')), data);
});

test('servers starting at once over a stale lock: exactly one serves, the others name it', async (t) => {
  const dir = await scratchDir(t);
  await writeFile(path.join(dir, LOCK_FILE_NAME), `${JSON.stringify({ pid: 2 ** 22 + 1, token: 'crashed' })}\n`);
  const starts = await Promise.allSettled([1, 2, 3, 4].map(() => spawnTorServer(t, { dir })));
  const winners = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  assert.equal(winners.length, 1, starts.map((s) => (s.status === 'rejected' ? (s.reason as Error).message : 'listening')).join('\n'));
  const winner: TorServerProcess = winners[0]!;
  for (const start of starts) {
    if (start.status === 'rejected') assert.match((start.reason as Error).message, new RegExp(`exited \\(1\\) before listening: .*already served by another tor-server \\(pid ${winner.child.pid}\\)`));
  }
  assert.equal(JSON.parse(await readFile(path.join(dir, LOCK_FILE_NAME), 'utf8')).pid, winner.child.pid);
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith(LOCK_FILE_NAME)), [LOCK_FILE_NAME], 'no draft or set-aside lock left');
  const client = await LineClient.connect(t, winner.port);
  assert.equal(await client.request('show'), 'ok');
});

test('SIGTERM gives the lock back; a busy port gives it back too', async (t) => {
  const dir = await scratchDir(t);
  const server = await spawnTorServer(t, { dir });
  assert.equal(JSON.parse(await readFile(path.join(dir, LOCK_FILE_NAME), 'utf8')).pid, server.child.pid);
  const otherDir = await scratchDir(t);
  await mkdir(path.join(otherDir, TEMP_DIR_NAME));
  await writeFile(path.join(otherDir, TEMP_DIR_NAME, 'earlier.part'), 'half');
  const busy = await runBin(t, ['--host', '127.0.0.1', '--port', String(server.port), '--dir', otherDir]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /is already in use/);
  assert.deepEqual(await readdir(otherDir), [TEMP_DIR_NAME], 'no lock left behind');
  assert.deepEqual(await readdir(path.join(otherDir, TEMP_DIR_NAME)), ['earlier.part'], 'the temp folder untouched');
  server.child.kill('SIGTERM');
  assert.equal(await within(server.exited), 0);
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith(LOCK_FILE_NAME)), []);
});
