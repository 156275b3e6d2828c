import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import WebSocket from 'ws';
import { within } from 'test-support';
import { listen, startApp, startTorServer, storedNames } from '../helpers.js';

/** Opens /api/ws with an Origin; the HTTP status when refused, or 101 when it opened. */
async function wsStatus(base: string, origin: string): Promise<number> {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/ws`, { headers: { origin } });
  socket.on('error', () => {});
  try {
    return await within(
      new Promise<number>((resolve) => {
        socket.once('open', () => resolve(101));
        socket.once('unexpected-response', (_request, response) => resolve(response.statusCode!));
      }),
      5000,
      'the handshake',
    );
  } finally {
    socket.terminate();
  }
}

test('a page on another port of localhost may neither upload nor open the WebSocket; the gateway\'s own origin may', async (t) => {
  const { dir, port } = await startTorServer(t);
  const app = await startApp(t, port);
  const base = await listen(app);
  const host = new URL(base).host;
  const own = `http://${host}`;
  for (const origin of ['http://localhost:3000', `http://127.0.0.1:${Number(new URL(base).port) + 1}`, 'http://[::1]:5173', `https://${host}.evil.example`]) {
    await request(app.server).put('/api/files/csrf.txt').set('Host', host).set('Origin', origin).send('x').expect(403);
    await request(app.server).post('/api/files').set('Host', host).set('Origin', origin).attach('file', Buffer.from('x'), 'csrf.txt').expect(403);
    assert.equal(await wsStatus(base, origin), 403, origin);
  }
  assert.deepEqual(await storedNames(dir), []);
  await request(app.server).put('/api/files/mine.txt').set('Host', host).set('Origin', own).send('x').expect(201);
  assert.equal(await wsStatus(base, own), 101);
  // The same gateway reached by another of its names is another origin.
  assert.equal(await wsStatus(base, `http://localhost:${new URL(base).port}`), 403);
});

test('--allowed-origins lets exactly the named origins in (a dev server, say)', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port, { allowedOrigins: ['http://localhost:5173'] });
  const base = await listen(app);
  assert.equal(await wsStatus(base, 'http://localhost:5173'), 101);
  assert.equal(await wsStatus(base, 'http://localhost:5174'), 403);
  await request(app.server).put('/api/files/dev.txt').set('Origin', 'http://localhost:5173').send('x').expect(201);
});

test('a sandboxed page (Origin: null) is refused', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port);
  const base = await listen(app);
  assert.equal(await wsStatus(base, 'null'), 403);
  await request(app.server).put('/api/files/sandboxed.txt').set('Origin', 'null').send('x').expect(403);
});
