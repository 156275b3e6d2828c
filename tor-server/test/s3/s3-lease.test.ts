import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, scratchDir, spawnTorServer } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, memoryLogger } from '../helpers.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { NO_ENGINE, engine, getObject, metadataOf, putObject, startS3Server } from './s3-helpers.js';

const LOST = 'another tor-server took over this bucket and prefix';

describe('the S3 lease', { skip: NO_ENGINE }, () => {
  it('a server killed on its work folder: the next server on that folder takes its lease at once, one on another folder waits for it to go stale', async (t) => {
    // This server only makes the bucket; it stops, and releases its lease.
    const maker = await startS3Server(t);
    await maker.server.close(0);
    const { bucket } = maker;
    const dir = await scratchDir(t, 'tor-s3-work-');
    const crashed = await spawnTorServer(t, {
      dir,
      args: ['--log-level', 'warn', '--store', 's3', '--s3-endpoint', engine!.endpoint, '--s3-bucket', bucket, '--s3-region', engine!.region],
      env: { ...process.env, ...engine!.env },
    });
    await crashed.kill();
    assert.ok((await getObject(bucket, '.tor-lease')) !== undefined, 'the killed server left its lease');

    await assert.rejects(startS3Server(t, { bucket }), /another tor-server is serving this bucket and prefix \(its lease \.tor-lease was renewed \d+ s ago\)/);
    const { logger, text } = memoryLogger();
    const next = await startS3Server(t, { bucket, dir, logger });
    assert.match(text(), /s3-lease-taken-over .*note="the server this work folder had before stopped without releasing it"/);
    const client = await LineClient.connect(t, next.port);
    assert.deepEqual(await client.upload('after-crash.txt', Buffer.from('x')), [Reply.OK, Reply.OK, Reply.END]);
  });

  it('a lease is fresh for three of its holder\'s own renewal intervals, whatever the interval of the server starting', async (t) => {
    const maker = await startS3Server(t);
    await maker.server.close(0);
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
    // Renewed 5 minutes ago by a server renewing every 10 minutes: held.
    await putObject(maker.bucket, '.tor-lease', '{}', { 'tor-owner': 'slow-renewer', 'tor-at': minutesAgo(5), 'tor-renew-ms': '600000' });
    await assert.rejects(startS3Server(t, { bucket: maker.bucket, s3LeaseRenewMs: 1000 }), /renewed 300 s ago\): .* expires 1800 s after its last renewal$/);
    // Renewed 31 minutes ago: stale.
    await putObject(maker.bucket, '.tor-lease', '{}', { 'tor-owner': 'slow-renewer', 'tor-at': minutesAgo(31), 'tor-renew-ms': '600000' });
    await startS3Server(t, { bucket: maker.bucket });
  });

  it('a server whose lease another took over refuses uploads and deletes, serves what it has, and says so in the console', async (t) => {
    const { port, bucket, server } = await startS3Server(t, { s3LeaseRenewMs: 200, openAccess: 'admin' });
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('before.txt', Buffer.from('kept')), [Reply.OK, Reply.OK, Reply.END]);
    // Another server took the prefix over (this one was out of touch with the engine too long).
    await putObject(bucket, '.tor-lease', '{}', { 'tor-owner': 'another-server', 'tor-at': new Date().toISOString() });
    await eventually(async () => server.storeState().state === `last error: ${LOST}`, 'the console to show the lease lost');

    assert.deepEqual(await client.upload('after.txt', Buffer.from('refused')), [Reply.OK, `Server error: the upload could not be stored and was discarded (${LOST})`]);
    assert.equal(await client.request('delete before.txt'), `Server error: could not delete before.txt (${LOST})`);
    assert.deepEqual(await client.download('download before.txt'), Buffer.from('kept'));
    assert.equal(await getObject(bucket, 'after.txt'), undefined);
    assert.equal((await metadataOf(bucket, '.tor-lease'))['tor-owner'], 'another-server', 'the other server\'s lease is left alone');
  });

  it('renewals failing while the engine is away for less than three of them keep the lease', async (t) => {
    const proxy = await CuttableProxy.start(t, engine!.endpoint);
    const { port, bucket, server } = await startS3Server(t, { endpoint: proxy.url, s3LeaseRenewMs: 500 });
    const renewedAt = async () => (await metadataOf(bucket, '.tor-lease'))['tor-at'];
    const before = await renewedAt();
    proxy.down();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    proxy.up();
    await eventually(async () => (await renewedAt()) !== before, 'a renewal once the engine is back');
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('still-mine.txt', Buffer.from('x')), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(server.storeState().state, 'reachable');
  });
});
