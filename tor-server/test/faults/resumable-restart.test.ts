import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { scratchDir, sha256, spawnTorServer, within } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, patternBytes, visibleNames } from '../helpers.js';
import { begin, put, status } from '../server/resumable-helpers.js';

test('SIGKILL between puts: after a restart the partial has exactly the stored ranges, and resumes to identical bytes', async (t) => {
  const dir = await scratchDir(t);
  const data = patternBytes(3 * 1024 * 1024, 13);
  const third = data.length / 3;
  const first = await spawnTorServer(t, { dir });
  const client = await LineClient.connect(t, first.port);
  const { id } = await begin(client, data.length, sha256(data), 'film.mkv');
  assert.deepEqual(await put(client, id, 2 * third, data.subarray(2 * third)), [Reply.OK, Reply.STORED]);
  assert.deepEqual(await put(client, id, 0, data.subarray(0, third)), [Reply.OK, Reply.STORED]);
  first.child.kill('SIGKILL');
  assert.equal(await within(first.exited, 5000, 'the killed server'), 'SIGKILL');
  await client.rest();

  const second = await spawnTorServer(t, { dir });
  const again = await LineClient.connect(t, second.port);
  assert.equal(await status(again, id), `have 0-${third},${2 * third}-${data.length}`);
  // A client that lost the id finds it again by name, size and sha256.
  assert.deepEqual(await begin(again, data.length, sha256(data), 'film.mkv'), { id, have: `have 0-${third},${2 * third}-${data.length}` });
  assert.deepEqual(await visibleNames(dir), []);
  assert.deepEqual(await put(again, id, third, data.subarray(third, 2 * third)), [Reply.OK, Reply.STORED]);
  assert.equal(await again.request(`commit ${id}`), Reply.END);
  assert.deepEqual(await readFile(path.join(dir, 'film.mkv')), data);
  second.child.kill('SIGTERM');
  assert.equal(await within(second.exited), 0);
});
