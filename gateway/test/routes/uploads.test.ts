import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { CutRelay, eventually, sha256 } from 'test-support';
import { DefaultHttpStack, Upload, type HttpRequest, type HttpResponse, type HttpStack } from 'tus-js-client';
import { ApiPath } from '../../src/api/index.js';
import { listen, startApp, startStack, storedNames } from '../helpers.js';
import { offsetOf, partialFiles, runTus } from './uploads-helpers.js';

const MiB = 1024 * 1024;
/**
 * For the client that resumes: the tor-server may still be recording the cut PATCH's last bytes
 * (a 503 "Range busy" meanwhile), which a tus client meets with a retry.
 */
const RESUME_RETRIES = [100, 200, 400, 800, 1600];

/** Bytes that differ at every offset, so a chunk stored at the wrong place shows. */
function pattern(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) data.writeUInt32LE(i >>> 0, i);
  return data;
}

/**
 * Uploads `size` bytes as `name` with tus-js-client (no retries) through a relay that cuts the
 * link after `cutEvery` bytes; resolves once it failed, with the upload URL (of the relay).
 */
async function cutUpload(t: TestContext, gatewayBase: string, name: string, size: number, cutEvery: number): Promise<{ url: string; relay: CutRelay; data: Buffer }> {
  const relay = await CutRelay.start(t, Number(new URL(gatewayBase).port), cutEvery);
  const data = pattern(size);
  let url = '';
  const first = runTus(data, { endpoint: `http://127.0.0.1:${relay.port}${ApiPath.uploads}`, metadata: { filename: name }, onUploadUrlAvailable: () => (url = first.upload.url!) });
  await assert.rejects(first.done);
  assert.equal(relay.cuts, 1);
  assert.match(url, /\/api\/uploads\/[a-z0-9]{32}$/);
  return { url, relay, data };
}

/**
 * tus-js-client's own HTTP stack, but the answer to the PATCH that completes the upload is lost
 * once: the request went through (the gateway committed), the client sees a cut connection.
 */
class LosingLastAnswer implements HttpStack {
  readonly #inner = new DefaultHttpStack({});
  readonly #size: number;
  /** Requests sent, by method. */
  readonly sent: string[] = [];
  lost = false;

  constructor(size: number) {
    this.#size = size;
  }

  createRequest(method: string, url: string): HttpRequest {
    const request = this.#inner.createRequest(method, url);
    this.sent.push(method);
    const send = request.send.bind(request);
    request.send = async (body: unknown): Promise<HttpResponse> => {
      const response = await send(body);
      if (method === 'PATCH' && !this.lost && response.getHeader('Upload-Offset') === String(this.#size)) {
        this.lost = true;
        throw new Error('the connection was cut before the answer was read');
      }
      return response;
    };
    return request;
  }

  getName(): string {
    return 'losing-last-answer';
  }
}

describe('tus-js-client uploads through the gateway', () => {
  it('a cut upload is resumed by a new client with the same URL, from where the server stands, to identical bytes', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const { url, relay, data } = await cutUpload(t, base, 'big.bin', 12 * MiB, 5 * MiB);
    // The server keeps what it had of the cut PATCH: some, not all.
    const kept = await eventually(async () => {
      const offset = await offsetOf(url);
      return offset > 0 && offset;
    }, 'the cut PATCH kept its first bytes');
    assert.ok(kept < data.length);
    assert.deepEqual(await storedNames(dir), []);

    relay.cutEvery = Infinity;
    const offsets: number[] = [];
    const second = runTus(data, {
      uploadUrl: url,
      metadata: { filename: 'big.bin' },
      retryDelays: RESUME_RETRIES,
      onBeforeRequest: (request) => {
        if (request.getMethod() === 'PATCH') offsets.push(Number(request.getHeader('Upload-Offset')));
      },
    });
    await second.done;
    assert.equal(sha256(await readFile(path.join(dir, 'big.bin'))), sha256(data));
    assert.deepEqual(await partialFiles(dir), []);
    // Resumed where the server stood, never sent again from zero.
    assert.ok(offsets.length > 0 && offsets[0]! >= kept && !offsets.includes(0), `PATCH offsets ${offsets.join(', ')} after ${kept} kept`);
  });

  it('with retries, one client finishes by itself through a link cut every 3 MiB, in chunks', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const relay = await CutRelay.start(t, Number(new URL(base).port), 3 * MiB);
    const data = pattern(10 * MiB);
    const { done } = runTus(data, {
      endpoint: `http://127.0.0.1:${relay.port}${ApiPath.uploads}`,
      metadata: { filename: 'flaky.bin' },
      chunkSize: 2 * MiB,
      retryDelays: [0, 50, 100, 200, 200, 200, 200, 200, 200, 200],
    });
    await done;
    assert.ok(relay.cuts >= 3, `${relay.cuts} cuts`);
    assert.equal(sha256(await readFile(path.join(dir, 'flaky.bin'))), sha256(data));
    assert.deepEqual(await partialFiles(dir), []);
  });

  it('a restarted gateway resumes the upload: it keeps nothing of it', async (t) => {
    const { app, dir, server } = await startStack(t);
    const firstBase = await listen(app);
    const { url, data } = await cutUpload(t, firstBase, 'restart.bin', 9 * MiB, 4 * MiB);
    await eventually(async () => (await offsetOf(url)) > 0, 'the cut PATCH kept its first bytes');
    await app.close();

    const again = await startApp(t, server.address().port);
    const secondBase = await listen(again);
    const second = runTus(data, { uploadUrl: `${secondBase}${new URL(url).pathname}`, metadata: { filename: 'restart.bin' }, retryDelays: RESUME_RETRIES });
    await second.done;
    assert.equal(sha256(await readFile(path.join(dir, 'restart.bin'))), sha256(data));
  });

  it('creation-with-upload: the whole small file goes in the POST', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const data = pattern(64 * 1024);
    await runTus(data, { endpoint: `${base}${ApiPath.uploads}`, metadata: { filename: 'small.bin' }, uploadDataDuringCreation: true }).done;
    assert.deepEqual(await readFile(path.join(dir, 'small.bin')), data);
  });

  it('termination: Upload.terminate throws the partial away', async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const { url } = await cutUpload(t, base, 'term.bin', 4 * MiB, 2 * MiB);
    await eventually(async () => (await partialFiles(dir)).length > 0, 'the partial is on the server');
    await Upload.terminate(`${base}${new URL(url).pathname}`, { retryDelays: [0, 100, 200, 400] });
    assert.deepEqual(await partialFiles(dir), []);
    assert.deepEqual(await storedNames(dir), []);
  });

  it("the last PATCH answer lost: the retry's HEAD finds the upload complete and the client finishes, without a second POST", async (t) => {
    const { app, dir } = await startStack(t);
    const base = await listen(app);
    const data = pattern(3 * MiB);
    const httpStack = new LosingLastAnswer(data.length);
    await runTus(data, { endpoint: `${base}${ApiPath.uploads}`, metadata: { filename: 'once.bin' }, chunkSize: MiB, httpStack, retryDelays: [0, 100] }).done;
    assert.equal(httpStack.lost, true);
    assert.deepEqual(httpStack.sent.filter((method) => method === 'POST'), ['POST']);
    assert.equal(httpStack.sent.at(-1), 'HEAD');
    assert.deepEqual(await storedNames(dir), ['once.bin']);
    assert.deepEqual(await readFile(path.join(dir, 'once.bin')), data);
  });
});
