import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorKind } from 'tor-server/protocol';
import { TorServer } from 'tor-server/server';
import { eventually, Scope, scratchDir } from 'test-support';
import { freeBytes } from '../../src/lib/spool.js';
import { listen, rawUpload, startApp, storedNames, type TestApp, startStack } from '../helpers.js';

const BOUNDARY = 'gw-refusal-boundary';
const MiB = 1024 * 1024;

/** One part of a multipart body: a `size` field, or a file part (without `filename` when it is undefined). */
type Part = { size: number } | { file: string | undefined; bytes: number };

function partHead(part: Part): string {
  if ('size' in part) return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="size"\r\n\r\n${part.size}\r\n`;
  const filename = part.file === undefined ? '' : `; filename="${part.file}"`;
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"${filename}\r\nContent-Type: application/octet-stream\r\n\r\n`;
}

/** The body's length without building it: file parts can be hundreds of megabytes. */
function formLength(parts: Part[]): number {
  return parts.reduce((sum, part) => sum + Buffer.byteLength(partHead(part)) + ('bytes' in part ? part.bytes + 2 : 0), 0) + Buffer.byteLength(`--${BOUNDARY}--\r\n`);
}

/** Streams the body from one reused 1 MiB buffer, never holding a file in memory. */
function* formBody(parts: Part[]): Generator<Buffer> {
  const block = Buffer.alloc(MiB, 0x61);
  for (const part of parts) {
    yield Buffer.from(partHead(part));
    if (!('bytes' in part)) continue;
    for (let left = part.bytes; left > 0; left -= MiB) yield left >= MiB ? block : block.subarray(0, left);
    yield Buffer.from('\r\n');
  }
  yield Buffer.from(`--${BOUNDARY}--\r\n`);
}

function postHead(host: string, length: number, extra = ''): string {
  return `POST /api/files HTTP/1.1\r\nHost: ${host}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

describe('POST /api/files and PUT /api/files/:name: refusals answered early, per-file outcomes', () => {
  const scope = new Scope();
  let dir: string;
  let spoolDir: string;
  let app: TestApp;
  let port: number;
  let host: string;

  before(async () => {
    ({ dir, spoolDir, app } = await startStack(scope, { app: { maxUploadSize: 1024 ** 3 } }));
    const base = new URL(await listen(app));
    port = Number(base.port);
    host = base.host;
    await fs.writeFile(path.join(dir, 'taken.bin'), 'already here');
  });
  after(() => scope.close());

  // Connection: close, so that a form read to its end is closed at once too (the test waits for the close).
  const post = (parts: Part[], extra = '') => rawUpload(port, postHead(host, formLength(parts), `Connection: close\r\n${extra}`), formBody(parts), { closeWaitMs: 5000 });

  test('a file part without a file name is 400 with a message', async () => {
    const res = await post([{ size: 5 }, { file: undefined, bytes: 5 }]);
    assert.equal(res.status, 400);
    const body = JSON.parse(res.body);
    assert.equal(body.files.length, 1);
    assert.match(body.files[0].error, /a file part needs a file name/);
  });

  test('more files than the limit (1000): the first 1000 are stored, each one after is reported as not stored (207)', { timeout: 30_000 }, async () => {
    const names = Array.from({ length: 1002 }, (_, i) => `many-${String(i).padStart(4, '0')}.txt`);
    const res = await post(names.flatMap((name) => [{ size: 1 }, { file: name, bytes: 1 }]));
    assert.equal(res.status, 207);
    const { files } = JSON.parse(res.body);
    assert.equal(files.length, 1002);
    assert.deepEqual(files.slice(0, 1000), names.slice(0, 1000).map((name) => ({ name, size: 1, ok: true })));
    for (const [i, file] of files.slice(1000).entries()) {
      assert.deepEqual({ ...file, error: undefined }, { name: names[1000 + i], size: 1, ok: false, error: undefined });
      assert.match(file.error, /not stored: a form may carry at most 1000 files/);
    }
    assert.deepEqual((await storedNames(dir)).filter((name) => name.startsWith('many-')), names.slice(0, 1000));
  });

  test('statuses: 201 when all are stored, the failure\'s own status when none are, 207 when some are', async () => {
    assert.equal((await post([{ size: 1 }, { file: 'status-a.txt', bytes: 1 }])).status, 201);
    const none = await post([{ size: 1 }, { file: 'taken.bin', bytes: 1 }]);
    assert.equal(none.status, 409);
    assert.deepEqual(JSON.parse(none.body), { files: [{ name: 'taken.bin', size: 1, ok: false, error: `${ErrorKind.FILE_EXISTS}: taken.bin` }] });
    const some = await post([{ size: 1 }, { file: 'status-b.txt', bytes: 1 }, { size: 1 }, { file: 'taken.bin', bytes: 1 }, { size: 1 }, { file: 'status-c.txt', bytes: 1 }]);
    assert.equal(some.status, 207);
    // The form stops at the refusal: what came after it was never read.
    assert.deepEqual(JSON.parse(some.body).files.map((f: { name: string; ok: boolean }) => [f.name, f.ok]), [['status-b.txt', true], ['taken.bin', false]]);
    assert.ok(!(await storedNames(dir)).includes('status-c.txt'));
  });

  test('a 200 MB form for a name that exists is refused (409) while a small part of it was sent, and the connection is closed', { timeout: 30_000 }, async () => {
    const parts: Part[] = [{ size: 200 * MiB }, { file: 'taken.bin', bytes: 200 * MiB }];
    const res = await post(parts);
    assert.equal(res.status, 409);
    assert.equal(JSON.parse(res.body).files[0].error, `${ErrorKind.FILE_EXISTS}: taken.bin`);
    assert.ok(res.sentBeforeAnswer < formLength(parts) / 10, `the answer came after ${res.sentBeforeAnswer} bytes`);
    assert.equal(res.closed, true, 'the gateway closed the connection');
  });

  test('a part without a size hint is checked against the tor-server before it is spooled: a taken name is 409 with nothing spooled', { timeout: 30_000 }, async () => {
    const parts: Part[] = [{ file: 'taken.bin', bytes: 100 * MiB }];
    const res = await post(parts);
    assert.equal(res.status, 409);
    assert.equal(JSON.parse(res.body).files[0].error, `${ErrorKind.FILE_EXISTS}: taken.bin`);
    assert.ok(res.sentBeforeAnswer < formLength(parts) / 10, `the answer came after ${res.sentBeforeAnswer} bytes`);
    assert.deepEqual(await fs.readdir(spoolDir), []);
  });

  test('a part without a size hint that would not fit in the spool folder is 507, its spool file removed', { timeout: 30_000 }, async (t) => {
    const tight = await startApp(t, app.upstream.port, { spoolDir, spoolReserveBytes: (await freeBytes(spoolDir)) - 2 * MiB });
    const tightPort = Number(new URL(await listen(tight)).port);
    const parts: Part[] = [{ file: 'too-big-to-spool.bin', bytes: 64 * MiB }];
    const res = await rawUpload(tightPort, postHead(`127.0.0.1:${tightPort}`, formLength(parts)), formBody(parts), { closeWaitMs: 5000 });
    assert.equal(res.status, 507);
    assert.match(JSON.parse(res.body).files[0].error, new RegExp(`^${ErrorKind.NO_SPACE}`));
    assert.deepEqual(await fs.readdir(spoolDir), []);
    assert.ok(!(await storedNames(dir)).includes('too-big-to-spool.bin'));
  });

  test('Expect: 100-continue on PUT: a taken name is 409 before a byte of the body is sent; a free one gets 100 Continue, then 201', async () => {
    const refused = await rawUpload(port, `PUT /api/files/taken.bin HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${10 * MiB}\r\nExpect: 100-continue\r\n\r\n`, formBody([]), { expectContinue: true, closeWaitMs: 5000 });
    assert.deepEqual(refused.interim, []);
    assert.equal(refused.status, 409);
    assert.equal(refused.sentBeforeAnswer, 0);
    const accepted = await rawUpload(port, `PUT /api/files/continued.txt HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`, [Buffer.from('hello')], { expectContinue: true });
    assert.deepEqual(accepted.interim, ['HTTP/1.1 100 Continue']);
    assert.equal(accepted.status, 201);
    assert.equal(await fs.readFile(path.join(dir, 'continued.txt'), 'utf8'), 'hello');
  });

  test('Expect: 100-continue on a multipart POST is answered at once; a refused part then ends it early', async () => {
    // Large enough that what the socket buffers take before the answer (several MB on Linux) stays well under a tenth.
    const parts: Part[] = [{ size: 200 * MiB }, { file: 'taken.bin', bytes: 200 * MiB }];
    const res = await rawUpload(port, postHead(host, formLength(parts), 'Expect: 100-continue\r\n'), formBody(parts), { expectContinue: true, closeWaitMs: 5000 });
    assert.deepEqual(res.interim, ['HTTP/1.1 100 Continue']);
    assert.equal(res.status, 409);
    assert.ok(res.sentBeforeAnswer < formLength(parts) / 10, `the answer came after ${res.sentBeforeAnswer} bytes`);
  });
});

test('a form whose first part arrives after the tor-server dropped the idle early connection is still stored', async (t) => {
  const dir = await scratchDir(t);
  // The tor-server closes connections that send no command within 300 ms.
  const server = await TorServer.start({ host: '127.0.0.1', port: 0, dir, firstCommandTimeoutMs: 300, shutdownGraceMs: 0 });
  t.after(() => server.close(0));
  const app = await startApp(t, server.address().port);
  const base = new URL(await listen(app));
  const parts: Part[] = [{ size: 5 }, { file: 'late.txt', bytes: 5 }];
  async function* slowBody(): AsyncGenerator<Buffer> {
    const [first, ...rest] = [...formBody(parts)];
    yield first!;
    // Wait until the connection the gateway opened for this form has been dropped as idle.
    await eventually(() => server.connections.size === 0, 'the idle early connection to be dropped');
    yield* rest;
  }
  const res = await rawUpload(Number(base.port), postHead(base.host, formLength(parts), 'Connection: close\r\n'), slowBody());
  assert.equal(res.status, 201, res.body);
  assert.equal(await fs.readFile(path.join(dir, 'late.txt'), 'utf8'), 'aaaaa');
});
