import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { eventually, within } from 'test-support';
import { filePath } from '../../src/api/index.js';
import { listen, startApp, startTorServer, transferConnections } from '../helpers.js';

const POOL = 2;
/** More digests at once than the command pool has connections. */
const HASHES = 4;
/** Large enough that reading it takes far longer than a listing: sparse, so it costs no disk. */
const BIG = 512 * 1024 * 1024;

async function bigFile(dir: string, name: string): Promise<void> {
  const handle = await open(path.join(dir, name), 'w');
  await handle.truncate(BIG);
  await handle.close();
}

test(`${HASHES} ?hash requests on a large file at once leave the command pool of ${POOL} free: a listing is answered while they run`, { timeout: 60_000 }, async (t) => {
  const { dir, port } = await startTorServer(t);
  await bigFile(dir, 'big.bin');
  const app = await startApp(t, port, { upstreamPool: POOL });
  let hashesDone = 0;
  const hashes = Array.from({ length: HASHES }, () =>
    request(app.server)
      .get(`${filePath('big.bin')}?hash=sha256`)
      .then((res) => {
        hashesDone++;
        return res;
      }),
  );
  await eventually(() => transferConnections(app) > 0, 'the digests to run on transfer connections');
  const listing = await within(request(app.server).get('/api/files'), 10_000, 'the listing');
  assert.equal(listing.status, 200);
  assert.deepEqual(listing.body.map((file: { name: string }) => file.name), ['big.bin']);
  assert.equal(hashesDone, 0, 'the listing did not wait for a digest');
  const answers = await Promise.all(hashes);
  assert.deepEqual(
    answers.map((res) => res.status),
    Array.from({ length: HASHES }, () => 200),
  );
  assert.equal(new Set(answers.map((res) => res.body.sha256)).size, 1);
});

test('a browser leaving mid-hash cuts its tor-server connection', { timeout: 30_000 }, async (t) => {
  const { server, dir, port } = await startTorServer(t);
  await bigFile(dir, 'big.bin');
  const app = await startApp(t, port, { upstreamPool: POOL });
  const base = await listen(app);
  const req = http.get(`${base}${filePath('big.bin')}?hash=sha256`);
  req.on('error', () => {});
  await eventually(() => transferConnections(app) === 1, 'the digest to run on a transfer connection');
  const kept = server.connections.size - 1;
  req.destroy();
  await eventually(() => transferConnections(app) === 0, 'the gateway to cut the hash connection');
  await eventually(() => server.connections.size === kept, 'the tor-server to see it gone');
});
