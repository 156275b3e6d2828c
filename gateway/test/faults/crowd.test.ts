import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fetchHash, listen, sha256, startApp, startTorServer, transferConnections, keptConnections, waitFor, withTimeout } from '../helpers.js';

test('200 concurrent gateway downloads of one file all complete, bytes verified, no connection leaked', { timeout: 60_000 }, async (t) => {
  const { server, dir, port } = await startTorServer(t);
  const data = randomBytes(2 * 1024 * 1024);
  await fs.writeFile(path.join(dir, 'popular video.mp4'), data);
  // The crowd all comes from 127.0.0.1 here: lift the per-address transfer limit.
  const app = await startApp(t, port, { maxTransfersPerAddress: 200 });
  const base = await listen(app);
  const url = `${base}/api/files/${encodeURIComponent('popular video.mp4')}`;

  const results = await withTimeout(Promise.allSettled(Array.from({ length: 200 }, () => fetchHash(url))), 50_000, '200 downloads');
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`#${i}: ${(r.reason as Error).message}`] : r.value.status !== 200 ? [`#${i}: HTTP ${r.value.status}`] : []));
  assert.deepEqual(failures.slice(0, 5), []);
  const expected = sha256(data);
  for (const r of results) assert.equal((r as PromiseFulfilledResult<{ hash: string }>).value.hash, expected);
  await waitFor(() => transferConnections(app) === 0 && server.connections.size === keptConnections(app), 'only the kept connections (pool, idle transfer ones) to be left');
});
