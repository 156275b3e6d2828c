import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { TorServer } from 'tor-server/server';
import { eventually, freePort, scratchDir, sha256, spawnTorServer, within } from 'test-support';
import type { WsServerMessage } from '../../src/api/index.js';
import { TOR_SERVER_UNDER_TEST, WsProbe, listen, replyOf, startApp, storedNames, tempFiles, transferConnections } from '../helpers.js';

const upstreamIs = (connected: boolean) => (m: WsServerMessage) => 'event' in m && m.event === 'upstream' && m.connected === connected;

test('tor-server down at start: prompt 503s and upstream:false, then recovery once it is up', { timeout: 30_000 }, async (t) => {
  const dir = await scratchDir(t);
  await fs.writeFile(path.join(dir, 'waiting.txt'), 'here all along');
  const port = await freePort();
  const app = await startApp(t, port);
  const base = await listen(app);
  const http_ = () => request(app.server);

  const health = await http_().get('/api/health').expect(503);
  assert.deepEqual(health.body, { gateway: 'ok', upstream: 'unreachable' });
  const listing = await http_().get('/api/files').expect(503);
  assert.match(listing.body.error, /tor-server is unreachable/);
  await http_().get('/api/files/waiting.txt').expect(503);
  await http_().put('/api/files/new.txt').send('x').expect(503);
  await http_().post('/api/files').field('size', '1').attach('file', Buffer.from('x'), 'new.txt').expect(503);

  const ws = await WsProbe.open(t, base);
  assert.deepEqual(await ws.next(), { event: 'upstream', connected: false });
  ws.send({ id: 1, command: 'show' });
  const refused = replyOf(await ws.next((m) => 'id' in m));
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.error, /unreachable/);

  const tor = await spawnTorServer(t, { dir, port: port, bin: TOR_SERVER_UNDER_TEST });
  await ws.next(upstreamIs(true));
  ws.send({ id: 2, command: 'show' });
  const shown = replyOf(await ws.next((m) => 'id' in m && m.id === 2));
  assert.deepEqual(shown.ok ? shown.files.map((f) => f.name) : shown, ['waiting.txt']);
  await http_().get('/api/health').expect(200);
  const res = await http_().get('/api/files/waiting.txt').expect(200);
  assert.equal(res.text, 'here all along');
});

test('tor-server killed mid-download and mid-upload: the transfer fails promptly, nothing partial is kept, recovery after restart', { timeout: 30_000 }, async (t) => {
  const dir = await scratchDir(t);
  const big = randomBytes(48 * 1024 * 1024);
  await fs.writeFile(path.join(dir, 'big.bin'), big);
  let tor = await spawnTorServer(t, { dir, bin: TOR_SERVER_UNDER_TEST });
  const app = await startApp(t, tor.port);
  const base = await listen(app);
  const ws = await WsProbe.open(t, base);
  await ws.next(upstreamIs(true));

  // A download that is paused after its first bytes, so it is mid-transfer when the server dies.
  const download = await within(
    new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${base}/api/files/big.bin`, resolve).on('error', reject)),
    5000,
    'the download to start',
  );
  assert.equal(download.statusCode, 200);
  const downloadOutcome = new Promise<string>((resolve) => {
    let received = 0;
    download.on('data', (chunk: Buffer) => (received += chunk.length));
    download.on('end', () => resolve(received === big.length ? 'complete' : `ended short at ${received}`));
    download.on('aborted', () => resolve('aborted'));
    download.on('error', () => resolve('aborted'));
  });
  download.pause();

  // An upload that has sent a third of its bytes.
  const upload = http.request(`${base}/api/files/partial.bin`, { method: 'PUT', headers: { 'content-length': String(3 * 1024 * 1024) } });
  const uploadAnswer = new Promise<number>((resolve, reject) => {
    upload.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    upload.on('error', reject);
  });
  t.after(() => upload.destroy());
  upload.write(randomBytes(1024 * 1024));
  // The WebSocket holds no connection of its own: it learns of the outage from the gateway's link state.
  await eventually(() => transferConnections(app) >= 2, 'the download and the upload to be connected upstream');

  await tor.kill();
  download.resume();
  assert.notEqual(await within(downloadOutcome, 5000, 'the download to fail'), 'complete');
  assert.equal(await within(uploadAnswer, 5000, 'the upload to be answered'), 502);
  upload.destroy();
  await ws.next(upstreamIs(false));
  await request(app.server).get('/api/files').expect(503);
  await request(app.server).get('/api/health').expect(503);

  tor = await spawnTorServer(t, { dir, port: tor.port, bin: TOR_SERVER_UNDER_TEST });
  await ws.next(upstreamIs(true));
  await request(app.server).get('/api/health').expect(200);
  const again = await request(app.server).get('/api/files/big.bin').buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
  assert.equal(again.status, 200);
  assert.equal(sha256(again.body as Buffer), sha256(big));
  assert.deepEqual(await storedNames(dir), ['big.bin']);
  assert.deepEqual(await tempFiles(dir), []);
});

test('an outage and the recovery reach every open session from one shared link: the recovery costs one probe, not one connection per session', { timeout: 30_000 }, async (t) => {
  const dir = await scratchDir(t);
  let server = await TorServer.start({ host: '127.0.0.1', port: 0, dir, shutdownGraceMs: 0 });
  const port = server.address().port;
  t.after(() => server.close(0));
  const app = await startApp(t, port);
  const base = await listen(app);
  const sessions = await Promise.all(Array.from({ length: 20 }, () => WsProbe.open(t, base)));
  for (const [i, ws] of sessions.entries()) {
    await ws.next(upstreamIs(true));
    ws.send({ id: i, command: 'show' });
    assert.equal(replyOf(await ws.next((m) => 'id' in m)).ok, true);
  }

  await server.close(0);
  for (const ws of sessions) await ws.next(upstreamIs(false));

  server = await TorServer.start({ host: '127.0.0.1', port, dir, shutdownGraceMs: 0 });
  let accepted = 0;
  let last = 0;
  server.on('clients', (count) => {
    if (count > last) accepted += count - last;
    last = count;
  });
  for (const ws of sessions) await ws.next(upstreamIs(true));
  assert.ok(accepted <= 2, `the recovery was noticed with ${accepted} connections`);
});
