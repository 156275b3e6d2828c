import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { freePort, scratchDir } from 'test-support';
import { startApp } from '../helpers.js';

const INDEX = '<!doctype html><title>app</title><script type="module" src="/assets/app-3f9a1c.js"></script>';

async function builtWebDir(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await scratchDir(t, 'gw-web-');
  await fs.mkdir(path.join(dir, 'assets'));
  await fs.writeFile(path.join(dir, 'index.html'), INDEX);
  await fs.writeFile(path.join(dir, 'assets', 'app-3f9a1c.js'), 'console.log("app")');
  await fs.writeFile(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

test('serves index.html with SPA security headers, and as the fallback for app routes', async (t) => {
  const app = await startApp(t, await freePort(), { webDir: await builtWebDir(t) });
  for (const url of ['/', '/files/some/route', '/settings?tab=2']) {
    const res = await request(app.server).get(url).expect(200);
    assert.equal(res.text, INDEX, url);
    assert.match(res.headers['content-type']!, /^text\/html/);
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.match(res.headers['content-security-policy']!, /default-src 'self'/);
    assert.match(res.headers['content-security-policy']!, /frame-ancestors 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['x-frame-options'], 'DENY');
  }
});

test('hashed assets are cached for a year; other files revalidate; missing files are 404, not index.html', async (t) => {
  const app = await startApp(t, await freePort(), { webDir: await builtWebDir(t) });
  const asset = await request(app.server).get('/assets/app-3f9a1c.js').expect(200);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(asset.headers['content-type']!, /javascript/);
  const icon = await request(app.server).get('/favicon.svg').expect(200);
  assert.equal(icon.headers['cache-control'], 'no-cache');
  await request(app.server).get('/assets/missing-000.js').expect(404);
  const api = await request(app.server).get('/api/nothing').expect(404);
  assert.deepEqual(api.body, { error: 'no such API route: GET /api/nothing' });
});

test('without a built app, / and app routes answer 503 saying how to build it', async (t) => {
  const app = await startApp(t, await freePort(), { webDir: path.join(await scratchDir(t), 'dist-not-built') });
  for (const url of ['/', '/some/route']) {
    const res = await request(app.server).get(url).expect(503);
    assert.match(res.body.error, /npm run build -w web/);
  }
  await request(app.server).get('/api/nothing').expect(404);
});
