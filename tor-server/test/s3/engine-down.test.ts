import assert from 'node:assert/strict';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, sha256 } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { LineClient, patternBytes } from '../helpers.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { NO_ENGINE, engine, getObject, startS3Server } from './s3-helpers.js';

const BIG = 20 * 1024 * 1024;
// Retries included, a request to a stopped engine fails within this long.
const FAIL_MS = 30_000;
const UNREACHABLE = '(the S3 engine is unreachable (ECONNRESET))';

describe('the S3 engine going away', { skip: NO_ENGINE }, () => {
  it('mid-download: the download is cut, commands get a clear Server error meanwhile, and all works again once it is back', async (t) => {
    const proxy = await CuttableProxy.start(t, engine!.endpoint);
    const { port, server } = await startS3Server(t, { endpoint: proxy.url });
    const data = patternBytes(BIG, 7);
    const uploader = await LineClient.connect(t, port);
    assert.deepEqual(await uploader.upload('big.bin', data, 60_000), [Reply.OK, Reply.OK, Reply.END]);

    const reader = await LineClient.connect(t, port);
    assert.deepEqual([await reader.request('download big.bin'), await reader.line(), await reader.line()], [Reply.OK, 'found', String(BIG)]);
    await reader.bytes(1024 * 1024);
    proxy.down();
    // Too late for a reply line: the connection is cut, short of the size it announced.
    const rest = await reader.rest(FAIL_MS);
    assert.ok(rest.length < BIG - 1024 * 1024, `only part of the file arrived (${rest.length} more bytes)`);

    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show', FAIL_MS), `Server error: could not list the files ${UNREACHABLE}`);
    assert.equal(await client.request('download big.bin', FAIL_MS), `Server error: could not open big.bin ${UNREACHABLE}`);
    assert.equal(await client.request('stat big.bin', FAIL_MS), `Server error: could not read the details of big.bin ${UNREACHABLE}`);
    assert.equal(server.storeState().state, `last error: the S3 engine is unreachable (ECONNRESET)`);

    proxy.up();
    assert.equal(sha256(await client.download('download big.bin', 60_000)), sha256(data));
    assert.equal(server.storeState().state, 'reachable');
  });

  it('mid-upload: the upload fails with a Server error, nothing becomes visible, and the name is free once it is back', async (t) => {
    const proxy = await CuttableProxy.start(t, engine!.endpoint);
    const { port, bucket, dir } = await startS3Server(t, { endpoint: proxy.url });
    const data = patternBytes(BIG, 8);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload cut.bin'), Reply.OK);
    assert.equal(await client.request(String(BIG)), Reply.OK);
    client.send(data.subarray(0, 12 * 1024 * 1024));
    // A part is on its way up when the engine goes.
    await eventually(async () => ((await engine!.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).length > 0, 'a multipart upload under way');
    proxy.down();
    client.send(data.subarray(12 * 1024 * 1024));
    assert.equal(await client.line(FAIL_MS * 2), 'Server error: the upload could not be stored and was discarded (the S3 engine is unreachable (ECONNRESET))');
    assert.equal(await getObject(bucket, 'cut.bin'), undefined);
    await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 0, 'the spool empty');

    proxy.up();
    assert.equal(await client.request('show', FAIL_MS), Reply.OK);
    assert.deepEqual(await client.listing(), []);
    assert.deepEqual(await client.upload('cut.bin', Buffer.from('second try')), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(String(await getObject(bucket, 'cut.bin')), 'second try');
  });
});
