import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { Reply } from 'tor-server/protocol';
import { parseContentDispositionName } from '../../src/lib/content-disposition.js';
import type { TorServer } from 'tor-server/server';
import { Scope, binary, listen, sha256, startApp, startTorServer, transferConnections, keptConnections, waitFor, waitForClients, withTimeout, type TestApp } from '../helpers.js';

const content = randomBytes(3 * 1024 * 1024 + 17);
const odd = 'résumé final €100 (v2).txt';
const url = (name: string) => `/api/files/${encodeURIComponent(name)}`;

describe('GET /api/files and /api/files/:name', () => {
  const scope = new Scope();
  let server: TorServer;
  let dir: string;
  let app: TestApp;
  const http_ = () => request(app.server);
  const fetchBytes = (name: string) => http_().get(url(name)).buffer(true).parse(binary);

  before(async () => {
    let port: number;
    ({ server, dir, port } = await startTorServer(scope));
    app = await startApp(scope, port);
    await fs.writeFile(path.join(dir, 'data.bin'), content);
    await fs.writeFile(path.join(dir, 'notes.txt'), 'hello, notes\n');
    await fs.writeFile(path.join(dir, 'Report.PDF'), '%PDF-1.4 fake');
    await fs.writeFile(path.join(dir, 'empty.txt'), '');
    await fs.writeFile(path.join(dir, odd), 'unicode name\n');
    await fs.writeFile(path.join(dir, 'page.html'), '<script>document.title = "owned"</script>');
    await fs.writeFile(path.join(dir, 'pic.png'), randomBytes(100));
    await fs.writeFile(path.join(dir, 'draw.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  });
  after(() => scope.close());

  test('lists every file with size and ISO date, and searches case-insensitively', async () => {
    const all = await http_().get('/api/files').expect(200);
    assert.deepEqual(
      all.body.map((f: { name: string }) => f.name),
      ['Report.PDF', 'data.bin', 'draw.svg', 'empty.txt', 'notes.txt', 'page.html', 'pic.png', odd],
    );
    const data = all.body.find((f: { name: string }) => f.name === 'data.bin');
    assert.equal(data.size, content.length);
    assert.match(data.modified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(all.headers['cache-control'], 'no-store');

    const found = await http_().get('/api/files').query({ search: 'PDF' }).expect(200);
    assert.deepEqual(found.body.map((f: { name: string }) => f.name), ['Report.PDF']);
    const unicode = await http_().get('/api/files').query({ search: 'RÉSUMÉ' }).expect(200);
    assert.deepEqual(unicode.body.map((f: { name: string }) => f.name), [odd]);
    const none = await http_().get('/api/files').query({ search: 'zzz' }).expect(200);
    assert.deepEqual(none.body, []);
  });

  test('a search text with a line break is refused instead of reaching the command line', async () => {
    const res = await http_().get('/api/files').query({ search: 'x\nshow' }).expect(400);
    assert.match(res.body.error, /control characters/);
  });

  test('downloads the whole file byte-identical with the download headers', async () => {
    const res = await fetchBytes('data.bin').expect(200);
    assert.equal(sha256(res.body), sha256(content));
    assert.equal(res.headers['content-length'], String(content.length));
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.match(res.headers['content-disposition']!, /^attachment;/);
    assert.match(res.headers.etag!, /^"[^"]+"$/);
    const stat = await fs.stat(path.join(dir, 'data.bin'));
    assert.equal(res.headers['last-modified'], stat.mtime.toUTCString());
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  test('an empty file downloads as zero bytes', async () => {
    const res = await fetchBytes('empty.txt').expect(200);
    assert.equal(res.body.length, 0);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
  });

  test('a missing file is 404 with the server reply', async () => {
    const res = await http_().get(url('nope.txt')).expect(404);
    assert.deepEqual(res.body, { error: Reply.NOT_FOUND });
  });

  test('an invalid name is 400', async () => {
    const res = await http_().get('/api/files/.hidden').expect(400);
    assert.match(res.body.error, /^Invalid file name/);
  });

  test('names with spaces and non-ASCII round-trip through the URL and Content-Disposition', async () => {
    const res = await fetchBytes(odd).expect(200);
    assert.equal(res.body.toString(), 'unicode name\n');
    const header = res.headers['content-disposition']!;
    assert.equal(parseContentDispositionName(header), odd);
    assert.match(header, /filename="[\x20-\x7e]+"/, 'the ASCII fallback has only printable ASCII');
  });

  describe('Range', () => {
    const size = content.length;
    const cases: [string, number, number][] = [
      ['bytes=0-9', 0, 9],
      ['bytes=1000-', 1000, size - 1],
      ['bytes=-500', size - 500, size - 1],
      [`bytes=-${size + 100}`, 0, size - 1],
      [`bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
      [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
    ];
    for (const [header, start, end] of cases) {
      test(`${header} answers 206 with exactly bytes ${start}-${end}`, async () => {
        const res = await fetchBytes('data.bin').set('Range', header).expect(206);
        assert.equal(res.headers['content-range'], `bytes ${start}-${end}/${size}`);
        assert.equal(res.headers['content-length'], String(end - start + 1));
        assert.ok(res.body.equals(content.subarray(start, end + 1)));
      });
    }

    test('a range starting past the end is 416 with the size in Content-Range', async () => {
      const res = await http_().get(url('data.bin')).set('Range', `bytes=${size}-`).expect(416);
      assert.equal(res.headers['content-range'], `bytes */${size}`);
      assert.equal(typeof res.body.error, 'string');
      await http_().get(url('data.bin')).set('Range', 'bytes=-0').expect(416);
      await http_().get(url('empty.txt')).set('Range', 'bytes=0-').expect(416);
    });

    test('several ranges, or a malformed one, get the whole file', async () => {
      for (const header of ['bytes=0-1,5-6', 'bytes=5-2', 'lines=1-2', 'bytes=abc']) {
        const res = await fetchBytes('data.bin').set('Range', header).expect(200);
        assert.equal(res.body.length, size, header);
      }
    });

    test('If-Range with the current ETag honours the range; with an old one sends everything', async () => {
      const { headers } = await http_().head(url('data.bin')).expect(200);
      const ranged = await fetchBytes('data.bin').set('Range', 'bytes=0-3').set('If-Range', headers.etag!).expect(206);
      assert.equal(ranged.body.length, 4);
      const stale = await fetchBytes('data.bin').set('Range', 'bytes=0-3').set('If-Range', '"old"').expect(200);
      assert.equal(stale.body.length, size);
    });
  });

  test('HEAD answers the headers over the shared command pool: HEADs, 404s and 304s one after another open no tor-server connection of their own', async () => {
    let connects = 0;
    let last = server.connections.size;
    const count = (size: number) => {
      if (size > last) connects++;
      last = size;
    };
    server.on('clients', count);
    try {
      const res = await http_().head(url('data.bin')).expect(200);
      assert.equal(res.headers['content-length'], String(content.length));
      assert.equal(res.headers['accept-ranges'], 'bytes');
      const ranged = await http_().head(url('data.bin')).set('Range', 'bytes=10-19').expect(206);
      assert.equal(ranged.headers['content-length'], '10');
      assert.equal(ranged.headers['content-range'], `bytes 10-19/${content.length}`);
      for (let i = 0; i < 20; i++) await http_().head(url(i % 2 ? 'notes.txt' : 'no such file.txt')).expect(i % 2 ? 200 : 404);
      await http_().get(url('data.bin')).set('If-None-Match', res.headers.etag!).expect(304);
    } finally {
      server.off('clients', count);
    }
    assert.ok(connects <= 1, `${connects} new tor-server connections (one pooled connection serves them all)`);
    assert.equal(transferConnections(app), 0);
  });

  test('ETag and Last-Modified revalidate with 304', async () => {
    const { headers } = await http_().head(url('notes.txt')).expect(200);
    const res = await http_().get(url('notes.txt')).set('If-None-Match', headers.etag!).expect(304);
    assert.equal(res.headers.etag, headers.etag);
    await http_().get(url('notes.txt')).set('If-None-Match', `"other", W/${headers.etag}`).expect(304);
    await http_().get(url('notes.txt')).set('If-None-Match', '"other"').expect(200);
    await http_().get(url('notes.txt')).set('If-Modified-Since', headers['last-modified']!).expect(304);
    await http_().get(url('notes.txt')).set('If-Modified-Since', new Date(0).toUTCString()).expect(200);
  });

  test('?inline=1 shows safe types inline and never lets HTML or SVG run script in the origin', async () => {
    const png = await http_().get(`${url('pic.png')}?inline=1`).expect(200);
    assert.match(png.headers['content-disposition']!, /^inline;/);
    assert.equal(png.headers['content-type'], 'image/png');

    for (const name of ['page.html', 'draw.svg']) {
      const res = await http_().get(`${url(name)}?inline=1`).expect(200);
      // Shown as source text, never as a document or an image that runs script.
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8', name);
      const csp = res.headers['content-security-policy']!;
      assert.match(csp, /(^|;\s*)sandbox(\s*;|$)/, name);
      assert.match(csp, /default-src 'none'/, name);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      const download = await http_().get(url(name)).expect(200);
      assert.equal(download.headers['content-type'], 'application/octet-stream', name);
      assert.match(download.headers['content-disposition']!, /^attachment;/, name);
    }
  });

  test('every request leaves the tor-server with the clients it had, besides the pooled ones for listings', async () => {
    await waitFor(() => server.connections.size === keptConnections(app) && transferConnections(app) === 0, 'only kept connections to be left');
    assert.ok(app.commandPool.openCount <= 1, `listings one after another need one pooled connection (has ${app.commandPool.openCount})`);
  });

  test('a browser that leaves mid-download tears down its TFTCP connection at once', async () => {
    const big = Buffer.alloc(64 * 1024 * 1024, 7);
    await fs.writeFile(path.join(dir, 'big.bin'), big);
    const base = await listen(app);
    // The download takes an idle transfer connection when there is one; cut, it is not kept.
    const before = server.connections.size - Math.min(app.transferPool.idleCount, 1);
    const received = await withTimeout(
      new Promise<number>((resolve, reject) => {
        const req = http.get(`${base}${url('big.bin')}`, (res) => {
          let count = 0;
          res.on('data', (chunk: Buffer) => {
            count += chunk.length;
            if (count > 1024 * 1024) {
              req.destroy();
              resolve(count);
            }
          });
        });
        req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
      }),
      10_000,
      'the first megabyte',
    );
    assert.ok(received < big.length);
    await waitForClients(server, before);
    await waitFor(() => transferConnections(app) === 0, 'the gateway to hold no TFTCP connection for transfers');
  });
});
