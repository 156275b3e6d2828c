import assert from 'node:assert/strict';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { eventually, scratchDir, sha256, within, WAIT_MS } from 'test-support';
import { ErrorKind, Reply } from '../../src/protocol/constants.js';
import { PARTIALS_DIR_NAME } from '../../src/server/partials/partial-store.js';
import { PARTIALS_KEY_DIR } from '../../src/server/store/s3/s3-partials.js';
import { LineClient, patternBytes } from '../helpers.js';
import { begin, put, status } from '../server/resumable-helpers.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { NO_ENGINE, engine, getObject, metadataOf, putObject, startS3Server } from './s3-helpers.js';

const MIB = 1024 * 1024;
// The S3 store's part size for files of the default largest size.
const PART = 8 * MIB;
// Commits copy and hash tens of MiB on a shared machine.
const COMMIT_MS = 60_000;
// Retries included, a request to a stopped engine fails within this long.
const FAIL_MS = 30_000;

/** The multipart uploads of partials in the bucket, as [id, uploadId]. */
async function partialUploads(bucket: string): Promise<[string, string][]> {
  const page = await engine!.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: PARTIALS_KEY_DIR }));
  return (page.Uploads ?? []).map((upload) => [upload.Key!.slice(PARTIALS_KEY_DIR.length), upload.UploadId!]);
}

/** The part numbers the engine has of a partial's upload. */
async function uploadedParts(bucket: string, id: string): Promise<number[]> {
  const upload = (await partialUploads(bucket)).find(([owner]) => owner === id);
  if (!upload) return [];
  const page = await engine!.client.send(new ListPartsCommand({ Bucket: bucket, Key: PARTIALS_KEY_DIR + id, UploadId: upload[1] }));
  return (page.Parts ?? []).map((part) => part.PartNumber!).sort((a, b) => a - b);
}

/** Every key in the bucket (visible files, hidden objects, the lease). */
async function keys(bucket: string): Promise<string[]> {
  return ((await engine!.client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((object) => object.Key!).sort();
}

/** The files of the local partials folder, and the bytes their part files hold. */
async function localParts(dir: string): Promise<{ files: string[]; bytes: number }> {
  const folder = path.join(dir, PARTIALS_DIR_NAME);
  const files = (await readdir(folder)).sort();
  let bytes = 0;
  for (const file of files) if (file.endsWith('.part')) bytes += (await stat(path.join(folder, file))).size;
  return { files, bytes };
}

/** Nothing of a partial left in the bucket: no multipart upload, no hidden object. */
async function nothingHidden(bucket: string): Promise<void> {
  assert.deepEqual(await partialUploads(bucket), []);
  assert.deepEqual((await keys(bucket)).filter((key) => key.startsWith(PARTIALS_KEY_DIR)), []);
}

/**
 * A server on a new work folder and bucket, a partial of `data` begun there with its first `sent`
 * bytes put, then the server stopped once every whole part is in the engine (and off local disk).
 */
async function stoppedWithPartial(t: TestContext, name: string, data: Buffer, sent: number, announced: string | undefined): Promise<{ dir: string; bucket: string; id: string }> {
  const dir = await scratchDir(t, 'tor-s3-work-');
  const { port, bucket, server } = await startS3Server(t, { dir });
  const client = await LineClient.connect(t, port);
  const { id } = await begin(client, data.length, announced, name);
  assert.deepEqual(await put(client, id, 0, data.subarray(0, sent)), [Reply.OK, Reply.STORED]);
  const whole = Math.floor(sent / PART) + (sent === data.length && sent % PART !== 0 ? 1 : 0);
  await eventually(async () => (await uploadedParts(bucket, id)).length === whole, `${whole} parts in the engine`);
  await eventually(async () => (await localParts(dir)).files.every((file) => !file.endsWith('.part') || Number(file.split('.')[1]) >= whole), 'the parts gone from local disk');
  client.destroy();
  await within(server.close(0), WAIT_MS, 'the first server to stop');
  return { dir, bucket, id };
}

describe('resumable uploads on the S3 store as multipart uploads', { skip: NO_ENGINE }, () => {
  it('parts go up before commit; after a restart the upload resumes, commits to identical bytes with their sha256 read back; a wrong announced sha256 leaves nothing', async (t) => {
    const dir = await scratchDir(t, 'tor-s3-work-');
    const data = patternBytes(3 * PART + 5 * MIB + 3, 21);
    const other = patternBytes(2 * PART + 7, 22);
    const first = await startS3Server(t, { dir });
    const client = await LineClient.connect(t, first.port);
    const { id } = await begin(client, data.length, sha256(data), 'resumed.bin');
    const wrong = await begin(client, other.length, sha256(data), 'wrong.bin');
    assert.deepEqual(await put(client, id, 0, data.subarray(0, 2 * PART + MIB)), [Reply.OK, Reply.STORED]);
    assert.deepEqual(await put(client, wrong.id, 0, other.subarray(0, PART)), [Reply.OK, Reply.STORED]);
    await eventually(async () => (await uploadedParts(first.bucket, id)).join() === '1,2', 'parts 1 and 2 in the engine before any commit');
    await eventually(async () => (await uploadedParts(first.bucket, wrong.id)).join() === '1', 'part 1 of wrong.bin in the engine');
    // Only the part being filled waits locally.
    await eventually(async () => (await localParts(dir)).files.filter((file) => file.startsWith(id)).join() === `${id}.2.part,${id}.json`, 'only the unfinished part on local disk');
    client.destroy();
    await within(first.server.close(0), WAIT_MS, 'the first server to stop');

    const second = await startS3Server(t, { dir, bucket: first.bucket });
    const again = await LineClient.connect(t, second.port);
    assert.equal(await status(again, id), `have 0-${2 * PART + MIB}`);
    assert.deepEqual(await uploadedParts(first.bucket, id), [1, 2]);
    assert.deepEqual(await put(again, id, 2 * PART + MIB, data.subarray(2 * PART + MIB)), [Reply.OK, Reply.STORED]);
    assert.deepEqual([await again.request(`commit ${id}`, COMMIT_MS)], [Reply.END]);
    assert.equal(sha256((await getObject(first.bucket, 'resumed.bin'))!), sha256(data));
    assert.equal((await metadataOf(first.bucket, 'resumed.bin'))['tor-sha256'], sha256(data));

    assert.deepEqual(await put(again, wrong.id, PART, other.subarray(PART)), [Reply.OK, Reply.STORED]);
    assert.equal(await again.request(`commit ${wrong.id}`, COMMIT_MS), `Checksum mismatch: expected ${sha256(data)} got ${sha256(other)}`);
    assert.equal(await getObject(first.bucket, 'wrong.bin'), undefined);
    await nothingHidden(first.bucket);
    assert.deepEqual((await localParts(dir)).files, []);
    assert.equal(await again.request('show'), Reply.OK);
    assert.deepEqual((await again.listing()).map((row) => row.split('\t')[0]), ['resumed.bin']);
  });

  it('a sequential upload of 40 MiB keeps at most a few parts on local disk at every stored, and commits with its running sha256', async (t) => {
    const dir = await scratchDir(t, 'tor-s3-work-');
    const data = patternBytes(40 * MIB, 23);
    const { port, bucket } = await startS3Server(t, { dir });
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, data.length, undefined, 'sequential.bin');
    let most = 0;
    for (let at = 0; at < data.length; at += 3 * MIB) {
      assert.deepEqual(await put(client, id, at, data.subarray(at, at + 3 * MIB)), [Reply.OK, Reply.STORED]);
      most = Math.max(most, (await localParts(dir)).bytes);
    }
    assert.ok(most <= 4 * PART, `at most 4 parts of local disk (${most} bytes)`);
    assert.deepEqual([await client.request(`commit ${id}`, COMMIT_MS)], [Reply.END]);
    assert.equal(sha256((await getObject(bucket, 'sequential.bin'))!), sha256(data));
    assert.equal((await metadataOf(bucket, 'sequential.bin'))['tor-sha256'], sha256(data));
    await nothingHidden(bucket);
  });

  it('abort and expiry abort the multipart upload; a restarted server keeps the uploads of live partials', async (t) => {
    const dir = await scratchDir(t, 'tor-s3-work-');
    const data = patternBytes(2 * PART + 11, 24);
    const first = await startS3Server(t, { dir });
    const client = await LineClient.connect(t, first.port);
    const aborted = await begin(client, data.length, undefined, 'aborted.bin');
    assert.deepEqual(await put(client, aborted.id, 0, data.subarray(0, PART + 1)), [Reply.OK, Reply.STORED]);
    await eventually(async () => (await uploadedParts(first.bucket, aborted.id)).length === 1, 'a part in the engine');
    assert.equal(await client.request(`abort ${aborted.id}`), Reply.OK);
    await nothingHidden(first.bucket);
    assert.deepEqual((await localParts(dir)).files, []);

    const live = await begin(client, data.length, undefined, 'live.bin');
    assert.deepEqual(await put(client, live.id, 0, data.subarray(0, PART + 1)), [Reply.OK, Reply.STORED]);
    await eventually(async () => (await uploadedParts(first.bucket, live.id)).length === 1, 'a part in the engine');
    client.destroy();
    await within(first.server.close(0), WAIT_MS, 'the first server to stop');

    // A short TTL: the partial expires a moment after the restart.
    const second = await startS3Server(t, { dir, bucket: first.bucket, partialTtlMs: 3000 });
    assert.deepEqual((await partialUploads(first.bucket)).map(([owner]) => owner), [live.id]);
    const again = await LineClient.connect(t, second.port);
    assert.equal(await status(again, live.id), `have 0-${PART + 1}`);
    await eventually(async () => (await partialUploads(first.bucket)).length === 0, 'the expired partial aborted', 20_000);
    await nothingHidden(first.bucket);
    assert.deepEqual((await localParts(dir)).files, []);
  });

  it('at a restart, an upload the engine lost drops the ranges no longer anywhere, and an upload no partial owns is aborted', async (t) => {
    const data = patternBytes(2 * PART + 13, 27);
    const { dir, bucket, id } = await stoppedWithPartial(t, 'lost.bin', data, PART + MIB, sha256(data));
    // Someone aborts the partial's upload in the bucket, and leaves one of their own under the partials' prefix.
    const [[, uploadId]] = (await partialUploads(bucket)) as [[string, string]];
    await engine!.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: PARTIALS_KEY_DIR + id, UploadId: uploadId }));
    await engine!.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${PARTIALS_KEY_DIR}0123456789abcdef0123456789abcdef` }));

    const second = await startS3Server(t, { dir, bucket: bucket });
    assert.deepEqual(await partialUploads(bucket), []);
    const again = await LineClient.connect(t, second.port);
    // Part 1 is neither in the engine nor on local disk any more; part 2's first MiB still is.
    assert.equal(await status(again, id), `have ${PART}-${PART + MIB}`);
    assert.deepEqual(await put(again, id, 0, data.subarray(0, PART)), [Reply.OK, Reply.STORED]);
    assert.deepEqual(await put(again, id, PART + MIB, data.subarray(PART + MIB)), [Reply.OK, Reply.STORED]);
    assert.deepEqual([await again.request(`commit ${id}`, COMMIT_MS)], [Reply.END]);
    assert.equal(sha256((await getObject(bucket, 'lost.bin'))!), sha256(data));
    await nothingHidden(bucket);
  });

  it('a partial whose commit stored the file just before the server stopped is dropped at restart, the file left as it is', async (t) => {
    const data = patternBytes(2 * PART + 19, 30);
    const { dir, bucket, id } = await stoppedWithPartial(t, 'late.bin', data, data.length, undefined);
    // What a stop between the copy under the name (and the hidden object's removal) and the removal of the index leaves.
    const indexFile = path.join(dir, PARTIALS_DIR_NAME, `${id}.json`);
    const index = JSON.parse(await readFile(indexFile, 'utf8')) as { backend: Record<string, unknown> };
    await writeFile(indexFile, JSON.stringify({ ...index, backend: { ...index.backend, completed: true, sha256: sha256(data) } }));
    const [[, uploadId]] = (await partialUploads(bucket)) as [[string, string]];
    await engine!.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: PARTIALS_KEY_DIR + id, UploadId: uploadId }));
    await putObject(bucket, 'late.bin', data, { 'tor-sha256': sha256(data) });

    const second = await startS3Server(t, { dir, bucket: bucket });
    const again = await LineClient.connect(t, second.port);
    assert.match(await again.request(`status ${id}`), new RegExp(`^${ErrorKind.UNKNOWN_UPLOAD}: `));
    assert.equal(sha256((await getObject(bucket, 'late.bin'))!), sha256(data));
    assert.deepEqual((await localParts(dir)).files, []);
  });

  it('a partial an earlier version left whole in <id>.data resumes as parts and commits to identical bytes', async (t) => {
    const data = patternBytes(2 * PART + 17, 29);
    const { dir, bucket, id } = await stoppedWithPartial(t, 'old.bin', data, 3 * MIB, sha256(data));
    // What an earlier version wrote: the index without its `backend` field, the bytes whole in <id>.data.
    const folder = path.join(dir, PARTIALS_DIR_NAME);
    const { backend: _dropped, ...old } = JSON.parse(await readFile(path.join(folder, `${id}.json`), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(folder, `${id}.json`), JSON.stringify({ ...old, ranges: [[0, 3 * MIB], [PART + MIB, 2 * PART]] }));
    const whole = Buffer.alloc(data.length);
    data.copy(whole, 0, 0, 3 * MIB);
    data.copy(whole, PART + MIB, PART + MIB, 2 * PART);
    await writeFile(path.join(folder, `${id}.data`), whole);
    await rm(path.join(folder, `${id}.0.part`), { force: true });

    const second = await startS3Server(t, { dir, bucket: bucket });
    const again = await LineClient.connect(t, second.port);
    assert.equal(await status(again, id), `have 0-${3 * MIB},${PART + MIB}-${2 * PART}`);
    assert.ok(!(await localParts(dir)).files.includes(`${id}.data`));
    assert.deepEqual(await put(again, id, 3 * MIB, data.subarray(3 * MIB, PART + MIB)), [Reply.OK, Reply.STORED]);
    assert.deepEqual(await put(again, id, 2 * PART, data.subarray(2 * PART)), [Reply.OK, Reply.STORED]);
    assert.deepEqual([await again.request(`commit ${id}`, COMMIT_MS)], [Reply.END]);
    assert.equal(sha256((await getObject(bucket, 'old.bin'))!), sha256(data));
    await nothingHidden(bucket);
  });

  it('with the engine stopped mid-put the bytes are stored locally, a commit is a clear Server error that keeps the upload, and it commits once the engine is back', async (t) => {
    const proxy = await CuttableProxy.start(t, engine!.endpoint);
    const { port, bucket, dir } = await startS3Server(t, { endpoint: proxy.url });
    const data = patternBytes(3 * PART + 9, 25);
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, data.length, sha256(data), 'outage.bin');
    assert.deepEqual(await put(client, id, 0, data.subarray(0, PART + MIB)), [Reply.OK, Reply.STORED]);
    await eventually(async () => (await uploadedParts(bucket, id)).length === 1, 'part 1 in the engine');
    proxy.down();
    assert.deepEqual(await put(client, id, PART + MIB, data.subarray(PART + MIB)), [Reply.OK, Reply.STORED]);
    assert.equal(await status(client, id), `have 0-${data.length}`);
    // The parts that could not go up wait on local disk.
    assert.deepEqual((await localParts(dir)).files, [`${id}.1.part`, `${id}.2.part`, `${id}.3.part`, `${id}.json`]);
    assert.match(await client.request(`commit ${id}`, FAIL_MS * 3), /^Server error: .*the S3 engine is unreachable \(ECONNRESET\)\)?$/);
    assert.equal(await status(client, id), `have 0-${data.length}`);

    proxy.up();
    assert.deepEqual([await client.request(`commit ${id}`, COMMIT_MS)], [Reply.END]);
    assert.equal(sha256((await getObject(bucket, 'outage.bin'))!), sha256(data));
    assert.equal((await metadataOf(bucket, 'outage.bin'))['tor-sha256'], sha256(data));
    await nothingHidden(bucket);
  });

  it('puts from two connections out of order (parts completed out of order) commit to identical bytes', async (t) => {
    const { port, bucket } = await startS3Server(t);
    const data = patternBytes(4 * PART - 3, 26);
    const one = await LineClient.connect(t, port);
    const two = await LineClient.connect(t, port);
    const { id } = await begin(one, data.length, sha256(data), 'shuffled.bin');
    // Each connection sends its half from the end backwards, in pieces that straddle part boundaries.
    const piece = 5 * MIB;
    const send = async (client: LineClient, from: number, to: number) => {
      for (let end = to; end > from; end -= piece) {
        const start = Math.max(from, end - piece);
        assert.deepEqual(await put(client, id, start, data.subarray(start, end)), [Reply.OK, Reply.STORED]);
      }
    };
    await Promise.all([send(one, 0, 2 * PART - MIB), send(two, 2 * PART - MIB, data.length)]);
    assert.deepEqual([await one.request(`commit ${id}`, COMMIT_MS)], [Reply.END]);
    assert.equal(sha256((await getObject(bucket, 'shuffled.bin'))!), sha256(data));
    await nothingHidden(bucket);
  });

  it('a put whose parts cannot wait on the local work folder (filled by another writer) gets Not enough space, a smaller one is stored', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tor-s3-small-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      t.skip(`cannot mount a tmpfs: ${(error as Error).message}`);
      return;
    }
    const { port } = await startS3Server(t, { dir });
    // Registered after the server's own cleanup, so the server is gone before the unmount.
    t.after(async () => {
      execFileSync('umount', ['-l', dir]);
      await rm(dir, { recursive: true, force: true });
    });
    const data = patternBytes(100 * MIB, 28);
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, data.length, undefined, 'big.bin');
    const { bavail, bsize } = await statfs(dir);
    await writeFile(path.join(dir, '.filler'), Buffer.alloc(bavail * bsize - 10 * MIB));
    assert.match((await put(client, id, 0, data.subarray(0, 40 * MIB)))[0]!, /^Not enough space on the server: \d+ bytes of local work space asked, \d+ available$/);
    assert.deepEqual(await put(client, id, 0, data.subarray(0, 4 * MIB)), [Reply.OK, Reply.STORED]);
    assert.equal(await status(client, id), `have 0-${4 * MIB}`);
  });
});
