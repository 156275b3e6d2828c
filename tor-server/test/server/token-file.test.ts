import assert from 'node:assert/strict';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { scratchDir } from 'test-support';
import { TOKEN_FILE_NAME, TokenFile, type TokenRecord } from '../../src/server/auth/token-file.js';

function record(id: string): TokenRecord {
  return { id, label: `user-${id}`, access: 'read', hash: '0'.repeat(64), created: new Date().toISOString(), expires: null, only: null, kind: 'token', maxDownloads: null, downloads: 0, createdBy: null };
}

test('writers that find a lock left by a dead process take it over one at a time: no change is lost', async (t) => {
  const stateDir = path.join(await scratchDir(t, 'tor-state-'), 'state');
  await mkdir(stateDir, { mode: 0o700 });
  const lockPath = path.join(stateDir, `${TOKEN_FILE_NAME}.lock`);
  await writeFile(lockPath, '');
  const minuteAgo = new Date(Date.now() - 60_000);
  await utimes(lockPath, minuteAgo, minuteAgo);

  // Separate TokenFile objects stand for separate processes: only the lock file orders them.
  const writers = Array.from({ length: 24 }, () => new TokenFile(stateDir));
  await Promise.all(writers.map((file, i) => file.update((tokens) => void tokens.push(record(String(i).padStart(8, '0'))))));

  const ids = (await new TokenFile(stateDir).read()).map((token) => token.id).sort();
  assert.deepEqual(ids, Array.from({ length: 24 }, (_, i) => String(i).padStart(8, '0')));
  assert.deepEqual((await readdir(stateDir)).sort(), [TOKEN_FILE_NAME], 'no lock or stale copy is left behind');
});
