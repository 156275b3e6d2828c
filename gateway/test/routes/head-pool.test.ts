import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { startApp, startTorServer, transferConnections } from '../helpers.js';

const POOL = 2;
const CHECKS = 60;

test(`${CHECKS} name checks at once (HEAD /api/files/<name>, as the web app makes before uploads) cost no tor-server connection beyond the pool of ${POOL}`, { timeout: 30_000 }, async (t) => {
  const { server, dir, port } = await startTorServer(t);
  await fs.writeFile(path.join(dir, 'taken.txt'), 'here');
  const app = await startApp(t, port, { upstreamPool: POOL });
  let connects = 0;
  let most = 0;
  let last = server.connections.size;
  const count = (size: number) => {
    if (size > last) connects++;
    last = size;
    most = Math.max(most, size);
  };
  server.on('clients', count);
  t.after(() => server.off('clients', count));

  const results = await Promise.all(Array.from({ length: CHECKS }, (_, i) => request(app.server).head(`/api/files/${i % 10 ? `free-${i}.txt` : 'taken.txt'}`)));
  assert.deepEqual(
    results.map((res) => res.status),
    Array.from({ length: CHECKS }, (_, i) => (i % 10 ? 404 : 200)),
  );
  assert.ok(connects <= POOL, `${connects} tor-server connections opened`);
  assert.ok(most <= POOL, `${most} tor-server connections at once`);
  assert.equal(transferConnections(app), 0);
});
