import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { ErrorKind } from 'tor-server/protocol';
import type { TorServer } from 'tor-server/server';
import { eventually, Scope, sha256, within } from 'test-support';
import { SIZE_MISMATCH } from '../../src/errors.js';
import { keptConnections, listen, startStack, storedNames, tempFiles, transferConnections, type TestApp } from '../helpers.js';

const MAX_UPLOAD = 4 * 1024 * 1024;
const TOR_MAX_FILE = 3 * 1024 * 1024;

describe('POST /api/files and PUT /api/files/:name', () => {
  const scope = new Scope();
  let server: TorServer;
  let dir: string;
  let spoolDir: string;
  let app: TestApp;
  let base: string;
  const http_ = () => request(app.server);
  const stored = async (name: string) => sha256(await fs.readFile(path.join(dir, name)));

  before(async () => {
    ({ server, dir, spoolDir, app } = await startStack(scope, { tor: { maxFileSize: TOR_MAX_FILE }, app: { maxUploadSize: MAX_UPLOAD } }));
    base = await listen(app);
  });
  after(() => scope.close());

  test('multipart with a size hint streams the file in, byte-identical', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const res = await http_().post('/api/files').field('size', String(data.length)).attach('file', data, 'hinted.bin').expect(201);
    assert.deepEqual(res.body, { files: [{ name: 'hinted.bin', size: data.length, ok: true }] });
    assert.equal(await stored('hinted.bin'), sha256(data));
  });

  test('multipart without a size hint is spooled, stored, and the spool file removed', async () => {
    const data = randomBytes(1024 * 1024 + 3);
    const res = await http_().post('/api/files').attach('file', data, 'spooled.bin').expect(201);
    assert.deepEqual(res.body, { files: [{ name: 'spooled.bin', size: data.length, ok: true }] });
    assert.equal(await stored('spooled.bin'), sha256(data));
    assert.deepEqual(await fs.readdir(spoolDir), []);
  });

  test('several files in one request, hinted or not, names with spaces and non-ASCII', async () => {
    const files = [randomBytes(300_000), randomBytes(1000), Buffer.alloc(0)];
    const names = ['one two.bin', 'ünïcødé ✓.txt', 'empty.dat'];
    const res = await http_()
      .post('/api/files')
      .field('size', String(files[0]!.length))
      .attach('file', files[0]!, names[0])
      .attach('file', files[1]!, names[1])
      .field('size', '0')
      .attach('file', files[2]!, names[2])
      .expect(201);
    assert.deepEqual(
      res.body.files,
      names.map((name, i) => ({ name, size: files[i]!.length, ok: true })),
    );
    for (const [i, name] of names.entries()) assert.equal(await stored(name), sha256(files[i]!), name);
  });

  test('a size hint that does not match the bytes stores nothing (400); after a short part the next part still goes in (207)', async () => {
    const data = randomBytes(100_000);
    // Fewer bytes than announced: known only at the end of the part, so the form goes on.
    const short = await http_()
      .post('/api/files')
      .field('size', String(data.length + 1))
      .attach('file', data, 'mismatch-short.bin')
      .field('size', '5')
      .attach('file', Buffer.from('after'), 'after-short.txt')
      .expect(207);
    assert.equal(short.body.files[0].ok, false);
    assert.ok(short.body.files[0].error.startsWith(SIZE_MISMATCH), short.body.files[0].error);
    assert.deepEqual(short.body.files[1], { name: 'after-short.txt', size: 5, ok: true });
    // More bytes than announced: refused mid-part, and the rest of the form is not read.
    const long = await http_()
      .post('/api/files')
      .field('size', String(data.length - 1))
      .attach('file', data, 'mismatch-long.bin')
      .field('size', '5')
      .attach('file', Buffer.from('after'), 'after-long.txt')
      .expect(400);
    assert.equal(long.body.files.length, 1);
    assert.ok(long.body.files[0].error.startsWith(SIZE_MISMATCH), long.body.files[0].error);
    const names = await storedNames(dir);
    assert.ok(names.includes('after-short.txt') && !names.includes('after-long.txt'));
    assert.ok(!names.includes('mismatch-short.bin') && !names.includes('mismatch-long.bin'));
    await eventually(async () => (await tempFiles(dir)).length === 0, 'the temp folder to empty');
  });

  test('PUT with Content-Length streams the raw body in; Location names the file', async () => {
    const data = randomBytes(1024 * 1024);
    const res = await http_().put(`/api/files/${encodeURIComponent('raw put.bin')}`).set('Content-Type', 'application/octet-stream').send(data).expect(201);
    assert.deepEqual(res.body, { name: 'raw put.bin', size: data.length, ok: true });
    assert.equal(res.headers.location, '/api/files/raw%20put.bin');
    assert.equal(await stored('raw put.bin'), sha256(data));
    // A JSON content type is still just bytes to store.
    await http_().put('/api/files/data.json').set('Content-Type', 'application/json').send('{"a": 1}').expect(201);
    assert.equal(await fs.readFile(path.join(dir, 'data.json'), 'utf8'), '{"a": 1}');
  });

  test('PUT without a Content-Length is 411', async () => {
    const status = await rawPut(base, '/api/files/chunked.bin', { 'transfer-encoding': 'chunked' }, [Buffer.from('abc')]);
    assert.equal(status.code, 411);
    assert.ok(!(await storedNames(dir)).includes('chunked.bin'));
  });

  test('an existing name is 409 with the server reply, for PUT and multipart', async () => {
    await http_().put('/api/files/taken.txt').send('first').expect(201);
    const put = await http_().put('/api/files/taken.txt').send('second').expect(409);
    assert.equal(put.body.error, `${ErrorKind.FILE_EXISTS}: taken.txt`);
    const post = await http_().post('/api/files').field('size', '6').attach('file', Buffer.from('second'), 'taken.txt').expect(409);
    assert.equal(post.body.files[0].error, `${ErrorKind.FILE_EXISTS}: taken.txt`);
    assert.equal(await fs.readFile(path.join(dir, 'taken.txt'), 'utf8'), 'first');
  });

  test('over the gateway limit or the tor-server limit is 413, nothing stored or spooled', async () => {
    const overGateway = randomBytes(MAX_UPLOAD + 1);
    const put = await http_().put('/api/files/huge.bin').send(overGateway).expect(413);
    assert.ok(put.body.error.startsWith(ErrorKind.TOO_LARGE));
    const hinted = await http_().post('/api/files').field('size', String(overGateway.length)).attach('file', overGateway, 'huge.bin').expect(413);
    assert.ok(hinted.body.files[0].error.startsWith(ErrorKind.TOO_LARGE));
    const spooled = await http_().post('/api/files').attach('file', overGateway, 'huge.bin').expect(413);
    assert.ok(spooled.body.files[0].error.startsWith(ErrorKind.TOO_LARGE));
    // Between the two limits the tor-server refuses it, and its reply comes through.
    const overTor = randomBytes(TOR_MAX_FILE + 1);
    const refused = await http_().put('/api/files/huge.bin').send(overTor).expect(413);
    assert.match(refused.body.error, new RegExp(`^${ErrorKind.TOO_LARGE}: .*limit is ${TOR_MAX_FILE} bytes`));
    assert.ok(!(await storedNames(dir)).includes('huge.bin'));
    assert.deepEqual(await fs.readdir(spoolDir), []);
  });

  test('invalid names and sizes are 400', async () => {
    const hidden = await http_().put('/api/files/.hidden').send('x').expect(400);
    assert.ok(hidden.body.error.startsWith(ErrorKind.INVALID_NAME));
    const newline = await http_().put('/api/files/a%0Ashow').send('x').expect(400);
    assert.ok(newline.body.error.startsWith(ErrorKind.INVALID_NAME));
    const badHint = await http_().post('/api/files').field('size', 'ten').attach('file', Buffer.from('x'), 'x.txt').expect(400);
    assert.ok(badHint.body.files[0].error.startsWith(ErrorKind.INVALID_SIZE));
    await http_().post('/api/files').field('note', 'no file').expect(400);
    await http_().post('/api/files').set('Content-Type', 'text/plain').send('not a form').expect(415);
  });

  test('uploads from another site are refused (403), same origin is fine', async () => {
    await http_().put('/api/files/csrf.txt').set('Origin', 'https://evil.example').send('x').expect(403);
    await http_().post('/api/files').set('Origin', 'https://evil.example').attach('file', Buffer.from('x'), 'csrf.txt').expect(403);
    const host = new URL(base).host;
    await http_().put('/api/files/same-origin.txt').set('Host', host).set('Origin', base).send('x').expect(201);
    assert.ok(!(await storedNames(dir)).includes('csrf.txt'));
  });

  test('a client that aborts a PUT mid-upload leaves nothing stored and no connection behind', async () => {
    await abortMidUpload('aborted-put.bin', (body) => ({ path: '/api/files/aborted-put.bin', headers: { 'content-length': String(body) }, prefix: Buffer.alloc(0) }));
  });

  test('a client that aborts a multipart upload mid-file leaves nothing stored and no connection behind', async () => {
    const boundary = 'gw-test-boundary';
    await abortMidUpload('aborted-form.bin', (body) => ({
      path: '/api/files',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      prefix: Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n${body}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="aborted-form.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    }));
  });

  /** Sends 1 MiB of a 3 MiB upload, waits until the tor-server is receiving it, then cuts the request. */
  async function abortMidUpload(name: string, shape: (bodySize: number) => { path: string; headers: Record<string, string>; prefix: Buffer }): Promise<void> {
    // The gateway keeps a clean connection or two between transfers; nothing else.
    await eventually(() => server.connections.size === keptConnections(app) && transferConnections(app) === 0, 'only kept connections');
    const kept = server.connections.size;
    const size = 3 * 1024 * 1024 - 1;
    const { path: target, headers, prefix } = shape(size);
    const req = http.request(`${base}${target}`, { method: target === '/api/files' ? 'POST' : 'PUT', headers });
    req.on('error', () => {});
    req.write(prefix);
    req.write(randomBytes(1024 * 1024));
    await eventually(() => [...server.connections].some((conn) => conn.activity.kind === 'uploading'), 'the tor-server to be receiving the upload');
    req.destroy();
    // The cut upload's connection is gone; it may have been a kept one.
    await eventually(() => transferConnections(app) === 0 && server.connections.size <= kept && server.connections.size === keptConnections(app), 'the cut upload connection to be gone');
    await eventually(async () => (await tempFiles(dir)).length === 0, 'the tor-server temp folder to empty');
    assert.ok(!(await storedNames(dir)).includes(name));
    await eventually(() => app.upstream.openCount === 0, 'the gateway to hold no TFTCP connection');
  }
});

/** A PUT with hand-set headers, for what supertest cannot send (chunked, no length). */
async function rawPut(base: string, target: string, headers: Record<string, string>, chunks: Buffer[]): Promise<{ code: number; body: string }> {
  return within(
    new Promise((resolve, reject) => {
      const req = http.request(`${base}${target}`, { method: 'PUT', headers }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ code: res.statusCode!, body }));
      });
      req.on('error', reject);
      for (const chunk of chunks) req.write(chunk);
      req.end();
    }),
    5000,
    'the PUT answer',
  );
}
