import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { listen, sha256, startApp, startTorServer, waitForClients, withTimeout } from '../helpers.js';

/** GETs a URL on a fresh connection and hashes the body as it streams. */
function fetchHash(url: string): Promise<{ status: number; hash: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const hash = createHash('sha256');
        res.on('data', (chunk: Buffer) => hash.update(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, hash: hash.digest('hex') }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

test('200 concurrent gateway downloads of one file all complete, bytes verified, no connection leaked', { timeout: 60_000 }, async (t) => {
  const { server, dir, port } = await startTorServer(t);
  const data = randomBytes(2 * 1024 * 1024);
  await fs.writeFile(path.join(dir, 'popular video.mp4'), data);
  const app = await startApp(t, port);
  const base = await listen(app);
  const url = `${base}/api/files/${encodeURIComponent('popular video.mp4')}`;

  const results = await withTimeout(Promise.allSettled(Array.from({ length: 200 }, () => fetchHash(url))), 50_000, '200 downloads');
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`#${i}: ${(r.reason as Error).message}`] : r.value.status !== 200 ? [`#${i}: HTTP ${r.value.status}`] : []));
  assert.deepEqual(failures.slice(0, 5), []);
  const expected = sha256(data);
  for (const r of results) assert.equal((r as PromiseFulfilledResult<{ hash: string }>).value.hash, expected);
  await waitForClients(server, 0);
});
