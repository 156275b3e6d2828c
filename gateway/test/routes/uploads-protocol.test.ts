import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TftcpClient } from 'tor-server/client';
import { EMPTY_PARTIAL_TTL_MS } from 'tor-server/server';
import { ApiPath, TUS_CONTENT_TYPE } from '../../src/api/index.js';
import { listen, startStack, storedNames } from '../helpers.js';
import { TUS, checksumOf, createUpload, head, nameMetadata, offsetOf, partialFiles, patch } from './uploads-helpers.js';

const HOUR_MS = 3600_000;

describe('tus 1.0.0 at /api/uploads/: the exact exchange', () => {
  it('OPTIONS tells the version, extensions, maximum size and checksum algorithms', async (t) => {
    const { app } = await startStack(t, { app: { maxUploadSize: 5000 } });
    const base = await listen(app);
    for (const url of [ApiPath.uploads, `${ApiPath.uploads}${'a'.repeat(32)}`]) {
      const response = await fetch(`${base}${url}`, { method: 'OPTIONS' });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('tus-resumable'), '1.0.0');
      assert.equal(response.headers.get('tus-version'), '1.0.0');
      assert.equal(response.headers.get('tus-extension'), 'creation,creation-with-upload,termination,expiration,checksum');
      assert.equal(response.headers.get('tus-max-size'), '5000');
      assert.equal(response.headers.get('tus-checksum-algorithm'), 'sha256,sha1');
    }
  });

  it('creates, reports, takes chunks and commits on the last byte; nothing is visible before', async (t) => {
    const { app, dir } = await startStack(t, { tor: { partialTtlMs: HOUR_MS } });
    const base = await listen(app);
    const data = Buffer.from('hello resumable world');
    const before = Date.now();
    const created = await fetch(`${base}${ApiPath.uploads}`, { method: 'POST', headers: { ...TUS, 'upload-length': String(data.length), 'upload-metadata': `${nameMetadata('héllo.txt')},type dGV4dC9wbGFpbg==,empty` } });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('tus-resumable'), '1.0.0');
    const location = created.headers.get('location')!;
    assert.match(location, /^\/api\/uploads\/[a-z0-9]{32}$/);
    const expires = Date.parse(created.headers.get('upload-expires')!);
    // An HTTP date has whole seconds; an upload without bytes yet expires sooner than the TTL.
    assert.ok(expires >= before + EMPTY_PARTIAL_TTL_MS - 1000 && expires <= Date.now() + EMPTY_PARTIAL_TTL_MS, created.headers.get('upload-expires')!);
    const url = `${base}${location}`;

    const fresh = await head(url);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers.get('upload-offset'), '0');
    assert.equal(fresh.headers.get('upload-length'), String(data.length));
    assert.equal(fresh.headers.get('upload-metadata'), nameMetadata('héllo.txt'));
    assert.equal(fresh.headers.get('cache-control'), 'no-store');
    assert.ok(fresh.headers.get('upload-expires'));

    const first = await patch(url, 0, data.subarray(0, 6));
    assert.equal(first.status, 204);
    assert.equal(first.headers.get('upload-offset'), '6');
    assert.equal(first.headers.get('tus-resumable'), '1.0.0');
    // With bytes stored, the whole TTL.
    assert.ok(Date.parse(first.headers.get('upload-expires')!) >= before + HOUR_MS - 1000, first.headers.get('upload-expires')!);
    assert.equal(await offsetOf(url), 6);
    assert.deepEqual(await storedNames(dir), []);

    const last = await patch(url, 6, data.subarray(6));
    assert.equal(last.status, 204);
    assert.equal(last.headers.get('upload-offset'), String(data.length));
    assert.deepEqual(await readFile(path.join(dir, 'héllo.txt')), data);
    assert.deepEqual(await partialFiles(dir), []);
    // Committed: the URL reports it complete (what a client whose last answer was lost asks).
    assert.equal((await head(url)).headers.get('upload-offset'), String(data.length));
  });

  it('creation-with-upload stores the first bytes in the POST (the whole file, when it is all there)', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const data = Buffer.from('0123456789');
    const partly = await fetch(`${base}${ApiPath.uploads}`, {
      method: 'POST',
      headers: { ...TUS, 'upload-length': String(data.length), 'upload-metadata': nameMetadata('p.bin'), 'content-type': TUS_CONTENT_TYPE },
      body: data.subarray(0, 4),
    });
    assert.equal(partly.status, 201);
    assert.equal(partly.headers.get('upload-offset'), '4');
    const url = `${base}${partly.headers.get('location')}`;
    assert.equal(await offsetOf(url), 4);
    assert.equal((await patch(url, 4, data.subarray(4))).status, 204);
    assert.deepEqual(await readFile(path.join(dir, 'p.bin')), data);

    const whole = await fetch(`${base}${ApiPath.uploads}`, {
      method: 'POST',
      headers: { ...TUS, 'upload-length': '3', 'upload-metadata': `name ${Buffer.from('w.bin').toString('base64')}`, 'content-type': TUS_CONTENT_TYPE },
      body: 'abc',
    });
    assert.equal(whole.status, 201);
    assert.equal(whole.headers.get('upload-offset'), '3');
    assert.equal(await readFile(path.join(dir, 'w.bin'), 'utf8'), 'abc');
  });

  it('a HEAD that finds every byte stored commits the file (a gateway stopped between the last put and its commit)', async (t) => {
    const { app, dir, server } = await startStack(t);
    const base = await listen(app);
    const url = await createUpload(base, 'late.bin', 5);
    // The last bytes reach the tor-server, but no commit follows.
    const client = await TftcpClient.connect({ host: '127.0.0.1', port: server.address().port });
    t.after(() => client.destroy());
    await client.put(url.slice(url.lastIndexOf('/') + 1), 0, Buffer.from('late!'));
    assert.deepEqual(await storedNames(dir), []);
    const response = await head(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('upload-offset'), '5');
    assert.equal(await readFile(path.join(dir, 'late.bin'), 'utf8'), 'late!');
  });

  it('an empty file is stored by its POST', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    await createUpload(base, 'empty.txt', 0);
    assert.equal(await readFile(path.join(dir, 'empty.txt'), 'utf8'), '');
  });

  it('checks Upload-Checksum (sha256 and sha1): a mismatch is 460 and stores nothing of that PATCH', async (t) => {
    const { app, dir, spoolDir } = await startStack(t);
    const base = await listen(app);
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 251));
    const url = await createUpload(base, 'sum.bin', data.length);
    const wrong = await patch(url, 0, data.subarray(0, 50_000), { 'upload-checksum': checksumOf(Buffer.from('other')) });
    assert.equal(wrong.status, 460);
    assert.match(((await wrong.json()) as { error: string }).error, /^Checksum mismatch: /);
    assert.equal(await offsetOf(url), 0);
    const right = await patch(url, 0, data.subarray(0, 50_000), { 'upload-checksum': checksumOf(data.subarray(0, 50_000)) });
    assert.equal(right.status, 204);
    assert.equal(right.headers.get('upload-offset'), '50000');
    const wrongSha1 = await patch(url, 50_000, data.subarray(50_000), { 'upload-checksum': checksumOf(data.subarray(0, 50_000), 'sha1') });
    assert.equal(wrongSha1.status, 460);
    assert.equal(await offsetOf(url), 50_000);
    const rightSha1 = await patch(url, 50_000, data.subarray(50_000), { 'upload-checksum': checksumOf(data.subarray(50_000), 'sha1') });
    assert.equal(rightSha1.status, 204);
    assert.deepEqual(await readFile(path.join(dir, 'sum.bin')), data);
    // Nothing is left in the spool folder, the mismatching chunks included.
    assert.deepEqual(await storedNames(spoolDir), []);
  });

  it('refuses a malformed or unknown checksum (400) and before any byte', async (t) => {
    const { app } = await startStack(t);
    const base = await listen(app);
    const url = await createUpload(base, 'c.bin', 10);
    assert.equal((await patch(url, 0, Buffer.from('abc'), { 'upload-checksum': 'md5 AAAA' })).status, 400);
    assert.equal((await patch(url, 0, Buffer.from('abc'), { 'upload-checksum': 'sha256 notbase64!' })).status, 400);
    // The 413 of a checksummed chunk over the spool limit: uploads-lifecycle.test.ts (raw bytes).
    assert.equal(await offsetOf(url), 0);
  });

  it('answers a wrong offset 409, a chunk past the length 413, a wrong type 415, no Tus-Resumable 412', async (t) => {
    const { app } = await startStack(t);
    const base = await listen(app);
    const url = await createUpload(base, 'o.bin', 10);
    const wrongOffset = await patch(url, 5, Buffer.from('abc'));
    assert.equal(wrongOffset.status, 409);
    assert.match(((await wrongOffset.json()) as { error: string }).error, /Upload-Offset is 5 but the upload stands at 0/);
    assert.equal((await patch(url, 0, Buffer.alloc(11))).status, 413);
    assert.equal((await patch(url, 0, Buffer.from('abc'), { 'content-type': 'application/octet-stream' })).status, 415);
    const noVersion = await fetch(url, { method: 'HEAD' });
    assert.equal(noVersion.status, 412);
    assert.equal(noVersion.headers.get('tus-version'), '1.0.0');
    const oldVersion = await fetch(`${base}${ApiPath.uploads}`, { method: 'POST', headers: { 'tus-resumable': '0.2.2', 'upload-length': '1', 'upload-metadata': nameMetadata('v.bin') } });
    assert.equal(oldVersion.status, 412);
    assert.equal(await offsetOf(url), 0);
  });

  it('refuses creations the tor-server would refuse: no length, no name, bad name, taken name, too large', async (t) => {
    const { app } = await startStack(t, { files: { 'taken.txt': 'x' }, app: { maxUploadSize: 1000 } });
    const base = await listen(app);
    const post = (headers: Record<string, string>) => fetch(`${base}${ApiPath.uploads}`, { method: 'POST', headers: { ...TUS, ...headers } });
    assert.equal((await post({ 'upload-metadata': nameMetadata('a.bin') })).status, 400);
    assert.equal((await post({ 'upload-length': '5' })).status, 400);
    assert.equal((await post({ 'upload-length': '5', 'upload-metadata': 'filename ###' })).status, 400);
    assert.equal((await post({ 'upload-length': '5', 'upload-defer-length': '1', 'upload-metadata': nameMetadata('a.bin') })).status, 400);
    assert.equal((await post({ 'upload-length': '5', 'upload-metadata': nameMetadata('../a.bin') })).status, 400);
    const taken = await post({ 'upload-length': '5', 'upload-metadata': nameMetadata('taken.txt') });
    assert.equal(taken.status, 409);
    assert.equal(((await taken.json()) as { error: string }).error, 'File already exists: taken.txt');
    assert.equal((await post({ 'upload-length': '1001', 'upload-metadata': nameMetadata('big.bin') })).status, 413);
  });

  it("the tor-server's bound on unfinished uploads is a 429 with its words (a tus client does not retry it)", async (t) => {
    const { app } = await startStack(t, { tor: { maxPartialsPerOwner: 1 } });
    const base = await listen(app);
    await createUpload(base, 'one.bin', 10);
    const refused = await fetch(`${base}${ApiPath.uploads}`, { method: 'POST', headers: { ...TUS, 'upload-length': '10', 'upload-metadata': nameMetadata('two.bin') } });
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: string }).error, 'Too many partial uploads: at most 1: commit or abort one first');
  });

  it('an unknown or malformed upload id is 404 for HEAD, PATCH and DELETE', async (t) => {
    const { app } = await startStack(t);
    const base = await listen(app);
    for (const id of ['0'.repeat(32), 'NOT-AN-ID']) {
      const url = `${base}${ApiPath.uploads}${id}`;
      assert.equal((await head(url)).status, 404);
      assert.equal((await patch(url, 0, Buffer.from('abc'))).status, 404);
      assert.equal((await fetch(url, { method: 'DELETE', headers: TUS })).status, 404);
    }
  });

  it('DELETE terminates an upload: 204, its bytes are gone, its URL is 404', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const url = await createUpload(base, 'gone.bin', 10);
    assert.equal((await patch(url, 0, Buffer.from('abcd'))).status, 204);
    assert.notDeepEqual(await partialFiles(dir), []);
    const deleted = await fetch(url, { method: 'DELETE', headers: TUS });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.headers.get('tus-resumable'), '1.0.0');
    assert.deepEqual(await partialFiles(dir), []);
    assert.equal((await head(url)).status, 404);
    assert.deepEqual(await storedNames(dir), []);
  });

  it('refuses a page of another origin (403)', async (t) => {
    const { app } = await startStack(t);
    const base = await listen(app);
    const response = await fetch(`${base}${ApiPath.uploads}`, { method: 'POST', headers: { ...TUS, origin: 'http://evil.example', 'upload-length': '1', 'upload-metadata': nameMetadata('x.bin') } });
    assert.equal(response.status, 403);
  });
});
