import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { startApp, startTorServer } from '../helpers.js';

const ACTIVE = /html|xml|javascript|ecmascript|css|wasm|svg/i;

test('uploaded scripts, pages, images with script and style sheets are never served with an active type, inline or not', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port);
  const files: Record<string, string> = {
    'evil.js': 'window.owned = true;',
    'evil.mjs': 'export const owned = true;',
    'x.html': '<script>parent.owned = true</script>',
    'x.xhtml': '<html xmlns="http://www.w3.org/1999/xhtml"><script>owned = true</script></html>',
    'x.svg': '<svg xmlns="http://www.w3.org/2000/svg"><script>owned = true</script></svg>',
    'x.xml': '<?xml-stylesheet href="x.xsl"?><x/>',
    'x.css': 'body { background: url(/api/files) }',
    'x.wasm': '\0asm',
  };
  for (const [name, content] of Object.entries(files)) await request(app.server).put(`/api/files/${name}`).send(content).expect(201);

  for (const name of Object.keys(files)) {
    for (const query of ['', '?inline=1']) {
      const res = await request(app.server).get(`/api/files/${name}${query}`).buffer(true).expect(200);
      const type = res.headers['content-type']!;
      assert.doesNotMatch(type, ACTIVE, `${name}${query} is served as ${type}`);
      assert.ok(type === 'application/octet-stream' || type === 'text/plain; charset=utf-8', `${name}${query}: ${type}`);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(res.headers['content-security-policy']!, /(^|;\s*)sandbox(\s*;|$)/, name);
      assert.match(res.headers['content-security-policy']!, /default-src 'none'/, name);
      if (query === '') assert.match(res.headers['content-disposition']!, /^attachment;/, name);
    }
  }
  // Text sources preview as text; binaries only download.
  assert.equal((await request(app.server).get('/api/files/evil.js?inline=1')).headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal((await request(app.server).get('/api/files/x.wasm?inline=1')).headers['content-type'], 'application/octet-stream');
});

test('PDFs keep their type for the preview, under the same sandboxed policy as every file', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port);
  await request(app.server).put('/api/files/report.pdf').send('%PDF-1.4').expect(201);
  const res = await request(app.server).get('/api/files/report.pdf?inline=1').expect(200);
  assert.equal(res.headers['content-type'], 'application/pdf');
  assert.match(res.headers['content-disposition']!, /^inline;/);
  assert.match(res.headers['content-security-policy']!, /(^|;\s*)sandbox(\s*;|$)/);
  assert.match(res.headers['content-security-policy']!, /default-src 'none'/);
  assert.match(res.headers['content-security-policy']!, /frame-ancestors 'self'/);
});
