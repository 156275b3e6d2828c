import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeleteBucketCommand, DeleteObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { eventually, sha256 } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, patternBytes } from '../helpers.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { STALE_MARKER_MS } from '../../src/server/store/s3/s3-store.js';
import { NO_ENGINE, engine, getObject, putObject, startS3Server } from './s3-helpers.js';

// The engine's silence the server waits out (--s3-timeout), short so the test stays quick.
const IDLE_MS = 1500;
// A reply after a hung request: the idle deadline, its retries, and a loaded machine.
const REPLY_MS = 30_000;
// A listing left hanging for longer than the polls below take (cut by the server's deadline after).
const LISTING_IDLE_MS = 10_000;
const POLL_MS = 100;

describe('an S3 engine that hangs (takes requests and never answers)', { skip: NO_ENGINE }, () => {
  it('uploads and renames fail with a Server error after --s3-timeout of silence, and commits, renames and deletes work again once it answers', async (t) => {
    const proxy = await CuttableProxy.start(t, engine!.endpoint);
    const { port, bucket } = await startS3Server(t, { endpoint: proxy.url, s3IdleTimeoutMs: IDLE_MS, openAccess: 'admin' });
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('keep.txt', Buffer.from('kept')), [Reply.OK, Reply.OK, Reply.END]);

    // Every PUT (the stored object, a name's claim, a copy) hangs; lookups still answer.
    proxy.stall('PUT ');
    assert.equal(await client.request('upload hung.txt'), Reply.OK);
    assert.equal(await client.request('4'), Reply.OK);
    client.send(Buffer.from('hung'));
    assert.equal(await client.line(REPLY_MS), 'Server error: the upload could not be stored and was discarded (the S3 engine did not answer in time)');
    assert.equal(await client.request('rename keep.txt\tmoved.txt', REPLY_MS), 'Server error: could not rename keep.txt (the S3 engine did not answer in time)');

    // Nothing waits forever inside the change feed's lock: the next changes go through.
    proxy.up();
    assert.deepEqual([await client.request('rename keep.txt\tmoved.txt', REPLY_MS), await client.line(REPLY_MS)], [Reply.OK, 'renamed']);
    assert.deepEqual([await client.request('delete moved.txt', REPLY_MS), await client.line(REPLY_MS)], [Reply.OK, 'deleted']);
    assert.deepEqual(await client.upload('hung.txt', Buffer.from('second try'), REPLY_MS), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(String(await getObject(bucket, 'hung.txt')), 'second try');
    assert.equal(await getObject(bucket, 'keep.txt'), undefined);
  });

  it('a delete or complete the engine did but never answered: the rename is done and the upload stored, under one name, never lost', async (t) => {
    const proxy = await CuttableProxy.start(t, engine!.endpoint);
    const { port, bucket } = await startS3Server(t, { endpoint: proxy.url, s3IdleTimeoutMs: IDLE_MS, openAccess: 'admin' });
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('keep.txt', Buffer.from('kept')), [Reply.OK, Reply.OK, Reply.END]);

    proxy.stall('DELETE ', { applied: true });
    assert.deepEqual([await client.request('rename keep.txt\tmoved.txt', REPLY_MS), await client.line(REPLY_MS)], [Reply.OK, 'renamed']);
    assert.equal(String(await getObject(bucket, 'moved.txt')), 'kept');
    assert.equal(await getObject(bucket, 'keep.txt'), undefined);
    proxy.up();

    // A multipart upload (over one part): its parts go up, then only CompleteMultipartUpload's answer is lost.
    const data = patternBytes(20 * 1024 * 1024, 3);
    assert.equal(await client.request('upload big.bin'), Reply.OK);
    assert.equal(await client.request(String(data.length)), Reply.OK);
    client.send(data.subarray(0, data.length - 1));
    await eventually(async () => ((await engine!.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).length > 0, 'a multipart upload under way');
    proxy.stall('POST ', { applied: true });
    client.send(data.subarray(data.length - 1));
    assert.equal(await client.line(REPLY_MS * 2), Reply.END);
    assert.equal(sha256((await getObject(bucket, 'big.bin'))!), sha256(data));
  });

  it('polls wait for a slow listing rather than pile up, and a stale marker that cannot be deleted does not fail show', async (t) => {
    const proxy = await CuttableProxy.start(t, engine!.endpoint);
    const { port, bucket } = await startS3Server(t, { endpoint: proxy.url, s3IdleTimeoutMs: LISTING_IDLE_MS, s3PollIntervalMs: POLL_MS });
    proxy.stall('GET ');
    await eventually(() => proxy.stalledOpen > 0, 'a poll listing the bucket');
    // Many poll intervals pass during the one hung listing: no second listing starts meanwhile.
    await new Promise((resolve) => setTimeout(resolve, POLL_MS * 10));
    assert.equal(proxy.stalledOpen, 1);
    proxy.up();

    await putObject(bucket, 'left.bin', '', { 'tor-state': 'pending', 'tor-owner': 'another-server', 'tor-at': new Date(Date.now() - STALE_MARKER_MS - 60_000).toISOString() });
    proxy.stall('DELETE ');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show', REPLY_MS), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });
});

describe('an S3 bucket that is gone', { skip: NO_ENGINE }, () => {
  it('answers Server error naming the missing bucket, not Not found file', async (t) => {
    const { port, bucket } = await startS3Server(t, { openAccess: 'admin' });
    await engine!.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: '.tor-lease' }));
    await engine!.client.send(new DeleteBucketCommand({ Bucket: bucket }));
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('stat missing.txt', REPLY_MS), 'Server error: could not read the details of missing.txt (the S3 bucket does not exist)');
    assert.equal(await client.request('upload new.txt', REPLY_MS), `Server error: the S3 bucket ${bucket} does not exist: create it, or fix --s3-bucket`);
  });
});
