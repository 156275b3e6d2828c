import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { Command } from 'tor-server/protocol';
import { filePath } from '../../src/api/index.js';
import { binary, listen, sha256, startApp, startTorServer, transferConnections, waitFor, withTimeout } from '../helpers.js';
import { TftcpProxy } from '../tftcp-proxy.js';

const ROUNDS = 20;

/** A tor-server with data.bin behind a command-counting relay, and a gateway on the relay. */
async function setUp(t: { after(fn: () => unknown): void }, content: Buffer) {
  const { dir, port } = await startTorServer(t);
  await fs.writeFile(path.join(dir, 'data.bin'), content);
  const proxy = await TftcpProxy.start(t, port);
  const app = await startApp(t, proxy.port);
  return { dir, proxy, app, http: () => request(app.server) };
}

test(`GET and HEAD look files up with stat, never a listing, and ${ROUNDS} rounds of downloads reuse a few connections`, { timeout: 30_000 }, async (t) => {
  const content = randomBytes(256 * 1024 + 3);
  const { proxy, app, http: http_ } = await setUp(t, content);
  for (let i = 0; i < ROUNDS; i++) {
    const full = await http_().get(filePath('data.bin')).buffer(true).parse(binary).expect(200);
    assert.equal(sha256(full.body as Buffer), sha256(content));
    const ranged = await http_().get(filePath('data.bin')).set('Range', 'bytes=1000-1999').buffer(true).parse(binary).expect(206);
    assert.deepEqual(ranged.body, content.subarray(1000, 2000));
    await http_().head(filePath('data.bin')).expect(200);
    await http_().head(filePath('missing.bin')).expect(404);
  }
  assert.equal(proxy.count(Command.SEARCH), 0, 'no search sent');
  assert.equal(proxy.count(Command.SHOW), 0, 'no show sent');
  assert.equal(proxy.count(Command.STAT), 4 * ROUNDS, 'one stat per request');
  assert.equal(proxy.count(Command.DOWNLOAD) + proxy.count(Command.RANGE), 2 * ROUNDS);
  // One pooled connection for the lookups, one transfer connection reused by every download.
  assert.ok(proxy.connections <= 3, `${proxy.connections} tor-server connections for ${4 * ROUNDS} requests`);
  assert.equal(proxy.count(Command.EXIT), 0, 'no connection signed out per request');
  assert.equal(transferConnections(app), 0);
});

test('a download cut midway cuts its connection; the next download gets a fresh one and identical bytes', { timeout: 30_000 }, async (t) => {
  const content = randomBytes(32 * 1024 * 1024);
  const { proxy, app } = await setUp(t, content);
  const base = await listen(app);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}${filePath('data.bin')}`, (res) => {
        let count = 0;
        res.on('data', (chunk: Buffer) => {
          count += chunk.length;
          if (count > 1024 * 1024) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
    }),
    10_000,
    'the first megabyte',
  );
  await waitFor(() => transferConnections(app) === 0, 'the cut transfer connection to be gone');
  assert.equal(app.transferPool.idleCount, 0, 'the cut connection is not kept for reuse');
  const connectionsBefore = proxy.connections;
  const again = await request(app.server).get(filePath('data.bin')).buffer(true).parse(binary).expect(200);
  assert.equal(sha256(again.body as Buffer), sha256(content));
  assert.equal(proxy.connections, connectionsBefore + 1, 'a fresh connection for the next download');
  assert.equal(app.transferPool.idleCount, 1, 'a clean download leaves its connection for the next');
});

test('?hash=sha256 answers the tor-server\'s digest; from then on GET and HEAD carry Repr-Digest (RFC 9530)', async (t) => {
  const content = randomBytes(100_000);
  const { dir, http: http_ } = await setUp(t, content);
  await fs.writeFile(path.join(dir, 'other.txt'), 'other');
  const expectedHex = sha256(content);
  const expectedHeader = `sha-256=:${createHash('sha256').update(content).digest('base64')}:`;

  const before = await http_().head(filePath('data.bin')).expect(200);
  assert.equal(before.headers['repr-digest'], undefined, 'not known before the tor-server was asked');

  const res = await http_().get(`${filePath('data.bin')}?hash=sha256`).expect(200);
  assert.deepEqual(res.body, { sha256: expectedHex });
  assert.match(res.headers['content-type']!, /^application\/json/);

  const head = await http_().head(filePath('data.bin')).expect(200);
  assert.equal(head.headers['repr-digest'], expectedHeader);
  const ranged = await http_().get(filePath('data.bin')).set('Range', 'bytes=0-9').buffer(true).parse(binary).expect(206);
  assert.equal(ranged.headers['repr-digest'], expectedHeader, 'the digest of the whole file, on a range too');
  const other = await http_().head(filePath('other.txt')).expect(200);
  assert.equal(other.headers['repr-digest'], undefined);

  const unknown = await http_().get(`${filePath('data.bin')}?hash=md5`).expect(400);
  assert.match(unknown.body.error, /sha256/);
  await http_().get(`${filePath('missing.bin')}?hash=sha256`).expect(404);
});

test('a kept transfer connection the tor-server closed for idleness is replaced, and the download still succeeds', { timeout: 30_000 }, async (t) => {
  const { dir, port } = await startTorServer(t, { idleTimeoutMs: 300 });
  const content = randomBytes(10_000);
  await fs.writeFile(path.join(dir, 'data.bin'), content);
  const app = await startApp(t, port);
  const http_ = () => request(app.server).get(filePath('data.bin')).buffer(true).parse(binary);
  assert.deepEqual((await http_().expect(200)).body, content);
  assert.equal(app.transferPool.idleCount, 1);
  await waitFor(() => app.upstream.openCount === 0, 'the tor-server to close the idle connections');
  assert.deepEqual((await http_().expect(200)).body, content);
});
