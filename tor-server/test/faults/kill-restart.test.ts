import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { scratchDir, spawnTorServer, within } from 'test-support';
import { LOCK_FILE_NAME } from '../../src/server/store/folder-lock.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { LineClient, partialUpload, patternBytes, visibleNames } from '../helpers.js';

test('SIGKILL mid-upload: after a restart nothing partial is visible, .tor-tmp is clean, and the upload then succeeds', async (t) => {
  const dir = await scratchDir(t);
  const data = patternBytes(4 * 1024 * 1024, 7);
  const first = await spawnTorServer(t, { dir });

  // Kill it once the server has really written part of the upload, so the kill lands mid-file.
  const { uploader } = await partialUpload(t, first.port, dir, 'movie.mp4', data, 1024 * 1024);
  const tempFolder = path.join(dir, TEMP_DIR_NAME);
  first.child.kill('SIGKILL');
  assert.equal(await within(first.exited, 5000, 'the killed server'), 'SIGKILL');
  await uploader.rest();

  assert.deepEqual(await visibleNames(dir), [], 'nothing visible under the name');
  // The killed server could not give its lock back: the restart must see it is stale.
  assert.equal(JSON.parse(await readFile(path.join(dir, LOCK_FILE_NAME), 'utf8')).pid, first.child.pid);
  const second = await spawnTorServer(t, { dir });
  assert.equal(JSON.parse(await readFile(path.join(dir, LOCK_FILE_NAME), 'utf8')).pid, second.child.pid);
  assert.deepEqual(await readdir(tempFolder), [], 'the restart emptied the temp folder');

  const again = await LineClient.connect(t, second.port);
  assert.deepEqual(await again.upload('movie.mp4', data, 15_000), ['ok', 'ok', 'end']);
  assert.deepEqual(await readFile(path.join(dir, 'movie.mp4')), data);
  second.child.kill('SIGTERM');
  assert.equal(await within(second.exited), 0);
});
