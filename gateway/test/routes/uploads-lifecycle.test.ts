import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TftcpClient } from 'tor-server/client';
import { eventually, within } from 'test-support';
import { ApiPath, TUS_CONTENT_TYPE, TUS_MAX_CHECKSUM_CHUNK_BYTES } from '../../src/api/index.js';
import { listen, rawRequest, startStack, storedNames } from '../helpers.js';
import { TUS, checksumOf, createUpload, head, nameMetadata, offsetOf, partialFiles, patch } from './uploads-helpers.js';

const BODY_IDLE_MS = 300;

/** POSTs a creation whose body is `data`, with extra headers. */
function postWithBody(base: string, name: string, size: number, data: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${ApiPath.uploads}`, {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(size), 'upload-metadata': nameMetadata(name), 'content-type': TUS_CONTENT_TYPE, ...headers },
    body: data,
  });
}

describe('tus uploads from creation to the end', () => {
  it('two POSTs of one name and size are two uploads: interleaved PATCHes never mix, the first committed wins, the other gets 409 and is aborted', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const a = await createUpload(base, 'report.bin', 8);
    const b = await createUpload(base, 'report.bin', 8);
    assert.notEqual(a, b);
    assert.equal((await patch(a, 0, Buffer.from('AAAA'))).status, 204);
    assert.equal(await offsetOf(b), 0);
    assert.equal((await patch(b, 0, Buffer.from('BBBB'))).status, 204);
    assert.equal(await offsetOf(a), 4);
    assert.equal((await patch(a, 4, Buffer.from('aaaa'))).status, 204);
    const refused = await patch(b, 4, Buffer.from('bbbb'));
    assert.equal(refused.status, 409);
    assert.equal(((await refused.json()) as { error: string }).error, 'File already exists: report.bin');
    assert.equal(await readFile(path.join(dir, 'report.bin'), 'utf8'), 'AAAAaaaa');
    // It could never be stored under that name: it is gone, not left to block the owner's bound.
    assert.equal((await head(b)).status, 404);
    assert.deepEqual(await partialFiles(dir), []);
  });

  it('a finished upload stays finished: HEAD answers Upload-Offset = Upload-Length (no expiry) and a PATCH at the end 204', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const url = await createUpload(base, 'done.txt', 5);
    assert.equal((await patch(url, 0, Buffer.from('hello'))).status, 204);
    for (let i = 0; i < 2; i++) {
      const again = await head(url);
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('upload-offset'), '5');
      assert.equal(again.headers.get('upload-length'), '5');
      assert.equal(again.headers.get('upload-metadata'), nameMetadata('done.txt'));
      assert.equal(again.headers.get('upload-expires'), null);
    }
    const empty = await patch(url, 5, Buffer.alloc(0));
    assert.equal(empty.status, 204);
    assert.equal(empty.headers.get('upload-offset'), '5');
    assert.equal((await patch(url, 0, Buffer.from('hello'))).status, 409);
    assert.equal(await readFile(path.join(dir, 'done.txt'), 'utf8'), 'hello');
  });

  it('a name taken before the commit: HEAD answers 409 with the server line, and the partial is aborted', async (t) => {
    const { app, dir, server } = await startStack(t);
    const base = await listen(app);
    const url = await createUpload(base, 'late.bin', 4);
    const client = await TftcpClient.connect({ host: '127.0.0.1', port: server.address().port });
    t.after(() => client.destroy());
    await client.put(url.slice(url.lastIndexOf('/') + 1), 0, Buffer.from('mine'));
    await client.upload('late.bin', 6, [Buffer.from('theirs')]);
    const refused = await head(url);
    assert.equal(refused.status, 409);
    assert.deepEqual(await partialFiles(dir), []);
    assert.equal((await head(url)).status, 404);
    assert.equal(await readFile(path.join(dir, 'late.bin'), 'utf8'), 'theirs');
  });

  it('a creation whose chunk fails leaves no partial behind (460, a client gone mid-body), so the bound on partials is never reached', async (t) => {
    const { app, dir } = await startStack(t, { tor: { maxPartialsPerOwner: 2 } });
    const base = await listen(app);
    const data = Buffer.from('some bytes');
    for (let i = 0; i < 3; i++) {
      const damaged = await postWithBody(base, `bad${i}.bin`, data.length, data, { 'upload-checksum': checksumOf(Buffer.from('other bytes')) });
      assert.equal(damaged.status, 460);
      assert.equal(damaged.headers.get('location'), null);
    }
    assert.deepEqual(await partialFiles(dir), []);
    // A client that sends half its first chunk and goes.
    const port = Number(new URL(base).port);
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => {});
    socket.write(
      `POST ${ApiPath.uploads} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 100\r\nUpload-Metadata: ${nameMetadata('gone.bin')}\r\n` +
        `Content-Type: ${TUS_CONTENT_TYPE}\r\nContent-Length: 100\r\n\r\n${'x'.repeat(40)}`,
    );
    await eventually(async () => (await partialFiles(dir)).length > 0, 'the creation began');
    socket.destroy();
    await eventually(async () => (await partialFiles(dir)).length === 0, 'the cut creation is aborted');
    for (let i = 0; i < 2; i++) assert.equal((await postWithBody(base, `good${i}.bin`, 4, Buffer.from('good'))).status, 201);
    assert.deepEqual(await storedNames(dir), ['good0.bin', 'good1.bin']);
  });

  it('a PATCH body that stops midway is cut after the idle time: what arrived is kept and the range is free at once', async (t) => {
    const { app, dir } = await startStack(t, { app: { tusBodyIdleMs: BODY_IDLE_MS } });
    const base = await listen(app);
    const url = await createUpload(base, 'idle.bin', 10);
    const port = Number(new URL(base).port);
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => {});
    socket.write(`PATCH ${new URL(url).pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: ${TUS_CONTENT_TYPE}\r\nContent-Length: 10\r\n\r\n0123`);
    // Left open, sending nothing more: the gateway cuts it.
    await within(once(socket, 'close'), 10_000, 'the idle PATCH cut by the gateway');
    await eventually(async () => (await offsetOf(url)) === 4, 'the 4 bytes that arrived are kept');
    const rest = await patch(url, 4, Buffer.from('456789'));
    assert.equal(rest.status, 204);
    assert.equal(await readFile(path.join(dir, 'idle.bin'), 'utf8'), '0123456789');
  });

  it('a DELETE right after the browser cut its PATCH (a cancel) ends the upload: 204, and nothing is left', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const url = await createUpload(base, 'cancelled.bin', 1000);
    const port = Number(new URL(base).port);
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => {});
    socket.write(`PATCH ${new URL(url).pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: ${TUS_CONTENT_TYPE}\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(300)}`);
    await eventually(async () => (await partialFiles(dir)).length > 0, 'the PATCH is under way');
    socket.destroy();
    // At once, as tus-js-client's abort does: the put still winding down must not make it 503 "Range busy".
    const deleted = await fetch(url, { method: 'DELETE', headers: TUS });
    assert.equal(deleted.status, 204, await deleted.text());
    assert.equal((await head(url)).status, 404);
    await eventually(async () => (await partialFiles(dir)).length === 0, 'the partial is gone');
  });

  it('a checksummed chunk over the spool limit is refused 413 before its body', async (t) => {
    const { app } = await startStack(t);
    const base = await listen(app);
    const url = await createUpload(base, 'c.bin', 10);
    const port = Number(new URL(base).port);
    const answer = await rawRequest(
      port,
      `PATCH ${new URL(url).pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: ${TUS_CONTENT_TYPE}\r\n` +
        `Upload-Checksum: ${checksumOf(Buffer.from('x'))}\r\nContent-Length: ${TUS_MAX_CHECKSUM_CHUNK_BYTES + 1}\r\n\r\nx`,
    );
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.equal(await offsetOf(url), 0);
  });
});
