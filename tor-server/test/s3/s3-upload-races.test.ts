import assert from 'node:assert/strict';
import { GetObjectTaggingCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, sha256, within } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { STREAMED_PART_BYTES } from '../../src/server/store/s3/s3-upload.js';
import { LineClient, patternBytes } from '../helpers.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { answerHookProxy } from './hook-proxy.js';
import { NO_ENGINE, engine, startS3Server } from './s3-helpers.js';

// Attacks on the streamed seed upload: cuts at every stage, a hung engine, and other programs writing the name while it is stored.

// One streamed part and a bit: every stage of a streamed upload, kept small for the test engine.
const SIZE = STREAMED_PART_BYTES + 4 * 1024 * 1024;
const STOP_MS = 30_000;
const CLEAN_MS = 30_000;

async function multipartUploads(bucket: string): Promise<number> {
  return ((await engine!.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).length;
}

async function visibleKeys(bucket: string): Promise<string[]> {
  const listed = await engine!.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((o) => o.Key!).filter((key) => !key.startsWith('.'));
}

describe('a streamed seed upload cut by its client', { skip: NO_ENGINE }, () => {
  const data = patternBytes(SIZE, 11);
  for (const [stage, sent] of [
    ['before the first byte', 0],
    ['inside the first part', 10 * 1024 * 1024],
    ['exactly at a part bound', STREAMED_PART_BYTES],
    ['one byte short of the end', SIZE - 1],
  ] as const) {
    it(`${stage}: nothing visible, no multipart upload left, the engine not blamed, the server stops`, async (t) => {
      const { port, bucket, dir, server } = await startS3Server(t);
      const client = await LineClient.connect(t, port);
      assert.equal(await client.request('upload cut.bin'), Reply.OK);
      assert.equal(await client.request(String(SIZE)), Reply.OK);
      if (sent > 0) client.send(data.subarray(0, sent));
      if (sent > 0) await eventually(async () => (await multipartUploads(bucket)) > 0, 'a multipart upload under way', CLEAN_MS);
      client.destroy();
      await eventually(async () => (await multipartUploads(bucket)) === 0, 'every multipart upload aborted', CLEAN_MS);
      assert.deepEqual(await visibleKeys(bucket), []);
      assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
      // A client that went away is no failure of the engine's: the console must not say it is.
      assert.equal(server.storeState().state, 'reachable');
      await within(server.close(0), STOP_MS, 'the server to stop');
    });
  }
});

describe('the sha256 tags of a streamed upload', { skip: NO_ENGINE }, () => {
  it('another writer replacing the object between complete and tagging: hash must not answer our sha256 for its bytes', async (t) => {
    let bucket = '';
    const foreign = Buffer.from('written by another program right after the upload completed');
    let replaced = false;
    const endpoint = await answerHookProxy(
      t,
      engine!.endpoint,
      // CompleteMultipartUpload: POST /<bucket>/race.bin?uploadId=...
      (req) => req.method === 'POST' && /\/race\.bin\?uploadId=/.test(req.url ?? ''),
      async () => {
        await engine!.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'race.bin', Body: foreign, ContentLength: foreign.length }));
        replaced = true;
      },
    );
    const started = await startS3Server(t, { endpoint });
    bucket = started.bucket;
    const data = patternBytes(20 * 1024 * 1024 + 7, 12);
    const client = await LineClient.connect(t, started.port);
    assert.deepEqual(await client.upload('race.bin', data, 60_000), [Reply.OK, Reply.OK, Reply.END]);
    assert.ok(replaced);
    const head = await engine!.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'race.bin' }));
    assert.equal(head.ContentLength, foreign.length, 'the other writer\'s object is what the bucket holds');
    const tags = Object.fromEntries(((await engine!.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'race.bin' }))).TagSet ?? []).map((tag) => [tag.Key, tag.Value]));
    // What the bucket now claims about the foreign bytes (kept across restarts):
    const other = await LineClient.connect(t, started.port);
    const answer = [await other.request('hash race.bin', 60_000), await other.line(60_000)];
    assert.deepEqual({ answer, tag: tags['tor-sha256'] }, { answer: [Reply.OK, `sha256 ${sha256(foreign)}`], tag: undefined }, 'the foreign object must not be tagged with, nor hashed as, the sha256 of our upload');
  });
});

describe('a failed completion of a streamed upload', { skip: NO_ENGINE }, () => {
  it('another writer\'s file put at the name meanwhile is never deleted by the clean-up of our claim', async (t) => {
    let bucket = '';
    const foreign = Buffer.from('written by another program while our completion failed');
    const endpoint = await answerHookProxy(
      t,
      engine!.endpoint,
      (req) => req.method === 'POST' && /\/victim\.bin\?uploadId=/.test(req.url ?? ''),
      async () => {
        await engine!.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'victim.bin', Body: foreign, ContentLength: foreign.length }));
      },
      { failMatched: true },
    );
    const started = await startS3Server(t, { endpoint });
    bucket = started.bucket;
    const data = patternBytes(20 * 1024 * 1024 + 9, 14);
    const client = await LineClient.connect(t, started.port);
    const answer = await client.upload('victim.bin', data, 60_000);
    const there = await engine!.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'victim.bin' })).then(
      (head) => head.ContentLength,
      () => 'deleted',
    );
    assert.deepEqual({ reply: answer[2]?.startsWith('Server error: ') ? 'Server error' : answer[2], there }, { reply: 'Server error', there: foreign.length }, `upload answered ${answer.join(' | ')}`);
  });
});

describe('the sha256 a small upload is cached under', { skip: NO_ENGINE }, () => {
  it('another writer replacing the object between its PutObject and the HEAD after: hash must answer the sha256 of what is stored', async (t) => {
    let bucket = '';
    const foreign = Buffer.from('written by another program right after the upload was stored');
    let replaced = false;
    const endpoint = await answerHookProxy(
      t,
      engine!.endpoint,
      (req) => req.method === 'PUT' && /\/small-race\.bin(\?|$)/.test(req.url ?? '') && req.headers['content-length'] !== '0',
      async () => {
        await engine!.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'small-race.bin', Body: foreign, ContentLength: foreign.length }));
        replaced = true;
      },
    );
    const started = await startS3Server(t, { endpoint });
    bucket = started.bucket;
    const data = Buffer.from('the bytes the client uploaded');
    const client = await LineClient.connect(t, started.port);
    assert.deepEqual(await client.upload('small-race.bin', data), [Reply.OK, Reply.OK, Reply.END]);
    assert.ok(replaced);
    const other = await LineClient.connect(t, started.port);
    assert.deepEqual([await other.request('hash small-race.bin'), await other.line()], [Reply.OK, `sha256 ${sha256(foreign)}`]);
  });
});

describe('a streamed upload whose engine hangs mid-part', { skip: NO_ENGINE }, () => {
  it('fails with a Server error bounded by --s3-timeout, leaves nothing, and the next upload works', async (t) => {
    const proxy = await CuttableProxy.start(t, engine!.endpoint);
    const { port, bucket, server } = await startS3Server(t, { endpoint: proxy.url, s3IdleTimeoutMs: 1500 });
    const data = patternBytes(SIZE, 13);
    const client = await LineClient.connect(t, port);
    proxy.stall('PUT ');
    assert.equal(await client.request('upload hung.bin'), Reply.OK);
    assert.equal(await client.request(String(SIZE)), Reply.OK);
    client.send(data);
    const line = await client.line(60_000);
    assert.match(line, /^Server error: /);
    proxy.up();
    await eventually(async () => (await multipartUploads(bucket)) === 0, 'the multipart upload aborted', CLEAN_MS);
    assert.deepEqual(await visibleKeys(bucket), []);
    assert.deepEqual(await client.upload('hung.bin', Buffer.from('second try'), 30_000), [Reply.OK, Reply.OK, Reply.END]);
    client.destroy();
    await within(server.close(0), STOP_MS, 'the server to stop');
  });
});
